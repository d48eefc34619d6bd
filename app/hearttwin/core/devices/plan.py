"""A device plan on one anatomy: size, place, fit, verdicts (``hearttwin plan --static``).

:func:`plan_static` ties the pieces together: the catalogue family, the
anchor on the measured anatomy, the size recommendation from the family's
chart, the automatic (or given) pose, the static fit metrics and one verdict
per catalogue fit rule. The result is the DESIGN.md ``plan`` JSON with a
single phase (phase 0, the CT as acquired); the fit over the cycle adds the
other phases (simulation).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from .. import jobs
from ..errors import InputError
from .anchors import find_anchor
from .catalogue import get_device
from .field import AnatomyField
from .fit import static_fit
from .geometry import profile
from .placement import auto_place, axis_angle_deg, depth, is_rigid, orthonormalised
from .sizing import recommend_size

#: worst first
STATUS_ORDER = ("fail", "caution", "pass")


def verdicts(family, metrics: dict) -> list[dict]:
    """One verdict per catalogue fit rule whose metric applies to this plan."""
    out = []
    for rule in family.fit_rules:
        if rule.metric not in metrics:
            continue
        value = metrics[rule.metric]
        entry = {"rule": rule.metric, "value": value, "status": rule.evaluate(value),
                 "why": rule.why, "bounds": _bounds(rule)}
        if value is None:
            entry["note"] = "not measured on this anatomy"
        out.append(entry)
    return out


def _bounds(rule) -> dict:
    return {k: getattr(rule, k) for k in ("fail_below", "caution_below", "caution_above",
                                          "fail_above") if getattr(rule, k) is not None}


def overall(vs: list[dict]) -> str:
    """The worst verdict (``pass`` when there is none)."""
    statuses = {v["status"] for v in vs}
    return next((s for s in STATUS_ORDER if s in statuses), "pass")


@dataclass
class PlanContext:
    """Everything a fit needs, prepared once: the family and size, the anchor, the pose,
    the anatomy's distance field and the measurements (reused for every phase and move)."""

    family: object
    size: object
    entry: object
    anchor: object
    recommendation: object
    pose: np.ndarray
    field: AnatomyField
    labels: object
    measurements: dict
    warnings: list

    @cached_property
    def profile(self) -> np.ndarray:
        """The device's outer meridian at nominal size (fixed for the context's size)."""
        return profile(self.family, self.size)

    @property
    def ostia(self) -> dict | None:
        # coronary compression: aortic valves, and RVOT stents squeezing the left coronary
        if self.family.position not in ("aortic", "pulmonary"):
            return None
        return self.measurements.get("coronary_ostia") or None


def prepare(labels, *, device_id: str, size=None, image=None, measurements: dict | None = None,
            pose=None, depth_mm: float | None = None, progress=None) -> PlanContext:
    """Choose the size, place the device and build the distance field (see :func:`plan_static`)."""
    family = get_device(device_id)
    warnings: list[str] = []
    if measurements is None:
        from ..anatomy import measure_all

        measurements = measure_all(labels, image, progress=jobs.SubProgress(progress, 0, 60, 100))
    jobs.report(progress, 60, 100, "Placing the device")
    anchor = find_anchor(family.placement["anchor"], measurements, labels)
    warnings += anchor.warnings
    rec = recommend_size(family, anchor.sizing)
    if size is None:
        if rec.size is None:
            raise InputError(f"No {family.family.lower()} size fits this anatomy: {rec.reason}. "
                             "Give a size with --size to plan one anyway.")
        size = rec.size
    entry = family.size(size)
    if pose is None:
        pose = auto_place(family, size, anchor, depth_mm)
    pose = np.asarray(pose, float)
    if not is_rigid(pose):
        raise InputError("The device pose must be a rigid 4x4 transform (rotation and "
                         "translation only).")
    pose = orthonormalised(pose)
    jobs.report(progress, 70, 100, "Distance field of the anatomy")
    reach = 0.5 * float(max(entry.max_diameter_mm, _height(family, size))) + 15.0
    field = AnatomyField.from_labels(labels, family.position, centre_lps=anchor.centre,
                                     radius_mm=reach)
    jobs.check(progress)
    return PlanContext(family, size, entry, anchor, rec, pose, field, labels, measurements, warnings)


