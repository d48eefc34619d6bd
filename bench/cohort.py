"""Benchmark: virtual-cohort throughput on Dask, 1 and 2 workers, and the cost of one plan.

Targets (issue 10): >= 1.7x patients per second from 1 to 2 workers, and
>= 600 patient-device plans (full cycle) per minute on 2 cores, at the
cohort's default resolution: 10 phases per cycle, 72 rays around the device,
one sealing level per mm and envelope rings every 1 mm, the base field at the
small phantom's voxel size (about 1.7 mm), 20 beats of the 0D circulation
per patient before and per plan after.

Measured here, in one run:

* per-plan cost breakdown, in this process (:func:`run_batch` on one batch of
  the size the cluster runs use): native 0D beat, fit over the cycle (and per
  phase), 0D with the device; wall and CPU time (this process's own);
* throughput on a local Dask cluster (:func:`~hearttwin.cohort.runner.dask_client`)
  of 1 and then 2 single-threaded worker processes, ``--reps`` times
  alternately: the same ``--patients`` x sizes, in batches of the same size
  (``--batch``, default what a study picks for 2 workers), timed from
  submission to the last row written. Cluster start-up, worker imports and a
  first batch on every worker are excluded, equally for both; the base
  anatomy comes from the cache;
* per run: the tasks' own wall and CPU time per plan (CPU well under wall
  means the worker was preempted), how busy the workers were (task wall /
  (workers x elapsed): the rest is scheduling and idle tails), the CPU the
  rest of the cluster used (scheduler, client, nannies, the workers outside
  tasks: this process tree minus the tasks) and the CPU other processes on
  the machine used meanwhile (all in cores: CPU seconds per second);
* a plain-numpy baseline on the same clusters, right after each cohort run
  (a trilinear-like gather over a 1 MB float32 grid, no BLAS): the scaling
  this VM allows at that moment;
* the baseline the cohort design avoids: rebuilding the signed distance
  field for each patient and phase, per plan.

Scaling and rate are pooled over the repetitions (total plans / total
seconds per worker count). ``uptime`` load averages are printed before and after.

    python bench/cohort.py [--patients 192] [--batch N] [--reps 2] [--device thv-balloon] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

TARGET_SCALING = 1.7
TARGET_PLANS_PER_MIN = 600.0
BASE = "phantom:small:0"
#: plain-numpy baseline: tasks per run and gather passes per task (~0.5 s each)
NUMPY_TASKS, NUMPY_PASSES = 12, 450


def _cache(folder: Path, device: str):
    from hearttwin.cohort import base as cohort_base

    spec = cohort_base.BaseSpec.parse(BASE)
    t = time.perf_counter()
    b = cohort_base.load_or_build(spec, [device], folder)
    return b, time.perf_counter() - t


def breakdown(base, device: str, sizes, n: int) -> dict:
    """Per-plan cost of one batch of ``n`` patients x ``sizes``, in this process."""
    from hearttwin.cohort.batch import run_batch
    from hearttwin.cohort.distributions import sample_patients
    from hearttwin.cohort.study import StudySpec

    spec = StudySpec({device: sizes}, n_patients=n, bases=[BASE])
    patients = sample_patients(n, seed=123, bases=[base.key])
    run_batch(patients[:2], base, spec.task_payload())  # warm caches (catalogue, imports)
    t = run_batch(patients, base, spec.task_payload())["timings"]
    plans = t["plans"]
    return {"patients": n, "plans": plans, "phases": spec.phases, "wall_s_per_plan": t["wall"] / plans,
            "cpu_s_per_plan": t["cpu"] / plans,
            "native_sim_s_per_plan": t["native_sim"] / plans, "fit_s_per_plan": t["fit"] / plans,
            "fit_s_per_phase": t["fit"] / plans / spec.phases,
            "device_sim_s_per_plan": t["device_sim"] / plans,
            "plans_per_cpu_min_x2": 2 * 60.0 / (t["cpu"] / plans)}


def numpy_task(passes: int) -> float:
    """Plain numpy, memory-touching like the fit's field sampling: gathers from a 1 MB grid."""
    rng = np.random.default_rng(0)
    grid = rng.random(64 ** 3, dtype=np.float32)
    idx = rng.integers(0, grid.size - 4097, 30_000)
    frac = rng.random(30_000, dtype=np.float32)
    acc = 0.0
    for _ in range(passes):
        c0 = grid[idx] + frac * (grid[idx + 1] - grid[idx])
        c1 = grid[idx + 4096] + frac * (grid[idx + 4097] - grid[idx + 4096])
        acc += float(np.sqrt(np.abs(c0 + frac * (c1 - c0))).sum())
    return acc


