"""`hearttwin info PATH`: the series found under PATH, their geometry and warnings."""

from __future__ import annotations

import sys


def register(sub, common):
    p = sub.add_parser(
        "info", parents=[common],
        help="list the image series in a DICOM folder/file or NRRD/NIfTI/MHA volume",
        description="List every image series under PATH (size, spacing, LPS origin, cardiac "
        "phases, warnings), what was skipped and why, and which series would be used.",
    )
    # optional for argparse so an unknown option is reported before a missing PATH
    p.add_argument("path", metavar="PATH", nargs="?", help="DICOM folder or file, or a .nrrd/.nii/.nii.gz/.mha volume")
    p.add_argument("--series", metavar="N", help="mark series N as the one to use (number, 3.2 for "
                   "a sub-series, or #I for the I-th listed)")
    p.set_defaults(func=run, info_parser=p)


def run(args, progress) -> dict:
    from ..core.imaging import scan

    if args.path is None:
        args.info_parser.error("the following arguments are required: PATH")  # exits 2
    result = scan(args.path, progress=progress)
    if args.series is not None:
        result.select(args.series, how="requested with --series")
    data = result.to_dict()
    if not args.json:
        print_table(data, sys.stdout)
    return data


def _fmt(values, digits=2) -> str:
    return " x ".join(f"{v:.{digits}f}" for v in values) if values else "-"


def print_table(data: dict, out) -> None:
    rows = [("", "Series", "Modality", "Slices", "Size", "Spacing (mm)", "Phases", "Description")]
    for s in data["series"]:
        rows.append(("*" if s["selected"] else "", s["label"], s["modality"] or "-", str(s["slices"]),
                     " x ".join(str(v) for v in s["size"]), _fmt(s["spacing_mm"]), str(s["phases"]),
                     s["description"]))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        out.write("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() + "\n")
    out.write("\n")
    for s in data["series"]:
        if s["selected"]:
            out.write(f"Using series {s['label']}: {s['reason'].removeprefix('chosen: ')}\n")
            out.write(f"  origin (LPS, mm): {_fmt(s['origin_lps'], 1)}\n")
    if not any(s["selected"] for s in data["series"]):
        out.write("No series can be loaded as a 3D volume.\n")
    for s in data["series"]:
        for w in s["warnings"]:
            out.write(f"Warning (series {s['label']}): {w}\n")
    for item in data.get("skipped", []):
        out.write(f"Skipped {item['files']} {item['what']}: {item['why']}\n")
