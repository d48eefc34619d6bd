"""Plain (Qt-free) jobs of the later workflow steps, run by the GUI in a worker or the child process.

Each takes plain inputs and a ``progress`` keyword, and returns picklable
results, so :func:`hearttwin.gui.process_jobs.run` can run it in HeartTwin's
child process (``isolate=True``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..core import jobs
from ..core.errors import InputError

#: model formats offered for export
MODEL_FORMATS = ("stl", "obj")


def export_models(labels, folder, *, fmt: str = "stl", printable: bool = False, progress=None) -> list[str]:
    """Write one surface model per heart structure to ``folder`` (``fmt``: stl or obj).

    ``printable=True`` makes each model closed and manifold for 3D printing
    (:func:`hearttwin.core.mesh.printable.make_printable`). Returns the paths written.
    """
    from ..core.mesh import surfaces_from_labels
    from ..core.mesh.export import write_mesh
    from ..core.segmentation import labels as label_table

    fmt = fmt.lower().lstrip(".")
    if fmt not in MODEL_FORMATS:
        raise InputError(f"Model formats are {', '.join(MODEL_FORMATS)}; got {fmt!r}.")
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"The folder {folder} does not exist: choose another.")
    surfaces = surfaces_from_labels(labels, progress=jobs.SubProgress(progress, 0, 60, 100))
    names = {s.label: s.key for s in label_table.structures()}
    out = []
    for n, (label, poly) in enumerate(sorted(surfaces.items())):
        jobs.report(progress, 60 + 40 * n // max(1, len(surfaces)), 100, f"Writing {names.get(label, label)}")
        if printable:
            from ..core.mesh.printable import make_printable

            poly = make_printable(poly)
        name = names.get(label, f"label{label}")
        out.append(str(write_mesh(poly, folder / f"{name}.{fmt}", name=name)))
    jobs.report(progress, 100, 100, "Models written")
    return out


def cycle_motion(labels, measurements: dict | None, *, n_phases: int, heart_rate_bpm=None, systolic=None,
                 diastolic=None, progress=None):
    """The heart motion :func:`~hearttwin.core.simulation.cycle.plan_cycle` fits for these inputs.

    The same steps and settings as the plan over the cycle (0D circulation
    personalised to the chamber volumes, relative volume targets, the cycle's
    motion grid), so the animation shows the motion the fit was computed on.
    Without measured chamber volumes, the label map's voxel counts stand in.
    """
    from ..core.simulation import cycle
    from ..core.simulation.motion import CHAMBERS

    measurements = dict(measurements or {})
    if not measurements.get("chambers"):
        counts = np.bincount(np.asarray(labels.array).ravel().astype(np.intp), minlength=8)
        ml = labels.voxel_volume_mm3 / 1000.0
        measurements["chambers"] = {k: {"volume_ml": float(counts[v] * ml)} for k, v in CHAMBERS.items()}
    _params, result, _warnings = cycle.circulation_for(
        measurements, heart_rate_bpm=heart_rate_bpm, systolic=systolic, diastolic=diastolic,
        progress=jobs.SubProgress(progress, 0, 10, 100))
    phases = np.arange(int(n_phases)) / float(n_phases)
    return cycle.fit_motion(labels, measurements, result, phases, progress=jobs.SubProgress(progress, 10, 100, 100))


def cycle_frames(motion, surface_points: dict, device_points=None, pose=None) -> dict:
    """Every phase's point positions of the shown surfaces and the device, for the animation.

    Parameters
    ----------
    motion : HeartMotion
    surface_points : dict
        ``{label: (N, 3)}`` points (LPS mm) of the 3D view's surfaces at the CT phase.
    device_points : array_like (M, 3), optional
        The placed device's surface points at ``pose``.
    pose : array_like (4, 4), optional
        The device pose; at each phase it moves rigidly with the tissue at its
        seat, as in the plan over the cycle (its origin and a point 10 mm up
        its axis are carried by the motion).

    Returns
    -------
    dict
        ``{"phases": (P,), "surfaces": {label: (P, N, 3) float32},
        "device": (P, M, 3) float32 or None, "poses": (P, 4, 4) or None}``.
    """
    from ..core.devices.placement import pose_from

    surfaces = {}
    for label, pts in surface_points.items():
        pts = np.asarray(pts, float).reshape(-1, 3)
        surfaces[int(label)] = (pts[None] + motion.displacements(pts)).astype(np.float32)
    device = poses = None
    if device_points is not None and pose is not None:
        pose = np.asarray(pose, float)
        o, z = pose[:3, 3], pose[:3, 2]
        ends = np.vstack([o, o + 10.0 * z])
        ends = ends[None] + motion.displacements(ends)  # (P, 2, 3)
        local = (np.asarray(device_points, float).reshape(-1, 3) - o) @ pose[:3, :3]
        poses = np.array([pose_from(a, (b - a) / np.linalg.norm(b - a), reference=pose[:3, 0])
                          for a, b in ends])
        device = np.stack([local @ p[:3, :3].T + p[:3, 3] for p in poses]).astype(np.float32)
    return {"phases": np.asarray(motion.phases, float), "surfaces": surfaces, "device": device,
            "poses": poses}


def simulate_cycle(labels, *, device_id: str, size, pose, image=None, measurements: dict | None = None,
                   n_phases: int = 20, heart_rate_bpm=None, systolic=None, diastolic=None,
                   surface_points: dict | None = None, device_points=None, progress=None) -> tuple[dict, dict]:
    """The plan over the cycle and its animation frames, from one fit of the heart motion.

    Returns ``(plan, frames)``: the ``plan`` JSON of
    :func:`~hearttwin.core.simulation.cycle.plan_cycle` and the
    :func:`cycle_frames` of ``surface_points`` and ``device_points``. The
    plan's ``haemodynamics`` carries the before/after pressure-volume loops
    (``before``/``after`` ``pv_loops``); for a device that does not change
    the circulation it gets the native ones as ``native_pv_loops``
    (``{"lv", "rv"}`` of ``{"phase", "volume_ml", "pressure_mmhg"}``).
    """
    from ..core.simulation.cycle import plan_cycle

    vitals = {"heart_rate_bpm": heart_rate_bpm, "systolic": systolic, "diastolic": diastolic}
    motion = cycle_motion(labels, measurements, n_phases=n_phases, progress=jobs.SubProgress(progress, 0, 45, 100),
                          **vitals)
    plan = plan_cycle(labels, device_id=device_id, size=size, image=image, measurements=measurements, pose=pose,
                      n_phases=n_phases, motion=motion, progress=jobs.SubProgress(progress, 45, 95, 100), **vitals)
    plan["warnings"] = list(plan.get("warnings") or []) + [w for w in motion.warnings
                                                           if w not in (plan.get("warnings") or [])]
    haemo = plan.setdefault("haemodynamics", {})
    if not isinstance(haemo.get("before"), dict):
        # a device that does not change the circulation: the native pressure-volume loops for the
        # Simulate step's plot (~0.1 s), from the chamber volumes of the motion at the CT phase
        from ..core.simulation.cycle import circulation_for
        from ..core.simulation.outputs import pv_loop

        at_ct = (plan.get("motion") or {}).get("chamber_volumes_ml", {})
        chambers = (measurements or {}).get("chambers") or {k: {"volume_ml": float(v[0])} for k, v in at_ct.items()}
        _params, native, _warnings = circulation_for({"chambers": chambers}, **vitals)
        haemo["native_pv_loops"] = {c: pv_loop(native, 0, c) for c in ("lv", "rv")}
    jobs.report(progress, 95, 100, "Animation frames")
    frames = cycle_frames(motion, surface_points or {}, device_points, pose)
    jobs.report(progress, 100, 100, "Cycle simulated")
    return plan, frames


def animation_frames(labels, *, measurements: dict | None, n_phases: int, surface_points: dict,
                     device_points=None, pose=None, heart_rate_bpm=None, systolic=None, diastolic=None,
                     progress=None) -> dict:
    """The :func:`cycle_frames` of a plan computed earlier (e.g. a reopened case)."""
    motion = cycle_motion(labels, measurements, n_phases=n_phases, heart_rate_bpm=heart_rate_bpm,
                          systolic=systolic, diastolic=diastolic, progress=jobs.SubProgress(progress, 0, 95, 100))
    frames = cycle_frames(motion, surface_points, device_points, pose)
    jobs.report(progress, 100, 100, "Animation frames")
    return frames


def same_device(plan: dict, device: dict) -> bool:
    """Whether ``plan`` (a plan JSON) is of ``device`` as placed now (same id, size and pose)."""
    pose = plan.get("pose_lps")
    return (plan.get("device", {}).get("id") == device["id"]
            and str(plan.get("device", {}).get("size")) == str(device["size"])
            and pose is not None and np.allclose(pose, device["pose_lps"], atol=1e-4))


def series_info(image, labels) -> dict:
    """The series keys the report shows, from the volumes' metadata."""
    vol = image if image is not None else labels
    meta = dict(getattr(vol, "meta", None) or {})
    keep = ("description", "series_number", "series_label", "modality", "phases", "phase", "warnings",
            "synthetic", "source")
    info = {k: meta[k] for k in keep if k in meta}
    info["size"] = list(np.asarray(vol.array).shape[::-1])
    info["spacing_mm"] = [float(s) for s in vol.spacing]
    return info