def _warm(cache: str, device: str, sizes) -> str:
    """On a worker, untimed: imports, catalogue, the base from the cache and a first batch."""
    from hearttwin.cohort import base as cohort_base
    from hearttwin.cohort.batch import run_batch
    from hearttwin.cohort.distributions import sample_patients
    from hearttwin.cohort.study import StudySpec

    b = cohort_base.load_or_build(cohort_base.BaseSpec.parse(BASE), [device], cache)
    spec = StudySpec({device: sizes}, n_patients=2, bases=[BASE])
    run_batch(sample_patients(2, seed=99, bases=[b.key]), b, spec.task_payload())
    numpy_task(2)
    return os.environ.get("OPENBLAS_NUM_THREADS", "unset")


class _Load:
    """CPU seconds used on the machine and by this process tree between start() and stop()."""

    def start(self):
        import psutil

        self._t, self._m, self._me = time.perf_counter(), psutil.cpu_times(), self._tree()
        return self

    @staticmethod
    def _tree() -> float:
        import psutil

        me = psutil.Process()
        total = 0.0
        for p in [me] + me.children(recursive=True):
            try:
                c = p.cpu_times()
                total += c.user + c.system
            except psutil.Error:
                pass
        return total

    def stop(self) -> dict:
        import psutil

        m, wall = psutil.cpu_times(), time.perf_counter() - self._t
        busy = sum(getattr(m, k) - getattr(self._m, k) for k in ("user", "system", "nice", "irq", "softirq"))
        mine = self._tree() - self._me
        return {"others_cores": max(busy - mine, 0.0) / wall, "ours_cpu_s": mine}


def cluster_run(cache: Path, device: str, sizes, n_patients: int, batch: int, n_workers: int) -> dict:
    """One cohort run and one numpy baseline run on a fresh local cluster of ``n_workers``."""
    from hearttwin.cohort.results import ResultsWriter
    from hearttwin.cohort.runner import _run, dask_client, pending_patients
    from hearttwin.cohort.study import StudySpec

    spec = StudySpec({device: sizes}, n_patients=n_patients, bases=[BASE], batch_size=batch)
    folder = Path(tempfile.mkdtemp(prefix="hearttwin-cohort-bench-"))
    spans: list = []
    try:
        shutil.copytree(cache, folder / "cache")
        writer = ResultsWriter(folder / "results.csv")
        todo = pending_patients(spec, writer.done)
        info = {"rows_written": 0, "failed_rows": 0, "batches": 0, "workers": 0,
                "timings": {"native_sim": 0.0, "fit": 0.0, "device_sim": 0.0, "wall": 0.0, "cpu": 0.0,
                            "plans": 0}}
        with dask_client(None, n_workers) as client:
            client.wait_for_workers(n_workers)
            threads = client.run(_warm, str(folder / "cache"), device, sizes)
            load = _Load().start()
            start = time.perf_counter()
            _run(client, spec, todo, writer, folder / "cache", info, None, spans)
            wall = time.perf_counter() - start
            cohort_load = load.stop()
            load = _Load().start()
            t = time.perf_counter()
            client.gather([client.submit(numpy_task, NUMPY_PASSES, key=f"numpy-{i}-{time.time_ns()}")
                           for i in range(NUMPY_TASKS)])
            np_wall = time.perf_counter() - t
            np_load = load.stop()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    plans, tm = info["rows_written"], info["timings"]
    return {"workers": n_workers, "patients": n_patients, "batch": batch, "plans": plans,
            "failed": info["failed_rows"], "batches": info["batches"], "seconds": wall,
            "plans_per_min": 60.0 * plans / wall, "plans_by_process": info.get("plans_by_process", {}),
            "task_wall_ms_per_plan": 1000 * tm["wall"] / max(plans, 1),
            "task_cpu_ms_per_plan": 1000 * tm["cpu"] / max(plans, 1),
            "worker_busy": tm["wall"] / (n_workers * wall),
            "others_cores": cohort_load["others_cores"],
            "overhead_cores": max(cohort_load["ours_cpu_s"] - tm["cpu"], 0.0) / wall,
            "numpy_seconds": np_wall, "numpy_others_cores": np_load["others_cores"],
            "worker_blas_threads": sorted(set(threads.values())), "spans": spans}


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


def _pooled(runs: list) -> dict:
    secs = sum(r["seconds"] for r in runs)
    plans = sum(r["plans"] for r in runs)
    return {"seconds": secs, "plans": plans, "plans_per_min": 60.0 * plans / secs,
            "numpy_seconds": sum(r["numpy_seconds"] for r in runs)}


def _uptime() -> str:
    return "load average: " + ", ".join(f"{x:.2f}" for x in os.getloadavg())


