"""Haemodynamics of a batch of virtual patients: native beat, then each device in place.

The 0D circulation (:mod:`hearttwin.core.simulation`) runs vectorised: one
call simulates every patient of a batch (native), a second every
patient x device x size with the device in place. Every set runs
:data:`BEATS` beats on one time grid, so a patient's numbers do not depend
on its batch. A patient whose
parameters are implausible fails alone (its parameters are validated one
by one before stacking); if the stacked run itself fails, the batch is run
patient by patient to find the culprit.

Device model (stated): a valve's effective orifice area is
:data:`PERFORMANCE_INDEX` times the area of its expected constrained frame
(nominal diameter x ``expansion_percent``), about 1.5 cm2 for a 23 mm and
1.9 cm2 for a 26 mm valve at nominal expansion; its paravalvular
regurgitant orifice is the cycle-mean leak-channel area of the fit
(``gap_area_mm2``). Devices that are not valves leave the circulation as it
is and get no valve columns (gradient, regurgitation: empty).
"""

from __future__ import annotations

import numpy as np

from ..core.devices.catalogue import FitRule
from ..core.errors import HeartTwinError
from ..core.simulation import CirculationParams, apply_device, simulate, summarise
from ..core.simulation.integrate import steps_for
from ..core.simulation.outputs import arterial_pressures
from .distributions import HAEMODYNAMICS

#: effective orifice area / frame lumen area of a transcatheter valve
PERFORMANCE_INDEX = 0.40
#: positions where the device is a valve replacing the native one
VALVES = ("aortic", "mitral", "pulmonary")

#: cohort rules on the haemodynamic outcome (the catalogue's rules cover the fit)
HAEMO_RULES = (
    FitRule("mean_gradient_mmhg", caution_above=20.0, fail_above=40.0,
            why="Residual transvalvular gradient: >= 20 mmHg moderate, >= 40 mmHg severe "
                "(VARC-3 haemodynamic valve deterioration thresholds)."),
    FitRule("regurgitant_fraction_percent", caution_above=30.0, fail_above=50.0,
            why="Total regurgitant fraction across the new valve: 30-49 % moderate, "
                ">= 50 % severe (echocardiographic grading)."),
)
#: every set runs this many beats, on one time grid (the slowest heart rate's): a patient's
#: numbers then do not depend on the batch it shares a vectorised run with (with convergence
#: tests and the grid of the batch's longest beat they would); 20 beats are within 0.02 %
#: of 40 over the default distributions
BEATS = 20
STEPS = steps_for(60.0 / HAEMODYNAMICS["heart_rate_bpm"].low)
#: haemodynamic outputs recorded per row
OUTPUTS = ("device_eoa_mm2", "mean_gradient_mmhg", "peak_gradient_mmhg",
           "regurgitant_fraction_percent", "cardiac_output_l_min", "aortic_systolic_mmhg",
           "aortic_diastolic_mmhg")


def patient_params(patient) -> CirculationParams:
    """The patient's circulation: defaults overridden by its sampled values."""
    return CirculationParams().replace(**patient.haemodynamics)


def _run(params_list: list) -> tuple[list, list]:
    """Simulate scalar parameter sets; returns (results per set or None, error per set or None)."""
    results, errors = [None] * len(params_list), [None] * len(params_list)
    ok = []
    for i, p in enumerate(params_list):
        try:
            p.validate()
            ok.append(i)
        except HeartTwinError as err:
            errors[i] = f"{type(err).__name__}: {err}"
    if not ok:
        return results, errors
    try:
        res = simulate(CirculationParams.stack([params_list[i] for i in ok]), steps_per_beat=STEPS,
                       min_beats=BEATS, max_beats=BEATS)
        for j, i in enumerate(ok):
            results[i] = (res, j)
    except Exception:  # noqa: BLE001 - isolate the failing set: one by one
        for i in ok:
            try:
                results[i] = (simulate(params_list[i], steps_per_beat=STEPS, min_beats=BEATS,
                                       max_beats=BEATS), 0)
            except Exception as err:  # noqa: BLE001 - recorded per patient
                errors[i] = f"{type(err).__name__}: {err}"
    return results, errors


def native(patients, phases) -> tuple[dict, dict]:
    """Native beat of each patient.

    Returns
    -------
    ok : dict
        patient id -> {"aortic_mmhg": (len(phases),) proximal aortic pressure
        at ``phases``, "mean_gradient_mmhg": native aortic gradient,
        "params": CirculationParams}.
    errors : dict
        patient id -> message.
    """
    params = [patient_params(p) for p in patients]
    results, errors = _run(params)
    ok, failed = {}, {}
    summaries: dict = {}
    for p, prm, r, e in zip(patients, params, results, errors):
        if r is None:
            failed[p.patient_id] = e
            continue
        res, j = r
        if id(res) not in summaries:
            summaries[id(res)] = (summarise(res), arterial_pressures(res)[0])
        summary, aortic = summaries[id(res)]
        wave = np.interp(np.asarray(phases, float), res.phase, aortic[:, j], period=1.0)
        ok[p.patient_id] = {"aortic_mmhg": wave, "params": prm,
                            "mean_gradient_mmhg": float(summary["valves"]["aortic"]["mean_gradient_mmhg"][j])}
    return ok, failed


def device_eoa_mm2(nominal_diameter_mm: float, expansion_percent: float | None) -> float:
    """Effective orifice area (mm2) of a valve of this nominal size and expansion."""
    d = float(nominal_diameter_mm) * (1.0 if expansion_percent is None else expansion_percent / 100.0)
    return PERFORMANCE_INDEX * np.pi * d * d / 4.0


def with_device(cases: list[dict]) -> list[dict]:
    """Circulation with the device in place, one vectorised run.

    Parameters
    ----------
    cases : list of dict
        ``{"params": CirculationParams, "position": str, "eoa_mm2": float,
        "gap_area_mm2": float}`` per patient x device x size.

    Returns
    -------
    list of dict
        Per case the :data:`OUTPUTS` (``"error"`` set when that run failed).
    """
    params = []
    for c in cases:
        valve = c["position"] if c["position"] in VALVES else None
        if valve is None:
            params.append(c["params"])
            continue
        params.append(apply_device(c["params"], valve=valve, eoa_mm2=c["eoa_mm2"],
                                   paravalvular_gap_mm2=max(c["gap_area_mm2"] or 0.0, 0.0)))
    results, errors = _run(params)
    out, summaries = [], {}
    for c, r, e in zip(cases, results, errors):
        if r is None:
            out.append({"error": e})
            continue
        res, j = r
        if id(res) not in summaries:
            summaries[id(res)] = summarise(res)
        s = summaries[id(res)]
        row = {k: None for k in OUTPUTS}
        row.update(cardiac_output_l_min=float(s["cardiac_output_l_min"][j]),
                   aortic_systolic_mmhg=float(s["aortic_pressure_mmhg"]["systolic"][j]),
                   aortic_diastolic_mmhg=float(s["aortic_pressure_mmhg"]["diastolic"][j]))
        if c["position"] in VALVES:  # the new valve's gradient and regurgitation
            v = s["valves"][c["position"]]
            row.update(device_eoa_mm2=c["eoa_mm2"], mean_gradient_mmhg=float(v["mean_gradient_mmhg"][j]),
                       peak_gradient_mmhg=float(v["peak_gradient_mmhg"][j]),
                       regurgitant_fraction_percent=float(v["regurgitant_fraction_percent"][j]))
        out.append(row)
    return out
