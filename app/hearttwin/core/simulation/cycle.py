"""Device fit over the cardiac cycle (``hearttwin plan`` without ``--static``).

1. The 0D circulation is personalised to the case (chamber volumes of the
   label map as end-diastolic volumes, heart rate and cuff pressures when
   given) and run to its periodic steady state.
2. The anatomy moves with it (:class:`~.motion.HeartMotion`): each chamber
   follows its 0D volume curve (relative to the CT phase) and the root
   dilates with aortic pressure.
3. At each of ``n_phases`` phases the device moves with the tissue at its
   seat (the inflow centre and a point on its axis are carried by the
   motion; the frame stays rigid), and the static fit runs against the
   moving anatomy. The anatomy's distance field is not rebuilt per phase:
   a point of phase ``p`` is carried back to the CT phase by the inverse
   motion and the CT phase's field is read there (:class:`WarpedField`); the
   anchoring ring and the coronary ostia are carried forward the same way.
4. The worst value of each metric over the cycle decides its verdict.
5. Haemodynamics: the device in the 0D model (valve orifice area, the
   paravalvular leak channels as a regurgitant orifice, the neo-LVOT as an
   outflow obstruction, a closed shunt), before and after.

The CT is taken to be end-diastolic (phase 0) unless ``ct_phase`` says otherwise.
"""

from __future__ import annotations

import time

import numpy as np

from .. import jobs
from ..devices.placement import pose_from
from ..devices.plan import PlanContext, fit_metrics, plan_json, prepare, verdicts
from . import deform
from .motion import HeartMotion, MotionSettings

#: motion grid (mm) and volume samples for planning: the chamber volumes still meet the 0D
#: curves within 0.5% and the fit of 20 phases takes ~1 s instead of ~8 s at 4 mm
CYCLE_MOTION = {"grid_mm": 7.0, "max_samples": 10_000, "basis_points": 50_000}
#: effective orifice area of a transcatheter valve as a share of its nominal area
#: (about 1.5-1.9 cm2 for 23-26 mm balloon-expandable valves)
EOA_FRACTION = 0.35
#: which valve a device in each position replaces in the 0D model
VALVE_OF = {"aortic": "aortic", "mitral": "mitral", "pulmonary": "pulmonary"}
#: metrics whose worst value is the largest (the others: the smallest)
WORST_IS_HIGH = {"max_gap_mm", "gap_area_mm2", "max_penetration_mm", "max_penetration_myocardium_mm",
                 "max_penetration_wall_mm", "implant_depth_mm", "obstruction_percent",
                 "compression_percent", "eccentricity_device"}
STATUS_RANK = {"fail": 2, "caution": 1, "pass": 0}


class WarpedField:
    """The CT phase's distance field seen at another phase (read through the inverse motion)."""

    def __init__(self, field, motion: HeartMotion, phase_index: int) -> None:
        self.field = field
        self.grid = motion.grid
        self.inverse = motion.inverse_field(phase_index)

    def _back(self, points_lps) -> np.ndarray:
        pts = np.asarray(points_lps, float)
        flat = pts.reshape(-1, 3)
        return (flat + deform.interpolate(self.inverse, self.grid, flat).T).reshape(pts.shape)

    def sample(self, points_lps) -> np.ndarray:
        return self.field.sample(self._back(points_lps))

    def label_at(self, points_lps) -> np.ndarray:
        return self.field.label_at(self._back(points_lps))