def write_case_report(*, labels, image, plan: dict | None, device: dict | None, measurements: dict,
                      history: list, warnings: list, path, anonymise: bool = False,
                      case_label: str = "", source: str | None = None, progress=None) -> str:
    """Build and write the plan report of a case (``path``: .html or .pdf); returns the path.

    ``plan`` is the plan over the cycle when the case was simulated; otherwise
    the plan at the acquired phase is computed for ``device`` (``{"id",
    "size", "pose_lps"}``). ``source``: the DICOM folder, read for the patient
    identifiers (left out when ``anonymise``).
    """
    from ..report import build_report, report_format, write_report

    path = Path(path)
    report_format(path)  # .html or .pdf, before any work
    if plan is None:
        if not device:
            raise InputError("Place a device (Device step) before writing the report.")
        from ..core.devices.plan import plan_static

        plan = plan_static(labels, device_id=device["id"], size=device["size"], image=image,
                           measurements=measurements, pose=device["pose_lps"],
                           progress=jobs.SubProgress(progress, 0, 20, 100))
    h = plan.get("haemodynamics") or {}
    simulation = h if isinstance(h.get("before"), dict) else None
    identifiers = {}
    if source and Path(source).exists():
        from ..report.identifiers import read_identifiers

        identifiers = read_identifiers(source)
    if case_label:
        identifiers["case_label"] = case_label
    report = build_report(labels=labels, plan=plan, measurements=measurements, identifiers=identifiers,
                          series=series_info(image, labels), simulation=simulation, history=history,
                          anonymise=anonymise, warnings=list(warnings),
                          progress=jobs.SubProgress(progress, 20, 95, 100))
    jobs.report(progress, 95, 100, "Writing the report")
    write_report(report, path)
    jobs.report(progress, 100, 100, "Report written")
    return str(path)
