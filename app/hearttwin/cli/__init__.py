"""The command line: one module per sub-command, a thin layer over the core.

Each sub-command module defines ``register(subparsers)`` which adds its parser
and sets ``func`` to a callable ``(args, progress) -> dict | None``. The
returned dict is printed as one JSON object with ``--json``; otherwise the
sub-command prints its own human-readable text. Errors from the core become
one line on stderr and the exit status of DESIGN.md (0 ok, 2 bad input,
1 other failures). This package never imports Qt.
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import sys

from .. import __version__
from ..core.errors import HeartTwinError, InputError
from ..core.jobs import NullProgress, TerminalProgress

#: sub-command name -> module under hearttwin.cli
SUBCOMMANDS = {
    "info": "info",
    "phantom": "phantom",
    "segment": "segment",
    "model": "model",
    "anonymise": "anonymise",
    "anonymize": "anonymise",
    "measure": "measure",
    "devices": "devices",
    "plan": "plan",
    "simulate": "simulate",
    "report": "report",
    "cohort": "cohort",
}

log = logging.getLogger("hearttwin.cli")


def common_options() -> argparse.ArgumentParser:
    """Options every sub-command shares (DESIGN.md command line contract)."""
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    p.add_argument("-o", "--output", help="where to write the output")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress output")
    return p


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # bad usage is bad input: exit 2, one line
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="hearttwin",
        description="HeartTwin: rehearse structural heart procedures on a digital twin. "
        "Without a sub-command, opens the desktop application.",
    )
    parser.add_argument("--version", action="version", version=f"HeartTwin {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    common = common_options()
    for module in dict.fromkeys(SUBCOMMANDS.values()):
        importlib.import_module(f"{__name__}.{module}").register(sub, common)
    return parser


def emit_json(result: dict) -> None:
    from ..core.history import json_default

    sys.stdout.write(json.dumps(result, indent=2, default=json_default) + "\n")
    sys.stdout.flush()


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s")
    progress = NullProgress() if args.quiet else TerminalProgress(sys.stderr)
    try:
        result = args.func(args, progress)
    except HeartTwinError as err:
        sys.stderr.write(f"hearttwin {args.command}: {err}\n")
        return err.exit_code
    except KeyboardInterrupt:
        sys.stderr.write(f"hearttwin {args.command}: interrupted\n")
        return 130
    except MemoryError:
        sys.stderr.write(f"hearttwin {args.command}: not enough memory for this input\n")
        return 1
    except OSError as err:  # disk full, permissions on output, ...
        sys.stderr.write(f"hearttwin {args.command}: {err.strerror or err} ({_safe_name(err)})\n")
        return 2 if isinstance(err, (FileNotFoundError, PermissionError, IsADirectoryError)) else 1
    if args.json and result is not None:
        emit_json(result)
    return 0


def _safe_name(err: OSError) -> str:
    from pathlib import Path

    return Path(err.filename).name if getattr(err, "filename", None) else "no file"


__all__ = ["main", "build_parser", "common_options", "InputError"]