def ring_points(ring: dict, n: int = 72) -> np.ndarray | None:
    """Points of the anchoring ring as an ellipse (max/min diameters about its centre)."""
    from ..anatomy.sections import plane_basis

    if not ring or "centre_lps" not in ring or "normal_lps" not in ring:
        return None
    dmax = ring.get("max_diameter_mm") or ring.get("area_derived_diameter_mm")
    dmin = ring.get("min_diameter_mm") or dmax
    if not dmax:
        if not ring.get("area_mm2"):
            return None
        dmax = dmin = 2.0 * float(np.sqrt(ring["area_mm2"] / np.pi))
    n_, u, v = plane_basis(ring["normal_lps"])
    if ring.get("major_axis_lps") is not None:
        u = np.asarray(ring["major_axis_lps"], float)
        u = u - (u @ n_) * n_
        u /= np.linalg.norm(u)
        v = np.cross(n_, u)
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    return (np.asarray(ring["centre_lps"], float) + 0.5 * dmax * np.cos(t)[:, None] * u
            + 0.5 * dmin * np.sin(t)[:, None] * v)


def ring_at(pts: np.ndarray, reference: dict) -> dict:
    """Area, perimeter, diameters, centre and normal of moved ring points (scaled so that the
    reference phase gives the reference's own measured area and perimeter)."""
    c = pts.mean(axis=0)
    _, _, vt = np.linalg.svd(pts - c)
    normal = vt[2] if vt[2] @ np.asarray(reference["normal_lps"], float) > 0 else -vt[2]
    q = pts - c
    x, y = q @ vt[0], q @ vt[1]
    area = 0.5 * abs(float(np.dot(x, np.roll(y, -1)) - np.dot(np.roll(x, -1), y)))
    perim = float(np.linalg.norm(np.diff(np.vstack([pts, pts[:1]]), axis=0), axis=1).sum())
    d = np.linalg.norm(pts[:, None] - pts[None], axis=2)
    half = len(pts) // 2
    chords = np.array([d[i, (i + half) % len(pts)] for i in range(half)])
    return {"area_mm2": area, "perimeter_mm": perim, "max_diameter_mm": float(chords.max()),
            "min_diameter_mm": float(chords.min()), "centre_lps": c.tolist(),
            "normal_lps": normal.tolist()}


def _scaled_ring(moved: dict, at_ct: dict, reference: dict) -> dict:
    """Moved ring values rescaled by the reference's measured / ellipse values."""
    out = dict(moved)
    for key in ("area_mm2", "perimeter_mm", "max_diameter_mm", "min_diameter_mm"):
        if reference.get(key) and at_ct.get(key):
            out[key] = moved[key] * float(reference[key]) / at_ct[key]
    return out


def _pose_at(ctx: PlanContext, motion: HeartMotion, k: int) -> np.ndarray:
    pose = np.array(ctx.pose, float)
    o, z = pose[:3, 3], pose[:3, 2]
    moved = motion.warp_points(np.vstack([o, o + 10.0 * z]), k)
    axis = moved[1] - moved[0]
    axis /= np.linalg.norm(axis)
    return pose_from(moved[0], axis, reference=pose[:3, 0])


def _margin(rule, value: float) -> float:
    """How far ``value`` lies inside the rule's pass band (negative: beyond a bound)."""
    lower = [b for b in (rule.caution_below, rule.fail_below) if b is not None]
    upper = [b for b in (rule.caution_above, rule.fail_above) if b is not None]
    margins = [value - max(lower)] if lower else []
    margins += [min(upper) - value] if upper else []
    return min(margins) if margins else 0.0


def worst_values(phases: list[dict], family) -> dict:
    """Per metric: the phase and value that is worst.

    With a catalogue rule: the worst status, then the value nearest to (or
    furthest beyond) a bound of the pass band, so a two-sided rule such as
    oversizing picks the phase closest to its nearer limit. Without a rule:
    the largest value for gaps, penetration and the like, else the smallest.
    """
    rules = {r.metric: r for r in family.fit_rules}
    keys = {k for p in phases for k, v in p["metrics"].items() if v is not None}
    out = {}
    for key in sorted(keys):
        vals = [(p["phase"], p["metrics"][key]) for p in phases if p["metrics"].get(key) is not None]
        rule = rules.get(key)
        if rule is not None:
            def badness(item, rule=rule):
                return (STATUS_RANK[rule.evaluate(item[1])], -_margin(rule, item[1]))
        else:
            sign = 1.0 if key in WORST_IS_HIGH else -1.0

            def badness(item, sign=sign):
                return (0, sign * item[1])
        phase, value = max(vals, key=badness)
        out[key] = {"phase": phase, "value": value}
    return out


