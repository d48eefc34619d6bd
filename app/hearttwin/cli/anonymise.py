"""`hearttwin anonymise PATH -o OUT`: a de-identified copy of one series.

The series is the one `hearttwin info` selects (or `--series N`); all its
files (every cardiac phase) are written to OUT with PS3.15 basic-profile
de-identification (see core/imaging/anonymise.py).
"""

from __future__ import annotations

import sys
from pathlib import Path

from ..core.errors import InputError


def register(sub, common):
    p = sub.add_parser(
        "anonymise", aliases=["anonymize"], parents=[common],
        help="write a de-identified copy of a DICOM series (PS3.15 basic profile)",
        description="Copy one DICOM series with names, IDs and dates removed, UIDs remapped "
        "consistently and private tags dropped; the output folder gets sequential file names.",
    )
    p.add_argument("path", metavar="PATH", help="DICOM folder or file")
    p.add_argument("--series", metavar="N", help="series to export (default: the one `info` selects)")
    p.add_argument("--pseudonym", default="ANONYMOUS", help="patient name written into the copy")
    p.add_argument("--force", action="store_true", help="allow writing into a non-empty folder")
    p.set_defaults(func=run)


def run(args, progress) -> dict:
    from ..core.imaging import scan
    from ..core.imaging.anonymise import Anonymiser, anonymise_files

    if not args.output:
        raise InputError("Say where to write the anonymised series with -o/--output FOLDER.")
    out = Path(args.output)
    if out.exists() and (not out.is_dir() or (any(out.iterdir()) and not args.force)):
        raise InputError(f"The output folder {out} is not empty; choose an empty folder or add --force.")
    result = scan(args.path, progress=progress)
    info = result.choose(args.series)
    if info.group is None:
        raise InputError(f"{info.name} is a {info.source} volume file, not DICOM; there is nothing to anonymise.")
    files = sorted({rec.path for rec in info.group.records})
    written = anonymise_files([Path(f) for f in files], out,
                              anonymiser=Anonymiser(pseudonym=args.pseudonym), progress=progress)
    summary = {"series": info.label, "files": len(written.files), "output": str(out),
               "warnings": written.warnings}
    if not args.json:
        sys.stdout.write(f"Wrote {len(written.files)} de-identified files of series {info.label} to {out}\n")
        for w in written.warnings:
            sys.stdout.write(f"Warning: {w}\n")
    return summary
