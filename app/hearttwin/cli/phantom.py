"""``hearttwin phantom OUT``: write a synthetic cardiac CT with exact ground truth."""

from __future__ import annotations

import sys

from ..core.errors import InputError


def _spacing(text: str) -> tuple[float, float, float]:
    try:
        vals = tuple(float(v) for v in text.split(","))
    except ValueError:
        vals = ()
    if len(vals) != 3 or min(vals) <= 0:
        raise InputError(f"--spacing needs three positive numbers SX,SY,SZ in mm, got {text!r}.")
    return vals


def register(sub, common) -> None:
    p = sub.add_parser(
        "phantom", parents=[common],
        help="write a synthetic cardiac CT (DICOM) with label maps and ground truth",
        description="Generate an XCAT-style synthetic contrast-enhanced cardiac CT: "
        "OUT/dicom (CT series), OUT/labels.nrrd (labels 1-7) and OUT/truth.json.",
    )
    p.add_argument("out", nargs="?", help="output folder (must be empty or new)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--phases", type=int, default=1,
                   help="number of cardiac phases over the cycle (default 1: end-diastole)")
    p.add_argument("--preset", choices=("small", "sample", "standard"), default="standard",
                   help="acquisition preset: matrix, spacing and coverage (default standard)")
    p.add_argument("--spacing", help="voxel spacing SX,SY,SZ in mm (keeps the preset's "
                                     "field of view)")
    p.add_argument("--no-calcium", action="store_true", help="no annular calcium")
    p.add_argument("--rle", action="store_true",
                   help="store the DICOM pixel data RLE Lossless: the same pixels in about half "
                   "the space, read by every DICOM viewer")
    p.add_argument("--force", action="store_true", help="write into a non-empty folder")
    p.set_defaults(func=run)


def run(args, progress) -> dict | None:
    from ..core.phantom.output import write_phantom
    from ..core.phantom.params import PhantomParams

    out = args.out or args.output
    if not out:
        raise InputError("Name the output folder: hearttwin phantom OUT.")
    params = PhantomParams.sample(args.seed, args.preset, phases=args.phases,
                                  calcium=not args.no_calcium)
    if args.spacing:
        sp = _spacing(args.spacing)
        g = params.geometry
        fov = [n * s for n, s in zip(g.size, g.spacing)]
        size = tuple(max(8, int(round(f / s))) for f, s in zip(fov, sp))
        params = params.with_overrides(spacing=sp, size=size)
    summary = write_phantom(params, out, force=args.force, rle=args.rle, progress=progress)
    if not args.json:
        s = summary
        sys.stdout.write(
            f"Wrote {s['dicom_files']} DICOM files, {len(s['labels'])} label map(s) and "
            f"truth.json to {s['output']}\n"
            f"  size {s['size']} voxels, spacing {[round(v, 3) for v in s['spacing_mm']]} mm, "
            f"{len(s['phases'])} phase(s)\n"
            f"  annulus area-derived diameter "
            f"{s['annulus']['area_derived_diameter_mm']:.1f} mm, LV "
            f"{s['structures']['LV']['volume_ml']:.0f} mL\n")
    return summary
