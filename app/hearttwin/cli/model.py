"""``hearttwin model LABELS -o DIR``: one surface file per structure of a label map."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from ..core.errors import InputError

FORMATS = ("stl", "obj", "ply", "vtp")


def register(sub, common) -> None:
    p = sub.add_parser(
        "model", parents=[common],
        help="surface meshes (STL/OBJ/PLY/VTP) per label of a label map",
        description="Write one closed, smoothed surface per structure of a label map "
        "(DIR/LV.stl, DIR/AO.stl, ...), in LPS millimetres unless --ras. With --print-ready "
        "the surfaces are checked and repaired for 3D printing, optionally hollowed (--wall) "
        "and cut open (--cut-plane).",
    )
    p.add_argument("labels", metavar="LABELS", nargs="?",
                   help="label map (.nrrd/.nii/.nii.gz/.mha; 0 background, 1-7 heart structures)")
    p.add_argument("--format", choices=FORMATS, default="stl", help="file format (default stl, binary)")
    p.add_argument("--labels", dest="which", metavar="LIST",
                   help="structures to write, by key or number: LV,AO or 1,6 (default: all present)")
    p.add_argument("--target-triangles", type=int, metavar="N",
                   help="decimate each surface to about N triangles")
    p.add_argument("--no-smoothing", action="store_true", help="keep the voxel staircase")
    p.add_argument("--print-ready", action="store_true",
                   help="closed, manifold surfaces for a slicer program (checked and repaired)")
    p.add_argument("--wall", type=float, metavar="MM", help="with --print-ready: hollow, keeping a wall MM thick")
    p.add_argument("--cut-plane", metavar="X,Y,Z,NX,NY,NZ",
                   help="with --print-ready: cut with this plane (LPS point and normal, mm), "
                        "keeping the side the normal points to; the cut is capped "
                        "(write --cut-plane=-10,... when X is negative)")
    p.add_argument("--ras", action="store_true", help="write RAS coordinates (x, y negated) instead of LPS")
    p.set_defaults(func=run, model_parser=p)


def parse_labels(text: str | None) -> list[int] | None:
    """``"LV,AO"`` or ``"1,6"`` -> label numbers; None means all."""
    if text is None:
        return None
    from ..core.segmentation.labels import structures

    keys = {s.key.upper(): s.label for s in structures()}
    out = []
    for token in (t.strip() for t in text.split(",")):
        if not token:
            continue
        if token.isdigit() and int(token) > 0:
            out.append(int(token))
        elif token.upper() in keys:
            out.append(keys[token.upper()])
        else:
            raise InputError(f"Unknown structure {token!r} in --labels: use "
                             f"{', '.join(keys)} or label numbers (1-65535).")
    if not out:
        raise InputError("--labels names no structure.")
    return out


def parse_plane(text: str) -> tuple[tuple[float, ...], tuple[float, ...]]:
    try:
        vals = [float(v) for v in text.split(",")]
    except ValueError:
        vals = []
    if len(vals) != 6 or not any(vals[3:]):
        raise InputError(f"--cut-plane needs six numbers X,Y,Z,NX,NY,NZ (a point and a non-zero "
                         f"normal, LPS mm), got {text!r}.")
    return tuple(vals[:3]), tuple(vals[3:])


def structure_key(label: int) -> str:
    from ..core.segmentation.labels import by_label

    try:
        return by_label(label).key
    except KeyError:
        return f"label_{label}"


def run(args, progress) -> dict | None:
    from ..core import jobs
    from ..core.imaging import load_volume
    from ..core.imaging.volume import Volume
    from ..core.mesh import (Smoothing, decimate, label_array, label_counts, make_printable,
                             mesh_report, surfaces_from_labels, write_mesh)

    if not args.labels:
        args.model_parser.error("the following arguments are required: LABELS")  # exits 2
    if not args.output:
        raise InputError("Name the output folder: hearttwin model LABELS -o DIR.")
    if (args.wall is not None or args.cut_plane) and not args.print_ready:
        raise InputError("--wall and --cut-plane shape a 3D print: add --print-ready.")
    if args.wall is not None and not args.wall > 0:
        raise InputError(f"--wall must be a positive thickness in mm, got {args.wall}.")
    if args.target_triangles is not None and args.target_triangles < 100:
        raise InputError("--target-triangles must be at least 100.")
    wanted = parse_labels(args.which)
    plane = parse_plane(args.cut_plane) if args.cut_plane else None
    out_dir = Path(args.output)
    if out_dir.exists() and not out_dir.is_dir():
        raise InputError(f"{out_dir.name} exists and is not a folder.")

    start = time.perf_counter()
    source = load_volume(args.labels, progress=jobs.SubProgress(progress, 0, 10, 100))
    array = label_array(source)  # InputError if this is not a label map
    labels = Volume(array, source.spacing, source.origin, source.direction)
    counts = label_counts(array)
    if not counts:
        raise InputError(f"{Path(args.labels).name} holds no labels (every voxel is 0).")
    warnings = []
    if wanted is not None:
        missing = [v for v in wanted if v not in counts]
        if len(missing) == len(set(wanted)):
            raise InputError(f"None of the requested structures ({', '.join(map(structure_key, wanted))}) "
                             f"is in this label map; it holds {', '.join(map(structure_key, counts))}.")
        warnings += [f"{structure_key(v)} (label {v}) is not in the label map." for v in missing]

    smoothing = Smoothing(0) if args.no_smoothing else Smoothing()
    surfaces = surfaces_from_labels(labels, labels_wanted=wanted, smoothing=smoothing,
                                    progress=jobs.SubProgress(progress, 10, 50, 100))
    space = "RAS" if args.ras else "LPS"
    result = {}
    for n, (value, poly) in enumerate(surfaces.items()):
        key = structure_key(value)
        step = jobs.SubProgress(progress, 50 + 50 * n / len(surfaces), 50 + 50 * (n + 1) / len(surfaces), 100)
        jobs.report(step, 0, 1, f"{key}: finishing")
        if args.target_triangles:
            poly = decimate(poly, args.target_triangles)
        if args.print_ready:
            poly = make_printable(poly, wall_mm=args.wall, cut_plane=plane)
        report = mesh_report(poly)
        path = write_mesh(poly, out_dir / f"{key}.{args.format}", space=space, name=key)
        result[key] = {
            "label": value, "file": str(path), "triangles": report["triangles"],
            "volume_ml": report["volume_ml"],
            "voxel_volume_ml": counts[value] * labels.voxel_volume_mm3 / 1000.0,
            "area_mm2": report["area_mm2"], "watertight": report["watertight"],
            "manifold": report["manifold"],
        }
        if args.print_ready and not (report["watertight"] and report["manifold"]):
            warnings.append(f"{key}: the surface is not watertight and manifold "
                            f"({report['boundary_edges']} open, {report['non_manifold_edges']} "
                            f"non-manifold edges); a slicer may reject it.")
    jobs.report(progress, 100, 100, f"Wrote {len(result)} surfaces")
    summary = {"output": str(out_dir), "format": args.format, "space": space,
               "print_ready": bool(args.print_ready), "structures": result, "warnings": warnings,
               "seconds": round(time.perf_counter() - start, 2)}
    if not args.json:
        _print(summary, sys.stdout)
    for w in warnings:
        sys.stderr.write(f"warning: {w}\n")
    return summary


def _print(summary: dict, out) -> None:
    out.write(f"Wrote {len(summary['structures'])} {summary['format'].upper()} surface(s) "
              f"({summary['space']} mm) to {summary['output']}\n")
    for key, s in summary["structures"].items():
        ok = "watertight" if s["watertight"] and s["manifold"] else "NOT watertight/manifold"
        out.write(f"  {key:<9} {s['triangles']:>9,} triangles  {s['volume_ml']:8.1f} mL "
                  f"(voxels {s['voxel_volume_ml']:.1f} mL)  {s['area_mm2'] / 100:8.1f} cm2  {ok}\n")