def circulation_for(measurements: dict, *, heart_rate_bpm=None, systolic=None, diastolic=None,
                    steps_per_beat: int | None = None, progress=None):
    """0D parameters personalised to the case's end-diastolic chamber volumes and vitals.

    ``steps_per_beat`` fixes the 0D time steps per beat (default: 10 ms steps,
    see :func:`~.integrate.simulate`).
    """
    from .params import CirculationParams
    from .personalise import fit

    params = CirculationParams() if heart_rate_bpm is None else CirculationParams(
        heart_rate_bpm=float(heart_rate_bpm))
    ch = measurements.get("chambers") or {}
    targets = {}
    for key, target in (("LV", "lv_edv_ml"), ("RV", "rv_edv_ml"), ("LA", "la_ed_ml"),
                        ("RA", "ra_ed_ml")):
        v = (ch.get(key) or {}).get("volume_ml")
        if v and v > 5.0:
            targets[target] = float(v)
    if systolic is not None:
        targets["systolic_mmhg"] = float(systolic)
    if diastolic is not None:
        targets["diastolic_mmhg"] = float(diastolic)
    if not targets:
        from .integrate import simulate

        return params, simulate(params, steps_per_beat=steps_per_beat), []
    fitted = fit(params, targets, progress=progress, steps_per_beat=steps_per_beat)
    warnings = [] if fitted.converged else [
        "The circulation could not match every chamber volume within 1%: the simulated "
        "volumes are the closest it reached."]
    return fitted.params, fitted.result, warnings


def curves_at(result, phases: np.ndarray) -> tuple[dict, np.ndarray]:
    """Chamber volume curves (mL) and aortic pressure (mmHg) of patient 0 at ``phases``."""
    from .params import LA, LV, RA, RV, SA

    ph = np.asarray(result.phase, float)

    def at(arr):
        return np.interp(phases, ph, np.asarray(arr, float)[:, 0], period=1.0)

    curves = {name: at(result.volumes[:, idx]) for name, idx in
              (("LV", LV), ("RV", RV), ("LA", LA), ("RA", RA))}
    return curves, at(result.pressures[:, SA])


def fit_motion(labels, measurements: dict, result, phases: np.ndarray, *, ct_phase: float = 0.0,
               progress=None) -> HeartMotion:
    """The model heart motion of the plan over the cycle: chambers follow the 0D ``result``.

    Only the chambers with a measured volume are driven (relative targets:
    each chamber's 0D volume curve scaled to its CT volume at ``ct_phase``).
    """
    curves, p_ao = curves_at(result, phases)
    present = {k: v for k, v in curves.items()
               if (measurements.get("chambers", {}).get(k) or {}).get("volume_ml")}
    return HeartMotion.fit(labels, present, p_ao, phases,
                           settings=MotionSettings(targets="relative", ct_phase=ct_phase, **CYCLE_MOTION),
                           progress=progress)


