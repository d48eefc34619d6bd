"""Clinical numbers from a simulated beat: volumes, EF, pressures, flows, gradients.

:func:`summarise` turns a :class:`~.integrate.SimulationResult` into arrays of
shape ``(n,)`` (one value per parameter set); :func:`to_json` gives the
``hearttwin simulate --json`` object of one set (DESIGN.md keys plus extras).
"""

from __future__ import annotations

import numpy as np

from .integrate import SimulationResult
from .params import LA, LV, PA, RA, RV, SA, VALVE_EDGES, bernoulli_coefficient

#: valve -> (upstream compartment, downstream compartment)
VALVE_SIDES = {"aortic": (LV, SA), "mitral": (LA, LV), "tricuspid": (RA, RV), "pulmonary": (RV, PA)}
#: forward flow below this (mL/s) does not count as the valve being open
OPEN_FLOW = 1.0


def _chamber(volumes: np.ndarray) -> dict:
    edv, esv = volumes.max(axis=0), volumes.min(axis=0)
    sv = edv - esv
    return {"edv_ml": edv, "esv_ml": esv, "sv_ml": sv, "ef_percent": 100.0 * sv / edv}


def _pressure(p: np.ndarray) -> dict:
    # uniform steps over one period: the mean is over the N distinct samples
    return {"systolic": p.max(axis=0), "diastolic": p.min(axis=0), "mean": p[:-1].mean(axis=0)}


def arterial_pressures(result: SimulationResult, inst: np.ndarray | None = None):
    """Proximal aortic and pulmonary-trunk pressures (N+1, n).

    The arterial compartments sit behind the characteristic impedance; the
    pressure just above the valve adds the impedance's drop ``Z Q``.
    """
    model, p = result.model, result.pressures
    if inst is None:
        inst = model.flows(np.moveaxis(p, 0, -1))
    z_ao = result.params.array("aortic_impedance", model.n)
    z_pa = result.params.array("pulmonary_impedance", model.n)
    aortic = p[:, SA] + (z_ao[:, None] * inst[VALVE_EDGES["aortic"]]).T
    pulmonary = p[:, PA] + (z_pa[:, None] * inst[VALVE_EDGES["pulmonary"]]).T
    return aortic, pulmonary


def summarise(result: SimulationResult) -> dict:
    """Every output of the beat as ``(n,)`` arrays, nested like the JSON object."""
    v, p = result.volumes, result.pressures
    model = result.model
    h = model.rr / (len(result.phase) - 1)
    moved = result.flows * h  # (N, 9, n) volume carried per step
    hr = result.heart_rate_bpm
    inst = model.flows(np.moveaxis(p, 0, -1))  # (9, n, N+1) instantaneous flows
    out: dict = {"heart_rate_bpm": hr}
    for key, row in (("lv", LV), ("rv", RV)):
        out[key] = _chamber(v[:, row])
        out[key]["end_diastolic_pressure_mmhg"] = p[0, row]
        out[key]["peak_pressure_mmhg"] = p[:, row].max(axis=0)
    for key, row in (("la", LA), ("ra", RA)):
        out[key] = {"max_volume_ml": v[:, row].max(axis=0), "min_volume_ml": v[:, row].min(axis=0),
                    "end_diastolic_volume_ml": v[0, row], "mean_pressure_mmhg": p[:-1, row].mean(axis=0)}
    aortic, pulmonary = arterial_pressures(result, inst)
    out["aortic_pressure_mmhg"] = _pressure(aortic)
    out["pulmonary_pressure_mmhg"] = _pressure(pulmonary)
    net = moved.sum(axis=0)  # (9, n)
    out["cardiac_output_l_min"] = net[VALVE_EDGES["aortic"]] * hr / 1000.0
    out["forward_stroke_volume_ml"] = net[VALVE_EDGES["aortic"]]
    valves = {}
    r_valve = result.params.array("valve_resistance", model.n)[:, None]
    for name, k in VALVE_EDGES.items():
        q = inst[k]  # (n, N+1)
        # the drop across the valve orifice itself (not the impedance or an LVOT obstruction)
        b = bernoulli_coefficient(result.params.array(f"{name}_eoa_cm2", model.n))[:, None]
        drop = r_valve * q + b * q * q
        is_open = q > OPEN_FLOW
        n_open = is_open.sum(axis=-1)
        fwd = np.clip(moved[:, k], 0, None).sum(axis=0)
        back = -np.clip(moved[:, k], None, 0).sum(axis=0)
        valves[name] = {
            "forward_volume_ml": fwd, "regurgitant_volume_ml": back,
            "regurgitant_fraction_percent": 100.0 * back / np.maximum(fwd, 1e-9),
            "peak_gradient_mmhg": np.where(is_open, drop, 0.0).max(axis=-1),
            "mean_gradient_mmhg": np.where(is_open, drop, 0.0).sum(axis=-1) / np.maximum(n_open, 1),
            "peak_flow_ml_s": q.max(axis=-1),
        }
    out["valves"] = valves
    b_lvot = bernoulli_coefficient(result.params.array("lvot_area_cm2", model.n))
    q_peak = valves["aortic"]["peak_flow_ml_s"]
    out["lvot_gradient_peak_mmhg"] = b_lvot * q_peak * q_peak
    qs = net[VALVE_EDGES["aortic"]]
    qp = net[VALVE_EDGES["pulmonary"]]
    out["qp_qs"] = qp / np.maximum(qs, 1e-9)
    out["shunt_flow_l_min"] = net[8] * hr / 1000.0
    out["beats_to_steady_state"] = result.beats
    out["steady_state_reached"] = result.converged
    return out


def _pick(tree, i: int, digits: int = 2):
    if isinstance(tree, dict):
        return {k: _pick(v, i, digits) for k, v in tree.items()}
    value = np.asarray(tree)[i]
    if value.dtype == bool:
        return bool(value)
    if np.issubdtype(value.dtype, np.integer):
        return int(value)
    return round(float(value), digits)


def pv_loop(result: SimulationResult, index: int = 0, chamber: str = "lv") -> dict:
    """Pressure-volume loop samples of one chamber over the beat."""
    row = {"lv": LV, "rv": RV, "la": LA, "ra": RA}[chamber]
    return {"phase": np.round(result.phase, 4).tolist(),
            "volume_ml": np.round(result.volumes[:, row, index], 2).tolist(),
            "pressure_mmhg": np.round(result.pressures[:, row, index], 2).tolist()}


def to_json(result: SimulationResult, index: int = 0, loops: bool = False,
            summary: dict | None = None) -> dict:
    """The ``simulate --json`` object of parameter set ``index``."""
    summary = summarise(result) if summary is None else summary
    out = _pick(summary, index)
    out["seconds"] = round(result.seconds, 4)
    out["steps_per_beat"] = len(result.phase) - 1
    out["beats_simulated"] = int(result.beats_run)
    if loops:
        aortic, pulmonary = arterial_pressures(result)
        out["pv_loops"] = {c: pv_loop(result, index, c) for c in ("lv", "rv", "la", "ra")}
        out["waveforms"] = {
            "phase": np.round(result.phase, 4).tolist(),
            "aortic_pressure_mmhg": np.round(aortic[:, index], 2).tolist(),
            "pulmonary_pressure_mmhg": np.round(pulmonary[:, index], 2).tolist(),
            "aortic_flow_ml_s": np.round(result.flows[:, VALVE_EDGES["aortic"], index], 1).tolist(),
            "mitral_flow_ml_s": np.round(result.flows[:, VALVE_EDGES["mitral"], index], 1).tolist(),
        }
    return out
