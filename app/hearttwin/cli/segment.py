"""`hearttwin segment PATH -o LABELS`: the 7 heart structures as a label map.

Automatic by default; `--seeds seeds.json` (points in LPS mm per structure)
switches to the seeded mode. The primary output format follows the suffix of
-o (.nrrd, .seg.nrrd, .nii, .nii.gz, .dcm for DICOM SEG); `--also` adds more
formats beside it (default: a Slicer .seg.nrrd, and a DICOM SEG when the
input is DICOM).
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

from ..core.errors import InputError

#: a seeds file is a few clicks; anything larger is not one
MAX_SEEDS_BYTES = 1_000_000
SUFFIXES = (".seg.nrrd", ".nii.gz", ".nrrd", ".nii", ".dcm")


def register(sub, common):
    p = sub.add_parser(
        "segment", parents=[common],
        help="label the heart: LV, RV, LA, RA, LV myocardium, aorta, pulmonary artery",
        description="Segment the 7 heart structures of a contrast-enhanced cardiac CT. Writes a "
        "label map (1 LV, 2 RV, 3 LA, 4 RA, 5 LV myocardium, 6 aorta, 7 pulmonary artery).",
    )
    p.add_argument("path", metavar="PATH", help="DICOM folder or file, or a NRRD/NIfTI/MHA volume")
    p.add_argument("--series", metavar="N", help="series to use (default: the one `info` selects)")
    p.add_argument("--phase", type=int, default=0, help="cardiac phase index of a multi-phase series")
    p.add_argument("--seeds", metavar="SEEDS.json",
                   help='seeded mode: {"LV": [[x, y, z], ...], "AO": [...], ...} points in LPS mm')
    p.add_argument("--also", default=None, metavar="FORMATS",
                   help="extra outputs beside -o, comma-separated from seg.nrrd, nrrd, nii.gz, nii, dcm "
                        "(default: seg.nrrd, plus dcm for DICOM input; 'none' for none)")
    p.set_defaults(func=run)


def output_paths(primary: Path, also: list[str]) -> list[Path]:
    name = primary.name
    for suffix in SUFFIXES:
        if name.lower().endswith(suffix):
            stem = name[: -len(suffix)]
            break
    else:
        raise InputError(f"Cannot tell the output format of {name}: use one of {', '.join(SUFFIXES)}.")
    paths = [primary]
    for fmt in also:
        extra = primary.with_name(f"{stem}.{fmt}")
        if extra == primary:
            extra = primary.with_name(f"{stem}.labels.{fmt}")
        if extra not in paths:
            paths.append(extra)
    return paths


def read_seeds(path: str) -> dict[int, list[tuple[float, float, float]]]:
    """Parse a seeds file: structure key (LV, AO, ...) or label number -> list of LPS points."""
    from ..core.segmentation.labels import structures

    p = Path(path)
    try:
        size = p.stat().st_size
    except OSError as err:
        raise InputError(f"The seeds file {p.name} cannot be read: {err.strerror}.") from None
    if size > MAX_SEEDS_BYTES:
        raise InputError(f"The seeds file {p.name} is {size} bytes; a seeds file holds a few points (limit 1 MB).")
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        where = f" (line {err.lineno}, column {err.colno})" if isinstance(err, json.JSONDecodeError) else ""
        raise InputError(f"The seeds file {p.name} is not valid JSON{where}.") from None
    if not isinstance(data, dict) or not data:
        raise InputError(f"The seeds file {p.name} must be an object like {{\"LV\": [[x, y, z]], \"AO\": [[x, y, z]]}}.")
    known = {s.key: s.label for s in structures()} | {str(s.label): s.label for s in structures()}
    seeds: dict[int, list[tuple[float, float, float]]] = {}
    for key, points in data.items():
        label = known.get(str(key).upper() if not str(key).isdigit() else str(key))
        if label is None:
            raise InputError(f"Unknown structure {key!r} in {p.name}; use {', '.join(s.key for s in structures())} "
                             "or label numbers 1-7.")
        if (isinstance(points, list) and len(points) == 3
                and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in points)):
            points = [points]  # a single point given without the outer list
        if not isinstance(points, list) or not points:
            raise InputError(f"Structure {key} in {p.name} needs a list of [x, y, z] points.")
        for pt in points:
            if (not isinstance(pt, list) or len(pt) != 3
                    or not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in pt)):
                raise InputError(f"Structure {key} in {p.name}: {pt!r} is not an [x, y, z] point in mm.")
        seeds.setdefault(label, []).extend(tuple(float(v) for v in pt) for pt in points)
    return seeds


def run(args, progress) -> dict:
    from ..core.imaging import load_volume, scan
    from ..core.segmentation.export import write_labels
    from ..core.segmentation.labels import label_volumes_ml, myocardial_mass_g

    if not args.output:
        raise InputError("Say where to write the label map with -o/--output LABELS.nrrd.")
    primary = Path(args.output)
    seeds = read_seeds(args.seeds) if args.seeds else None

    found = scan(args.path, progress=progress)
    series = found.choose(args.series)
    is_dicom = series.group is not None
    if args.also is None:
        also = ["seg.nrrd"] + (["dcm"] if is_dicom else [])
    elif args.also.strip().lower() == "none":
        also = []
    else:
        also = [a.strip().lstrip(".").lower() for a in args.also.split(",") if a.strip()]
        bad = [a for a in also if f".{a}" not in SUFFIXES]
        if bad:
            raise InputError(f"Unknown output format(s) {', '.join(bad)}; choose from seg.nrrd, nrrd, nii.gz, nii, dcm.")
    paths = output_paths(primary, also)
    if not is_dicom and any(p.name.lower().endswith(".dcm") for p in paths):
        raise InputError("A DICOM SEG needs a DICOM source series; this input is a volume file.")
    for p in paths:
        if not p.parent.is_dir():
            raise InputError(f"The output folder {p.parent} does not exist.")

    volume = load_volume(found, series=series, phase=args.phase, progress=progress)
    if seeds is not None:
        from ..core.segmentation.seeded import segment_from_seeds

        result = segment_from_seeds(volume, seeds, progress=progress)
    else:
        from ..core.segmentation.auto import segment_heart

        result = segment_heart(volume, progress=progress)

    source_files = sorted({r.path for r in series.group.records}) if is_dicom else None
    for p in paths:
        if p.name.lower().endswith(".dcm"):
            write_labels(result.labels, p, source_files=source_files, progress=progress,
                         algorithm_type="SEMIAUTOMATIC" if seeds is not None else "AUTOMATIC")
        else:
            write_labels(result.labels, p, progress=progress)

    labels, spacing = result.labels.array, result.labels.spacing
    summary = {
        "structures": label_volumes_ml(labels, spacing),
        "myocardial_mass_g": myocardial_mass_g(labels, spacing),
        "warnings": list(series.warnings) + list(result.warnings),
        "missing": list(result.missing),
        "seconds": round(result.seconds, 2),
        "method": result.method,
        "series": series.label,
        "outputs": [str(p) for p in paths],
    }
    if not args.json:
        out = sys.stdout
        out.write(f"Segmented series {series.label} ({result.method}) in {result.seconds:.1f} s\n")
        for key, entry in summary["structures"].items():
            out.write(f"  {key:<4} label {entry['label']}  {entry['volume_ml']:8.1f} mL\n")
        out.write(f"  LV myocardial mass {summary['myocardial_mass_g']:.0f} g\n")
        for w in summary["warnings"]:
            out.write(f"Warning: {w}\n")
        for p in paths:
            out.write(f"Wrote {p}\n")
    return summary
