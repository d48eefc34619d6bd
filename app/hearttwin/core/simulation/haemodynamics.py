"""Device -> haemodynamics: what a valve, a leak, a neo-LVOT or an occluder does to the loop.

Simple closed forms (the simplified Bernoulli / 4 v^2 rule) and a
before/after simulation of the same patient. Areas are in mm2 here (the
unit of the plan's metrics); the circulation parameters take cm2.
"""

from __future__ import annotations

import numpy as np

from ..errors import InputError
from .integrate import simulate
from .outputs import summarise, to_json
from .params import MMHG_PA, BLOOD_DENSITY, CirculationParams


def bernoulli_gradient(flow_ml_s, area_mm2) -> np.ndarray:
    """Pressure drop (mmHg) of ``flow_ml_s`` through an orifice of ``area_mm2``.

    ``dp = rho/2 (Q/A)^2``, i.e. 4 v^2 with v in m/s.
    """
    area = np.asarray(area_mm2, dtype=float)
    if np.any(area <= 0):
        raise InputError("An orifice area must be positive.")
    v = np.asarray(flow_ml_s, dtype=float) * 1e-6 / (area * 1e-6)  # m/s
    return BLOOD_DENSITY / 2.0 * v * v / MMHG_PA


def orifice_flow(dp_mmhg, area_mm2) -> np.ndarray:
    """Flow (mL/s) through an orifice of ``area_mm2`` driven by ``dp_mmhg`` (signed)."""
    dp = np.asarray(dp_mmhg, dtype=float)
    v = np.sqrt(2.0 * np.abs(dp) * MMHG_PA / BLOOD_DENSITY)
    return np.sign(dp) * v * np.asarray(area_mm2, dtype=float)  # m/s * mm2 = mL/s


def mean_gradient(stroke_volume_ml, ejection_time_s, area_mm2) -> np.ndarray:
    """Mean gradient (mmHg) of a half-sine ejection of ``stroke_volume_ml`` through ``area_mm2``.

    Mean of ``4 v(t)^2`` with ``Q(t) = Qpk sin(pi t / T)``: ``Qpk = pi SV / (2 T)``
    and ``mean(sin^2) = 1/2``.
    """
    q_peak = np.pi * np.asarray(stroke_volume_ml, float) / (2.0 * np.asarray(ejection_time_s, float))
    return 0.5 * bernoulli_gradient(q_peak, area_mm2)


def apply_device(params: CirculationParams, *, valve: str | None = None, eoa_mm2=None,
                 paravalvular_gap_mm2=None, neo_lvot_area_mm2=None, close_shunt: bool = False,
                 gap_discharge: float = 1.0) -> CirculationParams:
    """``params`` with a device in place.

    Parameters
    ----------
    valve : {"aortic", "mitral", "tricuspid", "pulmonary"}, optional
        The valve replaced: ``eoa_mm2`` becomes its effective orifice area and
        its native regurgitation is removed; ``paravalvular_gap_mm2`` (times
        ``gap_discharge``, the effective/anatomical area ratio) becomes its
        regurgitant orifice.
    neo_lvot_area_mm2 : float, optional
        LVOT obstruction orifice in series with the aortic valve (e.g. after TMVR).
    close_shunt : bool
        An occluder closes the atrial shunt.
    """
    ch = {}
    if valve is not None:
        if valve not in ("aortic", "mitral", "tricuspid", "pulmonary"):
            raise InputError(f"Unknown valve {valve!r}.")
        if eoa_mm2 is not None:
            if np.any(np.asarray(eoa_mm2) <= 0):
                raise InputError("The valve's effective orifice area must be positive.")
            ch[f"{valve}_eoa_cm2"] = np.asarray(eoa_mm2, float) / 100.0
        gap = 0.0 if paravalvular_gap_mm2 is None else np.asarray(paravalvular_gap_mm2, float)
        if np.any(gap < 0):
            raise InputError("A paravalvular gap area cannot be negative.")
        ch[f"{valve}_regurgitant_area_cm2"] = gap * gap_discharge / 100.0
    elif eoa_mm2 is not None or paravalvular_gap_mm2 is not None:
        raise InputError("Name the valve the device replaces.")
    if neo_lvot_area_mm2 is not None:
        if np.any(np.asarray(neo_lvot_area_mm2) <= 0):
            raise InputError("The neo-LVOT area must be positive.")
        ch["lvot_area_cm2"] = np.asarray(neo_lvot_area_mm2, float) / 100.0
    if close_shunt:
        ch["asd_area_cm2"] = 0.0
    return params.replace(**ch)


def before_after(params: CirculationParams, loops: bool = True, progress=None,
                 **device) -> dict:
    """Simulate one patient without and with a device (one vectorised run of 2).

    ``device`` are the keywords of :func:`apply_device`. Returns
    ``{"before": json, "after": json, "change": {...}}`` with the
    ``simulate --json`` objects (PV loops with ``loops``) and the differences
    that matter for a plan.
    """
    if params.size() != 1:
        raise InputError("before_after takes one patient's parameters.")
    after = apply_device(params, **device)
    both = CirculationParams.stack([params, after])
    result = simulate(both, progress=progress)
    summary = summarise(result)
    out = {"before": to_json(result, 0, loops, summary), "after": to_json(result, 1, loops, summary)}
    b, a = out["before"], out["after"]
    valve = device.get("valve") or "aortic"
    out["change"] = {
        "valve": valve,
        "mean_gradient_mmhg": [b["valves"][valve]["mean_gradient_mmhg"],
                               a["valves"][valve]["mean_gradient_mmhg"]],
        "regurgitant_volume_ml": [b["valves"][valve]["regurgitant_volume_ml"],
                                  a["valves"][valve]["regurgitant_volume_ml"]],
        "lvot_gradient_peak_mmhg": [b["lvot_gradient_peak_mmhg"], a["lvot_gradient_peak_mmhg"]],
        "qp_qs": [b["qp_qs"], a["qp_qs"]],
        "cardiac_output_l_min": [b["cardiac_output_l_min"], a["cardiac_output_l_min"]],
    }
    return out