def measure(args) -> dict:
    from hearttwin.cohort.study import StudySpec

    sizes = [float(s) for s in args.sizes.split(",")]
    batch = args.batch or StudySpec({args.device: sizes}, n_patients=args.patients,
                                    bases=[BASE]).batch_for(args.patients, 2)
    cache = Path(tempfile.gettempdir()) / "hearttwin-cohort-bench-cache"
    res = {"cores": os.cpu_count(), "device": args.device, "sizes": sizes, "patients": args.patients,
           "batch": batch, "uptime_before": _uptime()}
    base, res["base_load_or_build_s"] = _cache(cache, args.device)
    res["breakdown"] = breakdown(base, args.device, sizes, batch)
    res["baseline"] = baseline_field_rebuild(base, args.device)
    runs = {1: [], 2: []}
    for rep in range(args.reps):
        for w in ((1, 2) if rep % 2 == 0 else (2, 1)):  # ABBA: drifts in the machine's load cancel
            runs[w].append(cluster_run(cache, args.device, sizes, args.patients, batch, w))
    res["runs"] = runs[1] + runs[2]
    one, two = _pooled(runs[1]), _pooled(runs[2])
    res["one_worker"], res["two_workers"] = one, two
    res["scaling"] = one["seconds"] / two["seconds"]
    res["numpy_scaling"] = one["numpy_seconds"] / two["numpy_seconds"]
    res["pass_scaling"] = res["scaling"] >= TARGET_SCALING
    res["pass_rate"] = two["plans_per_min"] >= TARGET_PLANS_PER_MIN
    res["uptime_after"] = _uptime()
    return res


def report(res: dict) -> None:
    b = res["breakdown"]
    print(f"before: {res['uptime_before']}; {res['cores']} cores")
    print(f"base anatomy (cache or build): {res['base_load_or_build_s']:.2f} s")
    print(f"per plan ({b['phases']} phases, batch of {b['patients']} patients x {len(res['sizes'])} sizes, "
          f"in process): wall {1000 * b['wall_s_per_plan']:.0f} ms, CPU {1000 * b['cpu_s_per_plan']:.0f} ms "
          f"= native 0D {1000 * b['native_sim_s_per_plan']:.1f} + fit {1000 * b['fit_s_per_plan']:.1f} "
          f"({1000 * b['fit_s_per_phase']:.2f}/phase) + device 0D {1000 * b['device_sim_s_per_plan']:.1f} ms")
    print(f"  -> {b['plans_per_cpu_min_x2']:.0f} plans per minute on 2 cores by CPU time")
    print(f"baseline (field rebuilt per phase): {res['baseline']['s_per_plan']:.2f} s per plan "
          f"({res['baseline']['field_build_s']:.2f} s per field)")
    print(f"cluster runs: {res['patients']} patients x {len(res['sizes'])} sizes, {res['batch']} patients "
          f"per task, same for 1 and 2 workers")
    for r in res["runs"]:
        print(f"  {r['workers']} worker(s): {r['plans']} plans in {r['seconds']:.2f} s = "
              f"{r['plans_per_min']:.0f} plans/min ({r['batches']} tasks, {r['failed']} failed, per process "
              f"{sorted(r['plans_by_process'].values())}); task wall {r['task_wall_ms_per_plan']:.1f} / CPU "
              f"{r['task_cpu_ms_per_plan']:.1f} ms per plan; workers busy {100 * r['worker_busy']:.0f} %; "
              f"Dask and this process {r['overhead_cores']:.2f} cores, other processes "
              f"{r['others_cores']:.2f} cores; numpy baseline {r['numpy_seconds']:.2f} s "
              f"(others {r['numpy_others_cores']:.2f} cores); BLAS threads {r['worker_blas_threads']}")
    one, two = res["one_worker"], res["two_workers"]
    print(f"pooled: 1 worker {one['plans_per_min']:.0f}, 2 workers {two['plans_per_min']:.0f} plans/min")
    print(f"plain-numpy scaling on the same clusters: {res['numpy_scaling']:.2f}x (what the VM allowed)")
    print(f"scaling 1 -> 2 workers: {res['scaling']:.2f}x (target >= {TARGET_SCALING}) "
          f"{'PASS' if res['pass_scaling'] else 'FAIL'}")
    print(f"2 workers: {two['plans_per_min']:.0f} plans/min (target >= "
          f"{TARGET_PLANS_PER_MIN:.0f}) {'PASS' if res['pass_rate'] else 'FAIL'}")
    print(f"after: {res['uptime_after']}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--patients", type=int, default=192)
    ap.add_argument("--batch", type=int, default=None,
                    help="patients per task, both runs (default: a study's choice for 2 workers)")
    ap.add_argument("--reps", type=int, default=2, help="1-worker/2-worker run pairs (ABBA order)")
    ap.add_argument("--device", default="thv-balloon")
    ap.add_argument("--sizes", default="23,26,29")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    res = measure(args)
    if args.json:
        print(json.dumps(res, indent=2))
    else:
        report(res)
    return 0 if res["pass_scaling"] and res["pass_rate"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
