"""`hearttwin phantom` (placeholder until implemented)."""


def register(sub, common):
    p = sub.add_parser("phantom", parents=[common], help="(not implemented yet)")
    p.set_defaults(func=lambda args, progress: None)
