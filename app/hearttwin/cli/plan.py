"""``hearttwin plan PATH --device ID [--size S] --static``: size, place and fit a device.

PATH is as for ``hearttwin measure`` (CT with automatic segmentation or
``--labels``, or a label map). The device is placed automatically at its
anchor (annulus, appendage, septum, vessel) at the family's recommended
depth; ``--depth``, ``--move`` and ``--rotate`` adjust that pose, ``--pose``
gives one outright. Prints the fit metrics, one verdict per catalogue rule
and the overall verdict (``--json``: DESIGN.md ``plan`` keys).

Over the cycle, the anatomy moves with the model motion (chambers following
the 0D circulation) unless PATH's CT series has several cardiac phases: then
all phases are loaded and registered to the one the label map belongs to, and
the fit runs at those phases (``motion.method`` says which; ``--model-motion``
forces the model).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from ..core.errors import InputError
from .measure import add_case_options


def register(sub, common) -> None:
    p = sub.add_parser(
        "plan", parents=[common],
        help="place a device (auto-placement, size from the chart) and check its fit over the cycle",
        description="Size a device from its chart, place it at its anchor and compute the "
        "fit metrics at every phase of the simulated heartbeat; the verdicts use the worst "
        "phase (see `hearttwin devices`). --static: one phase (the CT as acquired).",
    )
    p.add_argument("path", metavar="PATH", help="CT (DICOM folder or volume), a label map or a .htwin case")
    p.add_argument("--device", required=True, metavar="ID", help="catalogue id (hearttwin devices)")
    p.add_argument("--size", type=float, help="device size (default: the chart's recommendation)")
    p.add_argument("--static", action="store_true", help="fit at one phase (the CT as acquired)")
    p.add_argument("--phases", type=int, metavar="N",
                   help="phases of the cardiac cycle checked with the model motion (default 20)")
    p.add_argument("--model-motion", action="store_true",
                   help="use the model motion even when the CT has several phases (which are "
                   "otherwise registered to give the motion)")
    p.add_argument("--heart-rate", type=float, metavar="BPM", help="heart rate for the simulation")
    p.add_argument("--systolic", type=float, metavar="MMHG", help="cuff systolic pressure")
    p.add_argument("--diastolic", type=float, metavar="MMHG", help="cuff diastolic pressure")
    p.add_argument("--labels", metavar="LABELS", help="label map of the CT in PATH")
    p.add_argument("--landmarks", metavar="JSON", help="landmarks JSON, as for hearttwin measure")
    p.add_argument("--depth", type=float, metavar="MM", help="placement depth (default: the family's)")
    p.add_argument("--move", metavar="X,Y,Z", help="shift the placed device by this LPS vector (mm)")
    p.add_argument("--rotate", metavar="DEG", type=float,
                   help="tilt the device axis by DEG degrees (about its inflow centre)")
    p.add_argument("--pose", metavar="JSON", help="file with a 4x4 device pose (LPS); "
                   "replaces automatic placement")
    add_case_options(p)
    p.set_defaults(func=run)


def _vector(text: str, name: str) -> np.ndarray:
    try:
        v = np.array([float(t) for t in text.split(",")])
    except ValueError:
        v = np.array([])
    if v.shape != (3,):
        raise InputError(f"{name} needs three numbers X,Y,Z in mm (got {text!r}).")
    return v


def _read_pose(path: str) -> np.ndarray:
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, ValueError) as err:
        raise InputError(f"--pose: cannot read {Path(path).name} as JSON ({err}).") from None
    pose = np.asarray(data.get("pose_lps", data) if isinstance(data, dict) else data, float)
    if pose.shape != (4, 4):
        raise InputError("--pose: the file must hold a 4x4 matrix (or {\"pose_lps\": 4x4}).")
    return pose


def run(args, progress) -> dict:
    from ..core import jobs
    from ..core.devices import placement
    from ..core.devices.anchors import find_anchor
    from ..core.devices.catalogue import get_device
    from ..core.devices.plan import plan_static, size_label
    from .measure import load_inputs, read_landmarks

    family = get_device(args.device)  # fail fast on a bad id, before loading anything
    if args.size is not None:
        family.size(args.size)
    size = None if args.size is None else size_label(args.size)
    landmarks = read_landmarks(args.landmarks)
    labels, image, warnings = load_inputs(args, progress)
    from ..core.anatomy import measure_all

    measurements = measure_all(labels, image, landmarks=landmarks,
                               progress=jobs.SubProgress(progress, 70, 90, 100))
    pose = _read_pose(args.pose) if args.pose else None
    if pose is None and (args.move or args.rotate):
        from ..core.devices.sizing import recommend_size

        anchor = find_anchor(family.placement["anchor"], measurements, labels)
        chosen = size if size is not None else recommend_size(family, anchor.sizing).size
        if chosen is None:
            raise InputError("--move/--rotate need a size: give --size.")
        pose = placement.auto_place(family, chosen, anchor, args.depth)
        if args.rotate:
            pose = placement.tilt(pose, args.rotate)
        if args.move:
            pose = placement.move(pose, _vector(args.move, "--move"))
        size = chosen
    common = dict(device_id=family.id, size=size, image=image, measurements=measurements,
                  pose=pose, depth_mm=args.depth, progress=jobs.SubProgress(progress, 90, 100, 100))
    if args.static:
        result = plan_static(labels, **common)
    else:
        n_phases = 20 if args.phases is None else args.phases
        if n_phases < 2 or n_phases > 200:
            raise InputError("--phases must be between 2 and 200.")
        from ..core.simulation.cycle import plan_cycle

        motion, ct_phase, notes = None, 0.0, []
        if not args.model_motion and image is not None and image.meta.get("phases", 1) > 1:
            motion, ct_phase, notes = phase_motion(args, labels, image,
                                                   jobs.SubProgress(progress, 90, 97, 100))
            common["progress"] = jobs.SubProgress(progress, 97, 100, 100)
        if motion is not None and args.phases is not None:
            notes.append(f"--phases {args.phases} is not used: the fit runs at the "
                         f"{motion.n_phases} CT phases (--model-motion for the model).")
        result = plan_cycle(labels, n_phases=n_phases, heart_rate_bpm=args.heart_rate,
                            systolic=args.systolic, diastolic=args.diastolic, motion=motion,
                            ct_phase=ct_phase, **common)
        warnings = warnings + notes
    result["warnings"] = warnings + measurements.get("warnings", []) + result["warnings"]
    if args.output and args.output.lower().endswith(".htwin"):
        save_case(args, labels, image, measurements, result, progress)
    elif args.output:
        from ..core.atomic import atomic_path

        with atomic_path(Path(args.output)) as tmp:
            Path(tmp).write_text(json.dumps(result, indent=2))
    if not args.json:
        print_plan(result, sys.stdout)
        for w in result["warnings"]:
            sys.stderr.write(f"warning: {w}\n")
    return result


def phase_motion(args, labels, image, progress):
    """(motion, CT phase, notes): the motion registered from all phases of PATH's CT series.

    The label map belongs to the phase loaded as ``image``. A case file's CT
    is not re-read here (None: the model motion is used, with a note).
    """
    n = int(image.meta.get("phases", 1))
    if Path(args.path).suffix.lower() == ".htwin":
        return None, 0.0, [f"The case's CT has {n} phases; plan on its DICOM folder to take the "
                           "motion from them (the model motion is used)."]
    from ..core import jobs
    from ..core.case import load_phase_series
    from ..core.simulation.motion import HeartMotion

    from ..core.errors import ProcessingError

    images, phases = load_phase_series(args.path, series=image.meta.get("series_label"),
                                       progress=jobs.SubProgress(progress, 0, 30, 100))
    reference = int(image.meta.get("phase", 0))
    motion = HeartMotion.from_phases(images, labels, phases, reference=reference,
                                     progress=jobs.SubProgress(progress, 30, 95, 100))
    try:  # the fit reads the anatomy through the inverse maps: check them now
        for k in range(motion.n_phases):
            jobs.check(progress)
            if motion.jacobian_min(k) <= 0.0:
                raise ProcessingError("folds")
            motion.inverse_field(k)
    except ProcessingError:
        return None, float(phases[reference]), [f"The {n} CT phases did not register into a fold-free motion: "
                           "the model motion is used."]
    return motion, float(phases[reference]), []


def save_case(args, labels, image, measurements: dict, plan: dict, progress) -> None:
    """``-o CASE.htwin``: the planned case (image reference, labels, measurements, device, plan)."""
    from ..core import casefile
    from ..core.case import Case, case_from_image

    path = Path(args.path)
    if path.suffix.lower() == ".htwin":
        case = casefile.load(path, locate=getattr(args, "image_folder", None), load_image=False)
    elif image is not None:
        case = case_from_image(path)
    else:  # a label map alone: nothing to refer to, keep the labels only
        case = Case()
    if case.labels is None:
        case.set_labels(labels, step="labels_file" if args.labels else "segment_auto")
    case.set_measurements(measurements)
    case.place_device(plan["device"]["id"], plan["device"]["size"], plan["pose_lps"],
                      static=True, overall=plan["overall"])
    case.set_simulation(results={"plan": plan}, step="plan")
    casefile.save(case, args.output, progress=None)


STATUS = {"pass": "PASS   ", "caution": "CAUTION", "fail": "FAIL   "}


def print_plan(res: dict, out) -> None:
    """Readable plan: device, sizing reason, placement, metrics, verdicts."""
    d = res["device"]
    out.write(f"Device   {d['family']} ({d['id']}), size {d['size']}\n")
    out.write(f"Sizing   {res['sizing']['reason']}\n")
    pl = res["placement"]
    out.write(f"Placed   at the {pl['anchor'].replace('_', ' ')}, depth {pl['depth_mm']:.1f} mm, "
              f"axis {pl['axis_angle_deg']:.1f} deg off the anchor axis\n")
    if len(res["phases"]) == 1:
        out.write("Metrics\n")
        for key, v in res["phases"][0]["metrics"].items():
            out.write(f"  {key:<34} {'-' if v is None else f'{v:.1f}'}\n")
    else:
        out.write(f"Worst over the cycle ({len(res['phases'])} phases)\n")
        for key, w in res["worst"].items():
            out.write(f"  {key:<34} {w['value']:8.1f}   at phase {w['phase']:.2f}\n")
        change = (res.get("haemodynamics") or {}).get("change")
        if change:
            out.write("Haemodynamics (before -> after)\n")
            for key, (b, a) in ((k, v) for k, v in change.items() if isinstance(v, list)):
                out.write(f"  {key:<34} {b:8.2f} -> {a:.2f}\n")
    out.write("Verdicts\n")
    for v in res["verdicts"]:
        value = "-" if v["value"] is None else f"{v['value']:.1f}"
        out.write(f"  {STATUS[v['status']]} {v['rule']:<34} {value:>8}   {v['why']}\n")
    out.write(f"Overall  {res['overall'].upper()}\n")
