"""``hearttwin measure PATH``: annulus, coronary ostia, root, LVOT, LAA, chambers, C-arm view.

PATH is a label map (.nrrd/.seg.nrrd/.nii with labels 1-7) measured as is,
or a CT (DICOM folder or volume): then ``--labels`` names its label map, or
the automatic segmentation runs first. With a CT the coronary ostia are
found in the image; ``--landmarks`` gives them instead.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from ..core.errors import InputError

LABEL_SUFFIXES = (".seg.nrrd", ".nrrd", ".nii", ".nii.gz", ".mha", ".nhdr")


def register(sub, common) -> None:
    p = sub.add_parser(
        "measure", parents=[common],
        help="annulus, coronary ostia, root, LVOT, LAA, chambers and the coplanar C-arm view",
        description="Measure what a TAVI/TMVR/LAAO planner needs (SCCT conventions). Every "
        "measurement carries the range it spans when the segmentation boundary moves by one "
        "voxel (<key>_range in --json).",
    )
    p.add_argument("path", metavar="PATH", help="CT (DICOM folder or volume), a label map or a .htwin case")
    p.add_argument("--labels", metavar="LABELS", help="label map of the CT in PATH (else: automatic segmentation)")
    p.add_argument("--landmarks", metavar="JSON",
                   help='JSON file, e.g. {"coronary_ostia": {"left": [x,y,z], "right": [x,y,z]}} (LPS mm)')
    add_case_options(p)
    p.set_defaults(func=run)


def _is_label_map(vol) -> bool:
    """Integer values 0-255, few distinct ones (a CT has hundreds of HU values)."""
    a = np.asarray(vol.array)
    if a.dtype.kind not in "iub" or a.min() < 0 or a.max() > 255:
        return False
    return len(np.unique(a)) <= 64


def load_inputs(args, progress):
    from ..core import jobs
    from ..core.imaging import load_volume
    from ..core.imaging.volume import Volume

    path = Path(args.path)
    if not path.exists():
        raise InputError(f"{path.name} does not exist.")
    if path.suffix.lower() == ".htwin":
        return _case_inputs(args, path, progress)
    if args.labels:
        from ..core.segmentation.export import read_labels

        image = load_volume(path, progress=jobs.SubProgress(progress, 0, 10, 100))
        labels = read_labels(args.labels)
        return labels, image, []
    vol = load_volume(path, progress=jobs.SubProgress(progress, 0, 10, 100))
    if path.name.lower().endswith(LABEL_SUFFIXES) and _is_label_map(vol):
        labels = Volume(np.asarray(vol.array).astype(np.uint8), vol.spacing, vol.origin, vol.direction)
        return labels, None, ["PATH is a label map: coronary ostia need the CT (or --landmarks)."]
    from ..core.segmentation.auto import segment_heart

    result = segment_heart(vol, progress=jobs.SubProgress(progress, 10, 70, 100))
    return result.labels, vol, list(result.warnings)


def _case_inputs(args, path: Path, progress):
    """Label map and CT of a .htwin case (segmented now when the case has no labels)."""
    from ..core import casefile, jobs

    case = casefile.load(path, progress=jobs.SubProgress(progress, 0, 10, 100),
                         locate=getattr(args, "image_folder", None))
    if case.labels is not None:
        return case.labels, case.image, list(case.warnings)
    if case.image is None:
        raise InputError(f"{path.name} has neither a label map nor its CT image.")
    from ..core.segmentation.auto import segment_heart

    result = segment_heart(case.image, progress=jobs.SubProgress(progress, 10, 70, 100))
    return result.labels, case.image, list(case.warnings) + list(result.warnings)


def add_case_options(p) -> None:
    """``--image-folder``: where a case's CT folder is now, when it moved."""
    p.add_argument("--image-folder", metavar="DIR",
                   help="for a .htwin PATH whose CT folder moved: where it is now")


def read_landmarks(path: str | None) -> dict | None:
    """The ``--landmarks`` JSON file, or None."""
    if not path:
        return None
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError) as err:
        raise InputError(f"--landmarks: cannot read {Path(path).name} as JSON ({err}).") from None


def run(args, progress) -> dict:
    from ..core import jobs
    from ..core.anatomy import measure_all

    landmarks = read_landmarks(args.landmarks)
    labels, image, warnings = load_inputs(args, progress)
    result = measure_all(labels, image, landmarks=landmarks,
                         progress=jobs.SubProgress(progress, 70, 100, 100))
    result["warnings"] = warnings + result["warnings"]
    if not args.json:
        print_table(result, sys.stdout)
        for w in result["warnings"]:
            sys.stderr.write(f"warning: {w}\n")
    return result


def _fmt(section: dict, key: str) -> str:
    v = section.get(key)
    if v is None:
        return "-"
    r = section.get(key + "_range")
    text = f"{v:.3f}" if abs(v) < 1 else f"{v:.1f}"
    return text + (f"  [{r[0]:.1f} - {r[1]:.1f}]" if r else "")


def print_table(res: dict, out) -> None:
    """A readable table: name, value, unit, one-voxel range."""
    def rows(title, section, keys):
        if not section:
            out.write(f"{title}: not measured\n")
            return
        out.write(f"{title}\n")
        for key in keys:
            if key in section:
                out.write(f"  {key:<46} {_fmt(section, key)}\n")

    a = res.get("annulus", {})
    rows("Aortic annulus", a, ["area_mm2", "perimeter_mm", "area_derived_diameter_mm",
                               "perimeter_derived_diameter_mm", "min_diameter_mm",
                               "max_diameter_mm", "eccentricity"])
    if a:
        out.write(f"  {'centre_lps':<46} {a['centre_lps']}\n  {'normal_lps':<46} {a['normal_lps']}\n")
    out.write("Coronary ostia (height above annulus)\n")
    for side in ("left", "right"):
        o = res.get("coronary_ostia", {}).get(side)
        out.write(f"  {side:<46} " + (f"{o['height_mm']:.1f} mm ({o['source']})" if o else "not found") + "\n")
    rows("Aortic root", res.get("root"), [k for k in res.get("root", {}) if not k.endswith(("_range", "_lps"))])
    rows("LVOT", res.get("lvot"), [k for k in res.get("lvot", {}) if not k.endswith(("_range", "_lps"))])
    rows("Left atrial appendage", res.get("laa"), [k for k in res.get("laa", {}) if not k.endswith(("_range", "_lps"))])
    ch = res.get("chambers", {})
    out.write("Chambers (mL)\n")
    for key, v in ch.items():
        if isinstance(v, dict):
            out.write(f"  {key:<46} {_fmt(v, 'volume_ml')}\n")
    if "myocardial_mass_g" in ch:
        out.write(f"  {'LV myocardial mass (g)':<46} {_fmt(ch, 'myocardial_mass_g')}\n")
    cv = res.get("coplanar_view", {})
    if cv:
        out.write(f"Coplanar view: {cv['recommended']['label']} (or {cv['at_lao_0']['label']})\n")
