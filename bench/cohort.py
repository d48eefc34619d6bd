"""Benchmark: virtual-cohort throughput on Dask, 1 and 2 workers, and the cost of one plan.

Targets (issue 10): >= 1.7x patients per second from 1 to 2 workers, and
>= 600 patient-device plans (full cycle) per minute on 2 cores, at the
cohort's default resolution: 10 phases per cycle, 72 rays around the device,
one sealing level per mm and envelope rings every 1 mm, the base field at the
small phantom's voxel size (about 1.7 mm), 20 beats of the 0D circulation
per patient before and per plan after.

Measured here:

* per-plan cost breakdown, in this process (:func:`run_batch` on a batch of
  ``--batch`` patients x the device's sizes): native 0D beat, fit over the
  cycle (and per phase), 0D with the device; wall and CPU time (this
  process's own), so the figure means something when other jobs share the
  cores;
* throughput on a local Dask cluster of 1 and then 2 single-threaded worker
  processes: ``--patients`` patients x sizes, timed from submission to the
  last row written (cluster start-up and worker imports excluded: warmed
  before timing; the base anatomy comes from the cache);
* the baseline the cohort design avoids: rebuilding the signed distance
  field for each patient and phase (what a per-patient ``plan_static``
  over the cycle would do), per plan.

Wall-clock figures decide PASS/FAIL; with other jobs on the machine the
CPU-time figure (plans per CPU-minute x 2) is the one to compare.

    python bench/cohort.py [--patients 48] [--batch 8] [--device thv-balloon] [--json]
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

TARGET_SCALING = 1.7
TARGET_PLANS_PER_MIN = 600.0
BASE = "phantom:small:0"


def _cache(folder: Path, device: str):
    from hearttwin.cohort import base as cohort_base

    spec = cohort_base.BaseSpec.parse(BASE)
    t = time.perf_counter()
    b = cohort_base.load_or_build(spec, [device], folder)
    return b, time.perf_counter() - t


def breakdown(base, device: str, sizes, n: int) -> dict:
    from hearttwin.cohort.batch import run_batch
    from hearttwin.cohort.distributions import sample_patients
    from hearttwin.cohort.study import StudySpec

    spec = StudySpec({device: sizes}, n_patients=n, bases=[BASE])
    patients = sample_patients(n, seed=123, bases=[base.key])
    run_batch(patients[:1], base, spec.task_payload())  # warm caches (catalogue, imports)
    w, c = time.perf_counter(), time.process_time()
    out = run_batch(patients, base, spec.task_payload())
    wall, cpu = time.perf_counter() - w, time.process_time() - c
    t = out["timings"]
    plans = t["plans"]
    return {"plans": plans, "phases": spec.phases, "wall_s_per_plan": wall / plans,
            "cpu_s_per_plan": cpu / plans,
            "native_sim_s_per_plan": t["native_sim"] / plans, "fit_s_per_plan": t["fit"] / plans,
            "fit_s_per_phase": t["fit"] / plans / spec.phases,
            "device_sim_s_per_plan": t["device_sim"] / plans,
            "plans_per_cpu_min_x2": 2 * 60.0 / (cpu / plans)}


def throughput(cache: Path, device: str, sizes, n_patients: int, n_workers: int) -> dict:
    from hearttwin.cohort.results import ResultsWriter
    from hearttwin.cohort.runner import _run, dask_client, pending_patients
    from hearttwin.cohort.study import StudySpec

    spec = StudySpec({device: sizes}, n_patients=n_patients, bases=[BASE])
    folder = Path(tempfile.mkdtemp(prefix="hearttwin-cohort-bench-"))
    try:
        shutil.copytree(cache, folder / "cache")
        writer = ResultsWriter(folder / "results.csv")
        todo = pending_patients(spec, writer.done)
        info = {"rows_written": 0, "failed_rows": 0, "batches": 0, "workers": 0,
                "timings": {"native_sim": 0.0, "fit": 0.0, "device_sim": 0.0, "plans": 0}}
        with dask_client(None, n_workers) as client:
            client.wait_for_workers(n_workers)
            client.run(_warm)  # imports and catalogue on every worker, outside the timing
            start = time.perf_counter()
            _run(client, spec, todo, writer, folder / "cache", info, None)
            wall = time.perf_counter() - start
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    plans = info["rows_written"]
    return {"workers": n_workers, "patients": n_patients, "plans": plans, "failed": info["failed_rows"],
            "batches": info["batches"], "seconds": wall, "patients_per_s": n_patients / wall,
            "plans_per_min": 60.0 * plans / wall, "plans_by_process": info.get("plans_by_process", {}),
            "task_seconds": sum(v for k, v in info["timings"].items() if k != "plans")}


def _warm() -> None:
    importlib.import_module("hearttwin.cohort.batch")  # the workers import it once, untimed
    from hearttwin.core.devices.catalogue import load_catalogue

    load_catalogue()


def baseline_field_rebuild(base, device: str) -> dict:
    """Seconds per plan if every patient and phase rebuilt its field (no scaling reuse)."""
    from hearttwin.cohort.base import reach_mm
    from hearttwin.cohort.cycle import DEFAULT_PHASES
    from hearttwin.core.devices.catalogue import get_device
    from hearttwin.core.devices.field import AnatomyField
    from hearttwin.core.phantom.generate import generate_phantom
    from hearttwin.core.phantom.params import PhantomParams

    fam = get_device(device)
    labels = generate_phantom(PhantomParams.sample(0, "small")).phases[0].labels
    centre = base.entry(fam).anchor.centre
    t = time.perf_counter()
    for _ in range(3):
        AnatomyField.from_labels(labels, fam.position, centre_lps=centre, radius_mm=reach_mm([fam]))
    per_field = (time.perf_counter() - t) / 3
    return {"field_build_s": per_field, "s_per_plan": per_field * DEFAULT_PHASES}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--patients", type=int, default=48)
    ap.add_argument("--batch", type=int, default=8, help="patients in the in-process breakdown")
    ap.add_argument("--device", default="thv-balloon")
    ap.add_argument("--sizes", default="23,26,29")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    sizes = [float(s) for s in args.sizes.split(",")]
    cache = Path(tempfile.gettempdir()) / "hearttwin-cohort-bench-cache"
    base, base_s = _cache(cache, args.device)
    res = {"cores": os.cpu_count(), "device": args.device, "sizes": sizes, "base_load_or_build_s": base_s,
           "breakdown": breakdown(base, args.device, sizes, args.batch),
           "baseline": baseline_field_rebuild(base, args.device)}
    res["one_worker"] = throughput(cache, args.device, sizes, args.patients, 1)
    res["two_workers"] = throughput(cache, args.device, sizes, args.patients, 2)
    res["scaling"] = res["two_workers"]["patients_per_s"] / res["one_worker"]["patients_per_s"]
    res["pass_scaling"] = res["scaling"] >= TARGET_SCALING
    res["pass_rate"] = res["two_workers"]["plans_per_min"] >= TARGET_PLANS_PER_MIN
    if args.json:
        print(json.dumps(res, indent=2))
    else:
        b = res["breakdown"]
        print(f"base anatomy (cache or build): {base_s:.2f} s")
        print(f"per plan ({b['phases']} phases, in process): wall {1000 * b['wall_s_per_plan']:.0f} ms, "
              f"CPU {1000 * b['cpu_s_per_plan']:.0f} ms = native 0D {1000 * b['native_sim_s_per_plan']:.1f} "
              f"+ fit {1000 * b['fit_s_per_plan']:.0f} ({1000 * b['fit_s_per_phase']:.1f}/phase) "
              f"+ device 0D {1000 * b['device_sim_s_per_plan']:.1f} ms")
        print(f"  -> {b['plans_per_cpu_min_x2']:.0f} plans per minute on 2 cores by CPU time")
        print(f"baseline (field rebuilt per phase): {res['baseline']['s_per_plan']:.2f} s per plan "
              f"({res['baseline']['field_build_s']:.2f} s per field)")
        for k in ("one_worker", "two_workers"):
            r = res[k]
            print(f"{r['workers']} worker(s): {r['plans']} plans in {r['seconds']:.1f} s, "
                  f"{r['patients_per_s']:.2f} patients/s, {r['plans_per_min']:.0f} plans/min "
                  f"({r['batches']} tasks, {r['failed']} failed); plans per worker process "
                  f"{sorted(r['plans_by_process'].values())}, busy {r['task_seconds']:.1f} s of "
                  f"{r['workers'] * r['seconds']:.1f} worker-s")
        print(f"scaling 1 -> 2 workers: {res['scaling']:.2f}x (target >= {TARGET_SCALING}) "
              f"{'PASS' if res['pass_scaling'] else 'FAIL'}")
        print(f"2 workers: {res['two_workers']['plans_per_min']:.0f} plans/min (target >= "
              f"{TARGET_PLANS_PER_MIN:.0f}) {'PASS' if res['pass_rate'] else 'FAIL'}")
    return 0 if res["pass_scaling"] and res["pass_rate"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
