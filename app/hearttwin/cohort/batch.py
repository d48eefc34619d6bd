"""One Dask task: a batch of virtual patients, every device and size, over the cycle.

:func:`run_batch` is what the workers run. It never raises for a patient:
a failure (implausible circulation, an anatomy a device cannot be placed
on, any exception) becomes that patient's rows with ``status`` "error" and
the message, and the rest of the batch goes on. It returns the rows and the
time spent in each stage (the per-patient cost breakdown of the bench).
"""

from __future__ import annotations

import os
import time

import numpy as np

from ..core.devices.catalogue import get_device
from ..core.devices.plan import overall, verdicts
from . import haemo
from .cycle import PatientAnatomy, cycle_phases, fit_over_cycle, radial_scales, recommended, worst_over_phases
from .results import FIT_METRICS


def _error(message: str) -> dict:
    return {"status": "error", "error": message, "overall": None}


def _size(s):
    return int(s) if float(s).is_integer() else float(s)


def run_batch(patients: list, base, study: dict) -> dict:
    """Plan every device and size of ``study`` on each patient of the batch.

    Parameters
    ----------
    patients : list of VirtualPatient
        All on ``base``.
    base : BaseAnatomy
    study : dict
        ``{"devices": {device_id: [sizes]}, "phases": int, "n_around": int}``.

    Returns
    -------
    dict
        ``{"rows": [dict], "timings": {"native_sim", "fit", "device_sim": seconds,
        "plans": int, "patients": int, "wall", "cpu": seconds of the whole call (CPU:
        this process's, all threads), "started", "finished": epoch seconds},
        "host": "node:pid"}`` (which worker process ran it).
    """
    started, cpu0 = time.time(), time.process_time()
    t0 = time.perf_counter()
    phases = cycle_phases(study.get("phases", 10))
    n_around = int(study.get("n_around", 72))
    native, failed = haemo.native(patients, phases)
    t_native = time.perf_counter() - t0
    rows, pending, t_fit = [], [], 0.0
    for patient in patients:
        head = patient.to_row()
        if patient.patient_id in native:
            nat = native[patient.patient_id]
            lams = radial_scales(nat["aortic_mmhg"], patient.root_area_strain)
            head["native_mean_gradient_mmhg"] = round(nat["mean_gradient_mmhg"], 3)
        for device_id, sizes in study["devices"].items():
            for size in sizes:
                row = dict(head, device=device_id, size=_size(size))
                rows.append(row)
                if patient.patient_id in failed:
                    row.update(_error(failed[patient.patient_id]))
                    continue
                t = time.perf_counter()
                try:
                    pending.append(_plan(row, get_device(device_id), size, patient, base,
                                         phases, lams, nat["params"], n_around))
                except Exception as err:  # noqa: BLE001 - one patient's failure is recorded, never fatal
                    row.update(_error(f"{type(err).__name__}: {err}"))
                row["seconds"] = time.perf_counter() - t
                t_fit += row["seconds"]
    t = time.perf_counter()
    outcomes = haemo.with_device([p["haemo"] for p in pending])
    t_device = time.perf_counter() - t
    share = (t_native + t_device) / max(len(rows), 1)
    for p, out in zip(pending, outcomes):
        _finish(p, out)
    for row in rows:
        row["seconds"] = round(row.get("seconds", 0.0) + share, 4)
    return {"rows": rows, "timings": {"native_sim": t_native, "fit": t_fit, "device_sim": t_device,
                                      "plans": len(rows), "patients": len(patients),
                                      "wall": time.perf_counter() - t0, "cpu": time.process_time() - cpu0,
                                      "started": started, "finished": time.time()},
            "host": f"{os.uname().nodename}:{os.getpid()}"}


def _plan(row, family, size, patient, base, phases, lams, params, n_around) -> dict:
    """Fit over the cycle; fills the row's anatomy and fit columns, returns the haemodynamic job."""
    anatomy = PatientAnatomy(base.entry(family), patient)
    rec_size, _ = recommended(family, anatomy, lams)
    ring0, ring_sys = anatomy.ring(1.0), anatomy.ring(float(np.max(lams)))
    row.update(annulus_area_mm2=_r(ring0.get("area_mm2")), annulus_perimeter_mm=_r(ring0.get("perimeter_mm")),
               annulus_area_systole_mm2=_r(ring_sys.get("area_mm2")),
               recommended_size=None if rec_size is None else _size(rec_size),
               is_recommended=rec_size is not None and abs(float(rec_size) - float(size)) < 1e-6)
    ostia = base.measurements.get("coronary_ostia")
    per_phase = fit_over_cycle(family, size, anatomy, ostia, phases, lams, n_around)
    worst = worst_over_phases(family, per_phase)
    for m in FIT_METRICS:
        phase, value = worst.get(m, (None, None))
        row[m], row[f"{m}_phase"] = _r(value), phase
    gaps = [m.get("gap_area_mm2") for _, m in per_phase if m.get("gap_area_mm2") is not None]
    expansion = per_phase[0][1].get("expansion_percent")
    job = {"params": params, "position": family.position, "gap_area_mm2": float(np.mean(gaps)) if gaps else 0.0,
           "eoa_mm2": haemo.device_eoa_mm2(family.size(size).nominal_diameter_mm, expansion)}
    return {"row": row, "family": family, "worst": worst, "haemo": job}


def _finish(pending: dict, out: dict) -> None:
    """Haemodynamic columns, verdicts and overall of one planned row."""
    row, family = pending["row"], pending["family"]
    if "error" in out:
        row.update(_error(out["error"]))
        return
    row.update({k: _r(v) for k, v in out.items()})
    values = {m: v for m, (_, v) in pending["worst"].items()}
    vs = verdicts(family, values)
    for rule in haemo.HAEMO_RULES:
        if out.get(rule.metric) is not None and family.position in haemo.VALVES:
            vs.append({"rule": rule.metric, "value": out[rule.metric],
                       "status": rule.evaluate(out[rule.metric])})
    for v in vs:
        row[f"verdict_{v['rule']}"] = v["status"]
    row.update(overall=overall(vs), status="ok", error=None)


def _r(v, digits: int = 3):
    return None if v is None else round(float(v), digits)
