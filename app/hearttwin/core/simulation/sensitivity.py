"""Sensitivity of the worst-phase fit metrics to the inputs a plan cannot know exactly.

:func:`fit_sensitivity` reruns the fit over the cardiac cycle
(:func:`~.cycle.plan_cycle`, every phase, the worst phase of each metric)
with one input changed at a time and reports, per metric, the nominal value
and the interval ``[min, max]`` over the runs of each factor and over all:

* segmentation: the lumen the device sits in (DESIGN.md labels of the
  family's position, e.g. LV + aorta for an aortic valve) dilated and
  eroded by one voxel (6-connected); voxels gained take the label of the
  nearest lumen voxel, voxels lost the label of the nearest other voxel.
  The annulus, the coronary-ostium heights (ostia points kept) and the
  chamber volumes are measured again on the changed map, so the
  circulation and the motion follow it; the device keeps its nominal pose;
* device position: the device moved by +-``position_mm`` along its axis and
  along its two lateral axes (the anatomy's motion is unchanged);
* aortic-root compliance (:class:`~.motion.MotionSettings`
  ``root_compliance``): a rigid root to twice the default;
* blood pressure: cuff systolic/diastolic pairs the circulation is
  personalised to (its motion is refitted).

Every run is cancellable between steps and reports progress.
"""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np
from scipy import ndimage

from .. import jobs
from ..imaging.volume import Volume
from .verification import KEY_METRICS, _Cancel, key_worst

#: root compliance (area fraction per mmHg) tried besides the default: rigid, twice the default
COMPLIANCES = (0.0, 0.002)
#: cuff pressures (systolic, diastolic mmHg): low-normal, high-normal, isolated systolic hypertension
PRESSURES = ((100.0, 60.0), (135.0, 85.0), (160.0, 70.0))
FACTORS = ("segmentation", "position", "compliance", "pressure")
_CROSS = ndimage.generate_binary_structure(3, 1)


def shift_lumen(labels: Volume, lumen_labels, variant: str) -> Volume:
    """The label map with the lumen (``lumen_labels`` together) dilated or eroded by one voxel.

    ``variant`` is ``"dilated"`` or ``"eroded"``. Gained voxels take the label
    of the nearest lumen voxel; lost voxels the label of the nearest voxel
    outside the lumen, so the map stays a partition with the DESIGN.md labels.
    """
    if variant not in ("dilated", "eroded"):
        raise ValueError(f"variant must be 'dilated' or 'eroded', not {variant!r}")
    arr = np.asarray(labels.array)
    lumen = np.isin(arr, tuple(lumen_labels))
    idx = np.argwhere(lumen)
    out = arr.copy()
    if len(idx) == 0:
        return Volume(out, labels.spacing, labels.origin, labels.direction)
    lo = np.maximum(idx.min(axis=0) - 2, 0)
    hi = np.minimum(idx.max(axis=0) + 3, arr.shape)
    box = tuple(slice(a, b) for a, b in zip(lo, hi))
    sub, lum = arr[box], lumen[box]
    if variant == "dilated":
        changed = ndimage.binary_dilation(lum, structure=_CROSS) & ~lum
        source = lum  # nearest lumen voxel gives the label
    else:
        changed = lum & ~ndimage.binary_erosion(lum, structure=_CROSS)
        source = ~lum
    _, nearest = ndimage.distance_transform_edt(~source, sampling=np.asarray(labels.spacing)[::-1],
                                                return_indices=True)
    new = sub.copy()
    pick = tuple(n[changed] for n in nearest)
    new[changed] = sub[pick]
    out[box] = new
    return Volume(out, labels.spacing, labels.origin, labels.direction)


def remeasure(labels: Volume, image, measurements: dict) -> dict:
    """What a plan needs measured again on a changed label map: annulus, ostia heights, chambers.

    The coronary ostia keep their points (they come from the CT, not the
    segmentation); their heights follow the new annulus plane. Everything
    else is kept from ``measurements``.
    """
    from ..anatomy.annulus import measure_annulus
    from ..anatomy.chambers import measure_chambers
    from ..anatomy.ostia import measure_ostia

    out = dict(measurements)
    annulus, plane, _ = measure_annulus(labels, image)
    out["annulus"] = annulus
    ostia = measurements.get("coronary_ostia") or {}
    points = {s: o["point_lps"] for s, o in ostia.items() if isinstance(o, dict) and o.get("point_lps")}
    if plane is not None and points:
        out["coronary_ostia"], _ = measure_ostia(image, labels, plane, {"coronary_ostia": points})
    out["chambers"], _ = measure_chambers(labels)
    return out


def cycle_motion(labels, measurements: dict, *, n_phases: int = 20, root_compliance=None,
                 heart_rate_bpm=None, systolic=None, diastolic=None, progress=None):
    """The model motion :func:`~.cycle.plan_cycle` builds, with a chosen root compliance."""
    from .cycle import CYCLE_MOTION, circulation_for, curves_at
    from .motion import HeartMotion, MotionSettings

    phases = np.arange(int(n_phases)) / float(n_phases)
    _, result, _ = circulation_for(measurements, heart_rate_bpm=heart_rate_bpm, systolic=systolic,
                                   diastolic=diastolic, progress=_Cancel(progress))
    curves, p_ao = curves_at(result, phases)
    present = {k: v for k, v in curves.items()
               if (measurements.get("chambers", {}).get(k) or {}).get("volume_ml")}
    settings = MotionSettings(targets="relative", **CYCLE_MOTION)
    if root_compliance is not None:
        settings = replace(settings, root_compliance=float(root_compliance))
    return HeartMotion.fit(labels, present, p_ao, phases, settings=settings,
                           progress=_Cancel(progress))


