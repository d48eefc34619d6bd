"""Benchmark: 0D circulation speed, one patient and vectorised, against scipy's solve_ivp.

Targets: >= 1,000 simulated beats per second for one patient and >= 20,000
patient-beats per second vectorised. Measured in this process:

Wall-clock figures decide PASS/FAIL; the runs also print beats per CPU
second (this process's own time), which is what to
compare when other jobs share the cores.

* one patient (default adult, 70 bpm, default 10 ms steps): beats per
  second of the beat loop alone, and of ``simulate`` to the periodic steady
  state (beats simulated / wall time, everything included);
* a cohort of ``--patients`` random parameter sets (heart rate 55-100 bpm,
  contractility, compliances, resistances, volumes) run for a fixed
  ``--beats`` with ``simulate_many``: patient-beats per second;
* the baseline: the same model (``Model.rhs``, the continuous equations)
  integrated with ``scipy.integrate.solve_ivp`` (Radau, stiff; LSODA) at
  rtol 1e-6 for one patient, and for ``--ivp-patients`` patients stacked
  into one system; and the fixed-step result's error against a tight Radau
  solution over one periodic beat.

    python bench/simulation.py [--patients 4000] [--beats 10] [--ivp-patients 20] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np

TARGET_SINGLE = 1000.0
TARGET_VECTOR = 20000.0


def cohort(n: int, seed: int = 0):
    from hearttwin.core.simulation import CirculationParams

    rng = np.random.default_rng(seed)
    u = rng.uniform
    return CirculationParams(
        heart_rate_bpm=u(55, 100, n), lv_emax=u(1.5, 3.5, n), rv_emax=u(0.4, 0.8, n),
        lv_emin=u(0.05, 0.09, n), sa_compliance=u(1.0, 1.8, n), r_systemic=u(0.8, 1.4, n),
        r_pulmonary=u(0.05, 0.12, n), blood_volume_ml=u(4700, 5300, n),
        aortic_eoa_cm2=u(0.8, 3.5, n), mitral_regurgitant_area_cm2=u(0.0, 0.2, n))


def single_patient(repeats: int = 300) -> dict:
    from hearttwin.core.simulation import CirculationParams, Model, simulate
    from hearttwin.core.simulation.integrate import steps_for
    from hearttwin.core.simulation.scalar import ScalarBeat
    from hearttwin.core.simulation.stepper import Stepper

    model = Model(CirculationParams())
    steps = steps_for(model.rr)
    beat = ScalarBeat(Stepper(model, steps))
    v = model.initial_state()
    rec = np.empty((steps + 1, 8, 1))
    moved = np.zeros((steps, 9, 1))
    c0, t0 = time.process_time(), time.perf_counter()
    for _ in range(repeats):
        beat.beat(v, rec, moved)
    loop = repeats / (time.perf_counter() - t0)
    loop_cpu = repeats / (time.process_time() - c0)
    best = best_cpu = 0.0
    for _ in range(5):
        c0, t0 = time.process_time(), time.perf_counter()
        r = simulate(CirculationParams())
        best = max(best, r.beats_run / (time.perf_counter() - t0))
        best_cpu = max(best_cpu, r.beats_run / max(time.process_time() - c0, 1e-9))
    return {"steps_per_beat": steps, "beat_loop_beats_per_s": loop, "beat_loop_beats_per_cpu_s": loop_cpu,
            "simulate_to_steady_state_beats_per_s": best,
            "simulate_to_steady_state_beats_per_cpu_s": best_cpu, "beats_to_steady_state": int(r.beats_run)}


def vectorised(n: int, beats: int) -> dict:
    from hearttwin.core.simulation import simulate_many

    params = cohort(n)
    c0, t0 = time.process_time(), time.perf_counter()
    results = simulate_many(params, min_beats=beats, max_beats=beats, chunk=2000)
    dt, cpu = time.perf_counter() - t0, time.process_time() - c0
    ok = np.concatenate([r.volumes[-1].sum(axis=0) for r in results])
    drift = float(np.max(np.abs(ok - params.array("blood_volume_ml")) / ok))
    return {"patients": n, "beats": beats, "seconds": dt, "patient_beats_per_s": n * beats / dt,
            "patient_beats_per_cpu_s": n * beats / cpu, "max_volume_drift": drift}


def ivp_baseline(n_ivp: int) -> dict:
    from scipy.integrate import solve_ivp

    from hearttwin.core.simulation import CirculationParams, Model, simulate

    out = {}
    model = Model(CirculationParams())
    v0 = simulate(CirculationParams()).volumes[0]
    rr = float(model.rr[0])
    for method in ("Radau", "LSODA"):
        beats = 3
        t0 = time.perf_counter()
        sol = solve_ivp(lambda t, y: model.rhs(t, y), (0, beats * rr),
                        v0[:, 0], method=method, rtol=1e-6, atol=1e-6, vectorized=True)
        out[f"{method}_beats_per_s"] = beats / (time.perf_counter() - t0)
        out[f"{method}_rhs_evaluations_per_beat"] = sol.nfev / beats
    params = cohort(n_ivp, seed=1)
    many = Model(params)
    v = simulate(params, min_beats=3, max_beats=3).volumes[0]
    beats = 2
    t0 = time.perf_counter()
    rr_max = float(many.rr.max())
    # one common time axis: each patient's phase runs at its own rate inside Model.rhs
    solve_ivp(lambda t, y: many.rhs(t, y.reshape(8, -1)).ravel(), (0, beats * rr_max), v.ravel(),
              method="LSODA", rtol=1e-6, atol=1e-6)
    out["LSODA_stacked_patients"] = n_ivp
    out["LSODA_stacked_patient_beats_per_s"] = n_ivp * beats / (time.perf_counter() - t0)
    return out


def accuracy() -> dict:
    from scipy.integrate import solve_ivp

    from hearttwin.core.simulation import CirculationParams, simulate, summarise

    r = simulate(CirculationParams())
    m = r.model
    sol = solve_ivp(lambda t, y: m.rhs(t, y[:, None])[:, 0], (0, float(m.rr[0])), r.volumes[0][:, 0],
                    method="Radau", rtol=1e-9, atol=1e-9, dense_output=True)
    ref = sol.sol(r.time[:, 0])
    lv = ref[0]
    return {"max_volume_error_ml": float(np.abs(r.volumes[:, :, 0].T - ref).max()),
            "ef_error_points": float(summarise(r)["lv"]["ef_percent"][0]
                                     - 100 * (lv.max() - lv.min()) / lv.max())}


def default_adult() -> dict:
    from hearttwin.core.simulation import CirculationParams, simulate, to_json

    j = to_json(simulate(CirculationParams()))
    return {"lv": j["lv"], "rv": j["rv"], "aortic_pressure_mmhg": j["aortic_pressure_mmhg"],
            "pulmonary_pressure_mmhg": j["pulmonary_pressure_mmhg"],
            "cardiac_output_l_min": j["cardiac_output_l_min"],
            "aortic_mean_gradient_mmhg": j["valves"]["aortic"]["mean_gradient_mmhg"]}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--patients", type=int, default=4000)
    ap.add_argument("--beats", type=int, default=10)
    ap.add_argument("--ivp-patients", type=int, default=20)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    if hasattr(os, "getloadavg") and os.getloadavg()[0] > (os.cpu_count() or 1):
        print(f"note: load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; "
              "wall-clock figures are pessimistic")
    res = {"single": single_patient(), "vectorised": vectorised(args.patients, args.beats),
           "solve_ivp": ivp_baseline(args.ivp_patients), "accuracy_vs_radau": accuracy(),
           "default_adult": default_adult()}
    s, v, b = res["single"], res["vectorised"], res["solve_ivp"]
    res["pass"] = {"single": s["simulate_to_steady_state_beats_per_s"] >= TARGET_SINGLE,
                   "vectorised": v["patient_beats_per_s"] >= TARGET_VECTOR}
    if args.json:
        print(json.dumps(res, indent=2))
        return 0
    print(f"one patient ({s['steps_per_beat']} steps/beat): beat loop "
          f"{s['beat_loop_beats_per_s']:.0f} beats/s; simulate to steady state "
          f"({s['beats_to_steady_state']} beats) {s['simulate_to_steady_state_beats_per_s']:.0f} "
          f"beats/s  [target {TARGET_SINGLE:.0f}: {'PASS' if res['pass']['single'] else 'FAIL'}] "
          f"(per CPU second: loop {s['beat_loop_beats_per_cpu_s']:.0f}, simulate "
          f"{s['simulate_to_steady_state_beats_per_cpu_s']:.0f})")
    print(f"vectorised {v['patients']} patients x {v['beats']} beats: {v['seconds']:.2f} s, "
          f"{v['patient_beats_per_s']:.0f} patient-beats/s  [target {TARGET_VECTOR:.0f}: "
          f"{'PASS' if res['pass']['vectorised'] else 'FAIL'}] ({v['patient_beats_per_cpu_s']:.0f} per "
          f"CPU second: the machine may be shared); blood volume drift "
          f"{v['max_volume_drift']:.1e}")
    print(f"solve_ivp baseline, one patient: Radau {b['Radau_beats_per_s']:.1f} beats/s "
          f"({b['Radau_rhs_evaluations_per_beat']:.0f} RHS/beat), LSODA {b['LSODA_beats_per_s']:.1f} "
          f"beats/s; {b['LSODA_stacked_patients']} patients stacked (LSODA) "
          f"{b['LSODA_stacked_patient_beats_per_s']:.1f} patient-beats/s")
    print(f"speed-up: one patient x{s['simulate_to_steady_state_beats_per_s'] / b['LSODA_beats_per_s']:.0f} "
          f"(vs LSODA), vectorised x{v['patient_beats_per_s'] / b['LSODA_stacked_patient_beats_per_s']:.0f}")
    a = res["accuracy_vs_radau"]
    print(f"accuracy vs Radau (rtol 1e-9), one beat: max volume error {a['max_volume_error_ml']:.2f} mL, "
          f"EF error {a['ef_error_points']:+.2f} points")
    print("default adult:", json.dumps(res["default_adult"]))
    return 0 if all(res["pass"].values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
