"""``hearttwin report PATH -o plan.pdf|plan.html``: the plan report (PDF or self-contained HTML).

PATH is as for ``hearttwin plan`` (a CT with automatic segmentation or
``--labels``, or a label map) with ``--device`` (and optionally ``--size``,
``--depth``, ``--pose``); the plan is computed, then reported with real
offscreen 3D renders. ``--anonymise`` leaves out the patient's name, ID,
birth date, accession number and study date (for teaching and sharing).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from ..core.errors import InputError
from .measure import add_case_options


def register(sub, common) -> None:
    p = sub.add_parser(
        "report", parents=[common],
        help="write the plan report (PDF or HTML) with 3D views, fit and verdicts",
        description="Plan a device on PATH (as hearttwin plan) and write its report: case, series, "
        "segmentation, measurements with ranges, device and sizing rationale, fit per phase, "
        "3D views, verdicts, context of use and limitations, provenance. -o names the file; "
        "its suffix (.pdf or .html) picks the format.",
    )
    p.add_argument("path", metavar="PATH", help="CT (DICOM folder or volume), a label map or a .htwin case")
    p.add_argument("--device", metavar="ID", help="catalogue id (hearttwin devices)")
    p.add_argument("--size", type=float, help="device size (default: the chart's recommendation)")
    p.add_argument("--labels", metavar="LABELS", help="label map of the CT in PATH")
    p.add_argument("--landmarks", metavar="JSON", help="landmarks JSON, as for hearttwin measure")
    p.add_argument("--depth", type=float, metavar="MM", help="placement depth (default: the family's)")
    p.add_argument("--pose", metavar="JSON", help="file with a 4x4 device pose (LPS)")
    p.add_argument("--static", action="store_true",
                   help="report the fit at the acquired phase only (no simulation of the cycle)")
    p.add_argument("--phases", type=int, default=20, metavar="N",
                   help="phases of the cardiac cycle checked (default 20)")
    p.add_argument("--anonymise", "--anonymize", dest="anonymise", action="store_true",
                   help="leave out every patient identifier (teaching, sharing)")
    p.add_argument("--case-label", metavar="TEXT", help="name of the case shown in the report")
    add_case_options(p)
    p.set_defaults(func=run)


def _output(args) -> Path:
    from ..report import report_format

    if not args.output:
        raise InputError("Name the report file with -o, e.g. -o plan.pdf or -o plan.html.")
    out = Path(args.output)
    report_format(out)  # .pdf or .html, before any work
    if not out.parent.exists():
        raise InputError(f"The folder of {out.name} does not exist: create it or choose another -o.")
    return out


def _series_info(image, labels) -> dict:
    vol = image if image is not None else labels
    meta = dict(getattr(vol, "meta", None) or {})
    keep = ("description", "series_number", "series_label", "modality", "phases", "phase", "warnings", "synthetic", "source")
    info = {k: meta[k] for k in keep if k in meta}
    info["size"] = list(np.asarray(vol.array).shape[::-1])
    info["spacing_mm"] = [float(s) for s in vol.spacing]
    if image is None:
        info.setdefault("description", "label map only (no CT)")
    return info


def plan_inputs(args, progress) -> dict:
    """Plain inputs of :func:`hearttwin.report.build_report` computed from PATH (as ``hearttwin plan``)."""
    from ..core import jobs
    from ..core.anatomy import measure_all
    from ..core.devices.catalogue import get_device
    from ..core.devices.plan import size_label
    from ..core.history import History
    from ..report.identifiers import read_identifiers
    from .measure import load_inputs, read_landmarks
    from .plan import _read_pose

    if Path(args.path).suffix.lower() == ".htwin":
        return case_inputs(args, progress)
    if not args.device:
        raise InputError("Give the device to plan with --device ID (see hearttwin devices).")
    family = get_device(args.device)
    if args.size is not None:
        family.size(args.size)
    landmarks = read_landmarks(args.landmarks)
    pose = _read_pose(args.pose) if args.pose else None
    history = History()
    labels, image, warnings = load_inputs(args, jobs.SubProgress(progress, 0, 40, 100))
    history.append("labels", {"source": "file" if args.labels or image is None else "automatic segmentation"})
    measurements = measure_all(labels, image, landmarks=landmarks,
                               progress=jobs.SubProgress(progress, 40, 55, 100))
    history.append("measure", {"landmarks": bool(landmarks)})
    size = None if args.size is None else size_label(args.size)
    plan = _plan(args, labels, device_id=family.id, size=size, image=image, measurements=measurements,
                 pose=pose, depth_mm=args.depth, progress=jobs.SubProgress(progress, 55, 60, 100))
    history.append("plan", {"device": family.id, "size": plan["device"]["size"], "depth_mm": args.depth,
                            "pose_given": pose is not None})
    identifiers = read_identifiers(args.path)
    if args.case_label:
        identifiers["case_label"] = args.case_label
    return {"labels": labels, "plan": plan, "measurements": measurements, "identifiers": identifiers,
            "series": _series_info(image, labels), "simulation": _simulation(plan),
            "history": history.to_list(),
            "warnings": warnings + list(measurements.get("warnings") or [])}


def _plan(args, labels, **kw) -> dict:
    """The plan over the cycle (or at the acquired phase with --static)."""
    if args.static:
        from ..core.devices.plan import plan_static

        return plan_static(labels, **kw)
    from ..core.simulation.cycle import plan_cycle

    if not 2 <= args.phases <= 200:
        raise InputError("--phases must be between 2 and 200.")
    return plan_cycle(labels, n_phases=args.phases, **kw)


def _simulation(plan: dict) -> dict | None:
    """The before/after circulation of a plan over the cycle (PV loops), if it has one."""
    h = plan.get("haemodynamics") or {}
    return h if isinstance(h.get("before"), dict) else None


def case_inputs(args, progress) -> dict:
    """Report inputs from a .htwin case: its labels, measurements and plan (planned again only
    when the options ask for another device, size or pose)."""
    from ..core import casefile, jobs
    from ..core.anatomy import measure_all
    from ..core.devices.plan import size_label
    from ..report.identifiers import read_identifiers
    from .plan import _read_pose

    case = casefile.load(args.path, progress=jobs.SubProgress(progress, 0, 30, 100),
                         locate=args.image_folder)
    if case.labels is None:
        raise InputError(f"{Path(args.path).name} has no label map yet: segment the case first "
                         "(hearttwin plan ... -o CASE.htwin).")
    measurements = case.measurements or measure_all(case.labels, case.image,
                                                    progress=jobs.SubProgress(progress, 30, 50, 100))
    saved = (case.simulation.get("results") or {}).get("plan")
    placed = case.devices[-1] if case.devices else None
    device = args.device or (placed or {}).get("id")
    if not device:
        raise InputError("The case has no placed device: give one with --device ID.")
    same = placed is not None and placed["id"] == device
    if saved and same and args.size is None and args.pose is None and args.depth is None:
        plan = saved
    else:
        pose = _read_pose(args.pose) if args.pose else None
        size = size_label(args.size) if args.size is not None else (placed["size"] if same else None)
        if pose is None and same and args.size is None and args.depth is None:
            pose = placed["pose_lps"]
        plan = _plan(args, case.labels, device_id=device, size=size, image=case.image,
                           measurements=measurements, pose=pose, depth_mm=args.depth,
                           progress=jobs.SubProgress(progress, 50, 60, 100))
    ref = case.image_ref
    source = ref.path_absolute if ref is not None and ref.kind == "dicom" and ref.path_absolute else None
    identifiers = read_identifiers(source) if source and Path(source).exists() else {}
    if args.case_label:
        identifiers["case_label"] = args.case_label
    return {"labels": case.labels, "plan": plan, "measurements": measurements,
            "identifiers": identifiers, "series": _series_info(case.image, case.labels),
            "simulation": _simulation(plan), "history": case.history.to_list(),
            "warnings": list(case.warnings) + list(measurements.get("warnings") or [])}


def run(args, progress) -> dict:
    from ..core import jobs
    from ..report import build_report, report_format, write_report

    out = _output(args)
    inputs = plan_inputs(args, jobs.SubProgress(progress, 0, 50, 100))
    report = build_report(**inputs, anonymise=args.anonymise, progress=jobs.SubProgress(progress, 50, 95, 100))
    jobs.report(progress, 95, 100, "Writing the report")
    write_report(report, out)
    jobs.report(progress, 100, 100, "Report written")
    plan = inputs["plan"]
    result = {"output": str(out), "format": report_format(out), "anonymised": bool(args.anonymise),
              "bytes": out.stat().st_size, "sections": [s.key for s in report.sections],
              "renders": len(report.figures("render")), "device": plan["device"],
              "overall": plan["overall"]}
    if not args.json:
        sys.stdout.write(f"Report   {out} ({result['format'].upper()}, {result['bytes'] // 1024} kB"
                         f"{', anonymised' if args.anonymise else ''})\n")
        sys.stdout.write(f"Device   {plan['device']['family']} ({plan['device']['id']}), size "
                         f"{plan['device']['size']}\nOverall  {plan['overall'].upper()}\n")
    return result