def fit_metrics(ctx: PlanContext, pose=None, field=None, ring: dict | None = None,
                ostia: dict | None = None, labels=None):
    """Fit metrics (rounded, those that apply) and the FitResult at one phase.

    Defaults: the context's pose, field, anchor ring, ostia and label map (the
    CT phase); the cycle passes each phase's own.
    """
    family, entry = ctx.family, ctx.entry
    pose = ctx.pose if pose is None else pose
    fit = static_fit(ctx.profile, pose, ctx.field if field is None else field,
                     sealing_zone=tuple(family.placement.get("sealing_zone_mm", (0.0, 5.0))),
                     nominal_diameter_mm=entry.nominal_diameter_mm,
                     radial_stiffness=float(family.mechanics.get("radial_stiffness", 0.5)),
                     annulus=ctx.anchor.ring if ring is None else ring,
                     ostia=ctx.ostia if ostia is None else ostia)
    metrics = applicable(fit.metrics, family.position)
    if family.position == "mitral":
        metrics.update(_neo_lvot(ctx.labels if labels is None else labels, ctx.profile, pose,
                                 ctx.measurements, ctx.warnings))
    return {k: _round(v) for k, v in metrics.items()}, fit


def plan_json(ctx: PlanContext, phases: list[dict], worst: dict, vs: list[dict],
              haemodynamics: dict | None = None) -> dict:
    """The DESIGN.md ``plan`` object."""
    family, size, anchor, rec = ctx.family, ctx.size, ctx.anchor, ctx.recommendation
    return {
        "device": {"id": family.id, "family": family.family, "size": size_label(size),
                   "nominal_diameter_mm": ctx.entry.nominal_diameter_mm},
        "pose_lps": np.round(ctx.pose, 6).tolist(),
        "placement": {"anchor": anchor.name, "anchor_centre_lps": _r(anchor.centre),
                      "anchor_axis_lps": _r(anchor.axis, 4),
                      "depth_mm": round(depth(ctx.pose, family, size, anchor), 2),
                      "axis_angle_deg": round(axis_angle_deg(ctx.pose, anchor), 2)},
        "recommended_size": size_label(rec.size),
        "sizing": {"by": rec.by, "value": rec.value, "reason": rec.reason},
        "phases": phases,
        "worst": worst,
        "haemodynamics": haemodynamics or {},
        "verdicts": vs,
        "overall": overall(vs),
        "warnings": ctx.warnings,
    }


def plan_static(labels, *, device_id: str, size=None, image=None, measurements: dict | None = None,
                pose=None, depth_mm: float | None = None, progress=None) -> dict:
    """Plan ``device_id`` on this anatomy at one phase.

    Parameters
    ----------
    labels : Volume
        Label map (DESIGN.md labels).
    device_id : str
        Catalogue id (``hearttwin devices``).
    size : float, optional
        Device size; default the chart's recommendation.
    image : Volume, optional
        The CT (for the coronary ostia when ``measurements`` is not given).
    measurements : dict, optional
        :func:`hearttwin.core.anatomy.measure_all` result; measured when absent.
    pose : array_like (4, 4), optional
        Device -> LPS; default automatic placement.
    depth_mm : float, optional
        Depth for automatic placement (default the family's).
    progress : jobs.Progress, optional

    Returns
    -------
    dict
        DESIGN.md ``plan`` JSON (one phase).
    """
    start = time.perf_counter()
    ctx = prepare(labels, device_id=device_id, size=size, image=image, measurements=measurements,
                  pose=pose, depth_mm=depth_mm, progress=progress)
    jobs.report(progress, 90, 100, "Fit")
    metrics, fit = fit_metrics(ctx)
    vs = verdicts(ctx.family, metrics)
    jobs.report(progress, 100, 100, "Plan done")
    out = plan_json(ctx, [{"phase": 0.0, "metrics": metrics, "levels": fit.levels}],
                    {k: {"phase": 0.0, "value": v} for k, v in metrics.items() if v is not None}, vs)
    out["seconds"] = round(time.perf_counter() - start, 2)
    return out


#: metrics that mean something only for some positions
ONLY_FOR = {"coronary_distance_left_mm": ("aortic", "pulmonary"),
            "coronary_distance_right_mm": ("aortic", "pulmonary"),
            "implant_depth_mm": ("aortic", "mitral", "pulmonary")}


def applicable(metrics: dict, position: str) -> dict:
    """The fit metrics that apply to a device in ``position``."""
    return {k: v for k, v in metrics.items() if position in ONLY_FOR.get(k, (position,))}


def _neo_lvot(labels, profile_rz, pose, measurements, warnings) -> dict:
    from .fit_lvot import neo_lvot_area

    annulus = measurements.get("annulus") or None
    if annulus is None:
        warnings.append("Neo-LVOT not measured: the aortic annulus was not found.")
        return {"neo_lvot_area_mm2": None}
    return neo_lvot_area(labels, profile_rz, pose, annulus)


def _height(family, size) -> float:
    prof = profile(family, size)
    return float(np.ptp(prof[:, 1]))


def size_label(size):
    """A size as users write it: 26, not 26.0 (None stays None)."""
    if size is None:
        return None
    return int(size) if float(size).is_integer() else float(size)


def _round(v, digits: int = 2):
    return None if v is None else round(float(v), digits)


def _r(v, digits: int = 2) -> list[float]:
    return [round(float(x), digits) for x in v]