def _moves(pose: np.ndarray, mm: float) -> list[tuple[str, np.ndarray]]:
    from ..devices.placement import move

    out = []
    for name, axis in (("axial", pose[:3, 2]), ("lateral x", pose[:3, 0]), ("lateral y", pose[:3, 1])):
        for sign in (1.0, -1.0):
            out.append((f"{name} {sign * mm:+.1f} mm", move(pose, sign * mm * axis)))
    return out


def fit_sensitivity(labels, *, device_id: str, size=None, image=None, measurements: dict,
                    n_phases: int = 20, position_mm: float = 1.0, compliances=COMPLIANCES,
                    pressures=PRESSURES, heart_rate_bpm=None, nominal: dict | None = None,
                    progress=None) -> dict:
    """Nominal worst-phase metrics and their intervals over each factor (see module doc).

    Parameters
    ----------
    labels : Volume
        Label map of the CT phase.
    device_id, size
        The device (size: default the chart's recommendation, then kept).
    image : Volume, optional
        The CT (annulus edges when re-measuring the changed segmentations).
    measurements : dict
        :func:`hearttwin.core.anatomy.measure_all` of ``labels``.
    n_phases : int
        Phases of the cycle in every run.
    position_mm : float
        Device displacement along each axis.
    compliances, pressures
        Root compliances and (systolic, diastolic) pairs tried.
    heart_rate_bpm : float, optional
    nominal : dict, optional
        A :func:`~.cycle.plan_cycle` result of the nominal inputs, reused.
    progress : jobs.Progress, optional

    Returns
    -------
    dict
        ``nominal`` (metric -> value), ``device``, ``factors`` (per factor:
        ``runs`` [{"label", "metrics"}] and ``intervals`` {metric: nominal,
        metric_range: [lo, hi]}), ``overall`` (the same over every run) and
        ``seconds``.
    """
    from ..devices.field import LUMEN_LABELS
    from .cycle import plan_cycle

    start = time.perf_counter()
    common = dict(device_id=device_id, n_phases=n_phases, heart_rate_bpm=heart_rate_bpm)
    total = 2 + 6 + len(compliances) + len(pressures) + 1
    step = [0]

    def run(message, on=labels, **kwargs):
        jobs.report(progress, step[0], total, f"Sensitivity: {message}")
        step[0] += 1
        return plan_cycle(on, progress=_Cancel(progress), **common, **kwargs)

    if nominal is None:
        nominal = run("nominal", size=size, measurements=measurements, image=image)
    else:
        step[0] += 1
    size = nominal["device"]["size"]
    pose = np.asarray(nominal["pose_lps"], float)
    base = dict(size=size, pose=pose)
    runs: dict = {f: [] for f in FACTORS}

    from ..devices.catalogue import get_device

    lumen = LUMEN_LABELS[get_device(device_id).position]
    for variant in ("dilated", "eroded"):
        jobs.report(progress, step[0], total, f"Sensitivity: segmentation {variant} by one voxel")
        shifted = shift_lumen(labels, lumen, variant)
        m = remeasure(shifted, image, measurements)
        jobs.check(progress)
        plan = run(f"segmentation {variant}", on=shifted, measurements=m, **base)
        runs["segmentation"].append({"label": f"lumen {variant} by 1 voxel", "metrics": key_worst(plan)})

    motion = cycle_motion(labels, measurements, n_phases=n_phases, heart_rate_bpm=heart_rate_bpm,
                          progress=progress)
    for label, moved in _moves(pose, position_mm):
        plan = run(f"device {label}", measurements=measurements, motion=motion, size=size, pose=moved)
        runs["position"].append({"label": label, "metrics": key_worst(plan)})

    for c in compliances:
        jobs.report(progress, step[0], total, f"Sensitivity: root compliance {c:g} per mmHg")
        m_c = cycle_motion(labels, measurements, n_phases=n_phases, root_compliance=c,
                           heart_rate_bpm=heart_rate_bpm, progress=progress)
        plan = run(f"root compliance {c:g}", measurements=measurements, motion=m_c, **base)
        runs["compliance"].append({"label": f"root compliance {c:g} /mmHg", "metrics": key_worst(plan)})

    for sys_, dia in pressures:
        plan = run(f"pressure {sys_:.0f}/{dia:.0f} mmHg", measurements=measurements, systolic=sys_,
                   diastolic=dia, **base)
        runs["pressure"].append({"label": f"{sys_:.0f}/{dia:.0f} mmHg", "metrics": key_worst(plan)})

    nominal_metrics = key_worst(nominal)
    factors = {f: {"runs": r, "intervals": intervals(nominal_metrics, [x["metrics"] for x in r])}
               for f, r in runs.items()}
    every = [x["metrics"] for r in runs.values() for x in r]
    jobs.report(progress, total, total, "Sensitivity done")
    return {"device": nominal["device"], "n_phases": n_phases, "position_mm": position_mm,
            "nominal": nominal_metrics, "factors": factors,
            "overall": intervals(nominal_metrics, every),
            "seconds": round(time.perf_counter() - start, 2)}


def intervals(nominal: dict, runs: list[dict]) -> dict:
    """Per metric: the nominal value and, as ``<metric>_range``, ``[min, max]`` over it and the runs."""
    out = {}
    for key in sorted(nominal, key=KEY_METRICS.index):
        values = [nominal[key]] + [r[key] for r in runs if r.get(key) is not None]
        out[key] = nominal[key]
        out[key + "_range"] = [round(min(values), 2), round(max(values), 2)]
    return out
