"""Personalisation: fit the circulation to a patient's volumes and cuff pressures.

Targets (any subset): ``lv_edv_ml``, ``lv_esv_ml``, ``rv_edv_ml``,
``rv_esv_ml`` (ventricular volumes, e.g. from the segmentation of the
end-diastolic and end-systolic phases), ``la_ed_ml``, ``ra_ed_ml`` (atrial
volumes at end-diastole, the phase a single CT is usually taken as),
``systolic_mmhg``, ``diastolic_mmhg`` (brachial cuff). The heart rate is
set, not fitted.

Each iteration simulates to the steady state and updates, multiplicatively:

* a chamber's size: ``V0`` times ``s`` and its elastances divided by ``s``
  (the same chamber, scaled), ``s`` by target / simulated end-diastolic
  volume, so the filling pressures stay those of the default adult;
* a ventricle's ``Emax`` by the ratio of simulated to target end-systolic
  volume above ``V0`` (contractility);
* the systemic resistance by target / simulated cuff mean pressure
  (diastolic + pulse / 3) and the arterial compliance by simulated / target
  pulse pressure.

All parameter sets of a vectorised :class:`CirculationParams` are fitted at once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import jobs
from ..errors import InputError
from .integrate import SimulationResult, simulate
from .outputs import summarise
from .params import CirculationParams

TARGETS = ("lv_edv_ml", "lv_esv_ml", "rv_edv_ml", "rv_esv_ml", "la_ed_ml", "ra_ed_ml",
           "systolic_mmhg", "diastolic_mmhg")


@dataclass
class FitResult:
    """Fitted parameters, the steady-state beat they give and how close it came."""

    params: CirculationParams
    result: SimulationResult
    iterations: int
    errors: dict  # target -> relative error (n,) of the final simulation
    converged: bool


def _simulated(summary: dict) -> dict:
    aortic = summary["aortic_pressure_mmhg"]
    return {"lv_edv_ml": summary["lv"]["edv_ml"], "lv_esv_ml": summary["lv"]["esv_ml"],
            "rv_edv_ml": summary["rv"]["edv_ml"], "rv_esv_ml": summary["rv"]["esv_ml"],
            "la_ed_ml": summary["la"]["end_diastolic_volume_ml"],
            "ra_ed_ml": summary["ra"]["end_diastolic_volume_ml"],
            "systolic_mmhg": aortic["systolic"], "diastolic_mmhg": aortic["diastolic"]}


def check_targets(targets: dict) -> dict:
    """Drop ``None`` targets and reject unknown or implausible ones."""
    out = {k: np.asarray(v, dtype=float) for k, v in targets.items() if v is not None}
    for k, v in out.items():
        if k not in TARGETS:
            raise InputError(f"Unknown personalisation target {k!r}; use one of {', '.join(TARGETS)}.")
        if np.any(~(v > 0)):
            raise InputError(f"Target {k} must be positive.")
    for side in ("lv", "rv"):
        if f"{side}_esv_ml" in out and f"{side}_edv_ml" in out and \
                np.any(out[f"{side}_esv_ml"] >= out[f"{side}_edv_ml"]):
            raise InputError(f"{side.upper()} end-systolic volume must be below the end-diastolic one.")
    if "systolic_mmhg" in out and "diastolic_mmhg" in out and \
            np.any(out["systolic_mmhg"] <= out["diastolic_mmhg"]):
        raise InputError("Systolic pressure must be above the diastolic pressure.")
    return out


def fit(params: CirculationParams, targets: dict, *, tol: float = 0.01, max_iter: int = 25,
        progress=None, **sim_kwargs) -> FitResult:
    """Adjust ``params`` until the simulated steady state meets ``targets`` within ``tol``.

    Parameters
    ----------
    params : CirculationParams
        Starting point (usually the defaults with the patient's heart rate).
    targets : dict
        Any of :data:`TARGETS`; values are numbers or ``(n,)`` arrays.
    tol : float
        Relative error accepted on every target.
    max_iter : int
        Simulations at most.
    progress : Progress, optional
        Reports per iteration; cancellable.
    **sim_kwargs
        Passed to :func:`~.integrate.simulate`.

    Returns
    -------
    FitResult
    """
    targets = check_targets(targets)
    p = params
    initial = None
    errors: dict = {}
    result = None
    it = 0
    for it in range(1, max_iter + 1):
        jobs.report(progress, it - 1, max_iter, f"personalisation, iteration {it}")
        result = simulate(p, initial=initial, **sim_kwargs)
        initial = result.volumes[-1].copy()
        sim = _simulated(summarise(result))
        errors = {k: sim[k] / t - 1.0 for k, t in targets.items()}
        if all(np.all(np.abs(e) < tol) for e in errors.values()):
            jobs.report(progress, max_iter, max_iter, "personalisation converged")
            return FitResult(_shaped_like(p, params), result, it, errors, True)
        p = _update(p, targets, sim)
    jobs.report(progress, max_iter, max_iter, "personalisation stopped")
    return FitResult(_shaped_like(p, params), result, it, errors, False)


def _shaped_like(p: CirculationParams, original: CirculationParams) -> CirculationParams:
    """Scalar fields again when one patient with scalar fields was fitted."""
    scalar = all(np.ndim(getattr(original, k)) == 0 for k in ("heart_rate_bpm", "lv_v0", "r_systemic"))
    return p.take(0) if scalar and p.size() == 1 else p


def _update(p: CirculationParams, targets: dict, sim: dict) -> CirculationParams:
    n = p.size()
    ch = {}
    for side, edv_key, esv_key in (("lv", "lv_edv_ml", "lv_esv_ml"), ("rv", "rv_edv_ml", "rv_esv_ml"),
                                   ("la", "la_ed_ml", None), ("ra", "ra_ed_ml", None)):
        v0, emin, emax = (p.array(f"{side}_{k}", n) for k in ("v0", "emin", "emax"))
        if edv_key in targets:
            s = np.clip(targets[edv_key] / sim[edv_key], 0.5, 2.0)
            v0, emin, emax = v0 * s, emin / s, emax / s
        if esv_key and esv_key in targets:
            # ESV - V0 ~ 1 / Emax at a given end-systolic pressure
            ratio = (sim[esv_key] - p.array(f"{side}_v0", n)) / np.maximum(
                targets[esv_key] - p.array(f"{side}_v0", n), 1.0)
            emax = np.maximum(emax * np.clip(ratio, 0.5, 2.0), emin * 1.5)
        ch.update({f"{side}_v0": v0, f"{side}_emin": emin, f"{side}_emax": emax})
    sys_t, dia_t = targets.get("systolic_mmhg"), targets.get("diastolic_mmhg")
    sys_s, dia_s = sim["systolic_mmhg"], sim["diastolic_mmhg"]
    r, c = p.array("r_systemic", n), p.array("sa_compliance", n)
    if sys_t is not None and dia_t is not None:
        map_t, map_s = dia_t + (sys_t - dia_t) / 3, dia_s + (sys_s - dia_s) / 3
        r = r * np.clip(map_t / map_s, 0.5, 2.0)
        c = c * np.clip((sys_s - dia_s) / (sys_t - dia_t), 0.5, 2.0)
    elif sys_t is not None or dia_t is not None:
        key = "systolic_mmhg" if sys_t is not None else "diastolic_mmhg"
        r = r * np.clip(targets[key] / sim[key], 0.5, 2.0)
    ch.update(r_systemic=r, sa_compliance=c)
    return p.replace(**ch)