def plan_cycle(labels, *, device_id: str, size=None, image=None, measurements: dict | None = None,
               pose=None, depth_mm: float | None = None, n_phases: int = 20,
               heart_rate_bpm=None, systolic=None, diastolic=None, ct_phase: float = 0.0,
               motion: HeartMotion | None = None, steps_per_beat: int | None = None,
               progress=None) -> dict:
    """The device fit at ``n_phases`` phases of the beating heart (DESIGN.md ``plan`` JSON).

    ``motion`` replaces the model motion (e.g. :meth:`HeartMotion.from_phases` of a
    multi-phase CT); ``steps_per_beat`` fixes the 0D time steps per beat (default 10 ms).
    """
    start = time.perf_counter()
    ctx = prepare(labels, device_id=device_id, size=size, image=image, measurements=measurements,
                  pose=pose, depth_mm=depth_mm, progress=jobs.SubProgress(progress, 0, 30, 100))
    phases = np.arange(int(n_phases)) / float(n_phases)
    jobs.report(progress, 30, 100, "Circulation")
    params, result, warnings = circulation_for(ctx.measurements, heart_rate_bpm=heart_rate_bpm,
                                               systolic=systolic, diastolic=diastolic,
                                               steps_per_beat=steps_per_beat,
                                               progress=jobs.SubProgress(progress, 30, 45, 100))
    ctx.warnings += warnings
    if motion is None:
        motion = fit_motion(labels, ctx.measurements, result, phases, ct_phase=ct_phase,
                            progress=jobs.SubProgress(progress, 45, 75, 100))
    ctx.warnings += motion.warnings
    ring0 = ctx.anchor.ring
    ring_pts = ring_points(ring0)
    ring_ct = ring_at(ring_pts, ring0) if ring_pts is not None else None
    ostia0 = ctx.ostia or {}
    rows = []
    for k in range(motion.n_phases):
        jobs.check(progress)
        jobs.report(progress, 75 + int(20 * k / motion.n_phases), 100, f"Fit at phase {k + 1}")
        ring = dict(ring0)
        if ring_pts is not None:
            ring = _scaled_ring(ring_at(motion.warp_points(ring_pts, k), ring0), ring_ct, ring0)
        ostia = {side: {"point_lps": motion.warp_points(np.asarray([o["point_lps"]]), k)[0].tolist()}
                 for side, o in ostia0.items() if isinstance(o, dict) and o.get("point_lps")}
        metrics, _ = fit_metrics(ctx, pose=_pose_at(ctx, motion, k),
                                 field=WarpedField(ctx.field, motion, k), ring=ring,
                                 ostia=ostia or None, labels=ctx.labels)
        metrics["annulus_area_mm2"] = round(float(ring.get("area_mm2") or 0.0), 1) or None
        rows.append({"phase": round(float(motion.phases[k]), 4), "metrics": metrics})
    worst = worst_values(rows, ctx.family)
    vs = verdicts(ctx.family, {k: w["value"] for k, w in worst.items()})
    jobs.report(progress, 95, 100, "Haemodynamics")
    haemo = device_haemodynamics(ctx, params, worst)
    out = plan_json(ctx, rows, worst, vs, haemo)
    # the model follows the 0D curves; a registered motion gives its own volumes
    volumes = motion.targets_ml or motion.fitted_ml or motion.chamber_volumes_ml()
    out["motion"] = {"method": motion.method, "phases": motion.n_phases,
                     "chamber_volumes_ml": {k: np.round(v, 1).tolist() for k, v in volumes.items()}}
    out["seconds"] = round(time.perf_counter() - start, 2)
    jobs.report(progress, 100, 100, "Plan done")
    return out


def device_haemodynamics(ctx: PlanContext, params, worst: dict) -> dict:
    """Before/after numbers of the 0D model with the device in place."""
    from .haemodynamics import before_after

    position = ctx.family.position
    device: dict = {}
    if position in VALVE_OF:
        d = float(ctx.entry.nominal_diameter_mm)
        device = {"valve": VALVE_OF[position], "eoa_mm2": EOA_FRACTION * np.pi * d * d / 4.0,
                  "paravalvular_gap_mm2": float((worst.get("gap_area_mm2") or {}).get("value") or 0.0)}
        lvot = (worst.get("neo_lvot_area_mm2") or {}).get("value")
        if position == "mitral" and lvot:
            device["neo_lvot_area_mm2"] = max(float(lvot), 1.0)
    elif position == "septal":
        device = {"close_shunt": True}
    if not device:
        return {"note": "This device does not change the 0D circulation."}
    out = before_after(params, loops=True, **device)
    out["device_model"] = {k: (round(v, 1) if isinstance(v, float) else v) for k, v in device.items()}
    return out
