"""Run a study on Dask: a local cluster by default, or an existing one at ``tcp://HOST:PORT``.

Flow: write/check ``study.json``; open ``results.csv`` and skip the patients
whose rows are all there; submit one task per base anatomy
(:func:`.base.load_or_build`, cached in ``cache/``) and one task per batch of
patients (:func:`.batch.run_batch`) depending on its base; append each
batch's rows as it finishes (``as_completed``), deduplicated by
patient x device x size; then write the summary and the report.

Dask owns the distribution: when a worker dies, the scheduler runs its tasks
again on another worker (and recomputes a base anatomy lost with it); the
writer's deduplication keeps every row exactly once. A batch that fails as a
whole (e.g. ``KilledWorker`` after repeated worker deaths, or its base
anatomy could not be built) becomes error rows for its patients; the study
goes on.
"""

from __future__ import annotations

import contextlib
import logging
import time
import uuid
from pathlib import Path

from ..core import jobs
from ..core.errors import InputError
from .batch import run_batch
from .base import load_or_build
from .distributions import sample_patient
from .results import ResultsWriter, row_key
from .study import StudySpec

log = logging.getLogger("hearttwin.cohort")

#: seconds to wait for an external scheduler to answer
CONNECT_TIMEOUT_S = 20
#: environment of the local cluster's worker processes, set before they start (numpy and
#: SimpleITK read it at import): one thread per library in each single-threaded worker (Dask's
#: defaults cover OpenMP, OpenBLAS and MKL; ITK, building a base's distance field, would start
#: one thread per core in each worker), and freed memory kept for reuse
#: (Dask's default MALLOC_TRIM_THRESHOLD_=65536 also pins glibc's mmap threshold at 128 kB:
#: every larger numpy temporary is then mapped, faulted in page by page and unmapped, ~600
#: page faults per plan; with these values ~2 per plan, at most 64 MiB kept free per worker)
WORKER_ENV = {"OMP_NUM_THREADS": 1, "OPENBLAS_NUM_THREADS": 1, "MKL_NUM_THREADS": 1,
              "NUMEXPR_NUM_THREADS": 1, "ITK_GLOBAL_DEFAULT_NUMBER_OF_THREADS": 1,
              "MALLOC_TRIM_THRESHOLD_": 64 << 20, "MALLOC_MMAP_THRESHOLD_": 16 << 20}
#: Dask settings of the local cluster: its background work shares the two cores with the
#: tasks (an idle 2-worker cluster used 12 % of a core with the defaults, 2 % with these):
#: no statistical profiler sampling each worker's stack every 10 ms, event-loop health
#: ticks and resource monitors every second or two instead of every 20-500 ms
LOCAL_CONFIG = {"distributed.worker.profile.enabled": False,
                "distributed.admin.tick.interval": "1s",
                "distributed.admin.system-monitor.interval": "2s",
                "distributed.worker.memory.monitor-interval": "1s",
                "distributed.nanny.pre-spawn-environ": WORKER_ENV}


@contextlib.contextmanager
def dask_client(scheduler: str | None = None, n_workers: int = 2):
    """A ``distributed.Client``: on ``scheduler`` or on a new local cluster of processes.

    The local cluster has ``n_workers`` single-threaded worker processes (the
    work is numpy-bound Python: processes, not threads, scale), started with
    :data:`WORKER_ENV` and :data:`LOCAL_CONFIG` (an environment variable set
    by the user wins over :data:`WORKER_ENV`), and its status page on a free
    port; its workers log nothing below CRITICAL (their shutdown races the
    scheduler's and logs spurious heartbeat errors; task failures reach the
    client anyway). An external cluster's workers run as they were started
    (``OMP_NUM_THREADS=1`` etc. are Dask's defaults there).
    """
    import dask
    from distributed import Client, LocalCluster

    if scheduler:
        logging.getLogger("distributed").setLevel(logging.WARNING)
        try:
            client = Client(scheduler, timeout=CONNECT_TIMEOUT_S)
        except OSError as err:
            raise InputError(f"Cannot reach the Dask scheduler at {scheduler} ({err}); start it "
                             f"with `dask scheduler` or check the address.") from err
        try:
            yield client
        finally:
            client.close()
        return
    if n_workers < 1:
        raise InputError(f"A local cluster needs at least one worker, got {n_workers}.")
    # distributed logs every worker start and stop at INFO: keep warnings (a worker lost) only
    logging.getLogger("distributed").setLevel(logging.WARNING)
    with dask.config.set(LOCAL_CONFIG):
        cluster = LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                               dashboard_address=":0", silence_logs=logging.CRITICAL)
        try:
            client = Client(cluster)
            try:
                yield client
            finally:
                client.close()
        finally:
            cluster.close()


def _error_rows(patients, spec: StudySpec, message: str) -> list[dict]:
    rows = []
    for p in patients:
        for device_id, sizes in spec.devices.items():
            for size in sizes:
                rows.append(dict(p.to_row(), device=device_id, size=size, status="error",
                                 error=message))
    return rows


def pending_patients(spec: StudySpec, done: set) -> list:
    """The study's patients with at least one row missing from ``done``."""
    keys = [b.key for b in spec.base_specs()]
    todo = []
    for i in range(spec.n_patients):
        p = sample_patient(spec.seed, i, keys)
        want = [{"patient_id": p.patient_id, "device": d, "size": s}
                for d, sizes in spec.devices.items() for s in sizes]
        if any(row_key(w) not in done for w in want):
            todo.append(p)
    return todo


def split_batches(todo: list, base_keys: list, size: int, workers: int = 1) -> list[list]:
    """The patients of ``todo`` in batches of at most ``size``, one base per batch.

    A base's patients are split evenly (no small remainder batch). With
    ``workers`` > 1, a base's batches are split further (down to half of
    ``size``) until their number is a multiple of ``workers``: a last round of
    fewer batches than workers leaves a worker idle (a study of 200 patients on
    3 bases and 2 workers: 10 batches of 16-23 patients, not 9 of 17-25).
    """
    groups = [g for g in ([p for p in todo if p.base == k] for k in base_keys) if g]
    counts = [-(-len(g) // size) for g in groups]
    while workers > 1 and sum(counts) % workers:
        i = max(range(len(groups)), key=lambda j: len(groups[j]) / counts[j])  # largest batches
        if len(groups[i]) / (counts[i] + 1) < max(size / 2, 1):
            break
        counts[i] += 1
    out = []
    for g, n in zip(groups, counts):
        edges = [round(k * len(g) / n) for k in range(n + 1)]
        out += [g[a:b] for a, b in zip(edges, edges[1:])]
    return out


def run_study(spec: StudySpec, output, *, scheduler: str | None = None, n_workers: int = 2,
              progress=None) -> dict:
    """Run (or resume) ``spec`` into the folder ``output``; returns the run's figures.

    Parameters
    ----------
    spec : StudySpec
    output : str or Path
        Folder for ``study.json``, ``results.csv``, ``cache/`` (and the summary).
    scheduler : str, optional
        ``tcp://HOST:PORT`` of a running Dask scheduler; default a local cluster.
    n_workers : int
        Worker processes of the local cluster.
    progress : jobs.Progress, optional
        Reports per finished batch; cancelling stops after the batches written.

    Returns
    -------
    dict
        ``{"patients", "skipped_patients", "rows_written", "failed_rows", "batches",
        "workers", "seconds", "timings": {stage: seconds, "wall"/"cpu": summed over the batches,
        "plans"}, "plans_by_process": {host: n}}``.
    """
    start = time.perf_counter()
    out = Path(output)
    out.mkdir(parents=True, exist_ok=True)
    spec.check_folder(out)
    writer = ResultsWriter(out / "results.csv")
    todo = pending_patients(spec, writer.done)
    info = {"patients": spec.n_patients, "skipped_patients": spec.n_patients - len(todo),
            "rows_written": 0, "failed_rows": 0, "batches": 0, "workers": 0,
            "timings": {"native_sim": 0.0, "fit": 0.0, "device_sim": 0.0, "wall": 0.0, "cpu": 0.0,
                        "plans": 0}}
    if todo:
        jobs.report(progress, 0, len(todo), f"Starting Dask for {len(todo)} patients")
        with dask_client(scheduler, n_workers) as client:
            _run(client, spec, todo, writer, out / "cache", info, progress)
    info["seconds"] = round(time.perf_counter() - start, 2)
    return info


def _run(client, spec: StudySpec, todo: list, writer: ResultsWriter, cache_dir: Path, info: dict,
         progress, spans: list | None = None) -> None:
    """Submit the bases and batches of ``todo`` on ``client``, write the rows as batches finish.

    ``info`` receives the counts and summed ``timings``; ``spans``, when given,
    one dict per finished batch (``host``, ``started``, ``finished``, ``wall``, ``cpu``,
    ``plans``), e.g. for the benchmark's worker timelines.
    """
    from distributed import as_completed

    workers = max(len(client.scheduler_info().get("workers", {})), 1)
    info["workers"] = workers
    size = spec.batch_for(len(todo), workers)
    token = uuid.uuid4().hex[:8]
    device_ids = list(spec.devices)
    bases = {}
    for b in spec.base_specs():
        bases[b.key] = client.submit(load_or_build, b, device_ids, str(cache_dir),
                                     key=f"cohort-base-{b.key}-{token}")
    chunks = split_batches(todo, list(bases), size, 1 if spec.batch_size else workers)
    payload = spec.task_payload()
    futures = {client.submit(run_batch, chunk, bases[chunk[0].base], payload,
                             key=f"cohort-batch-{token}-{i}"): chunk
               for i, chunk in enumerate(chunks)}
    info["batches"] = len(futures)
    done = 0
    try:
        for fut in as_completed(futures):
            chunk = futures[fut]
            if fut.status == "finished":
                res = fut.result()
                rows = res["rows"]
                for k, v in res["timings"].items():
                    if k in info["timings"]:
                        info["timings"][k] += v
                by = info.setdefault("plans_by_process", {})
                by[res["host"]] = by.get(res["host"], 0) + len(rows)
                if spans is not None:
                    t = res["timings"]
                    spans.append({"host": res["host"], "plans": len(rows),
                                  **{k: t.get(k) for k in ("started", "finished", "wall", "cpu")}})
            else:  # the whole task failed (its base, or repeated worker deaths)
                err = fut.exception()
                log.warning("batch of %d patients failed: %s", len(chunk), err)
                rows = _error_rows(chunk, spec, f"{type(err).__name__}: {err}")
            fut.release()
            info["failed_rows"] += sum(r.get("status") == "error" and row_key(r) not in writer.done
                                       for r in rows)
            info["rows_written"] += writer.write(rows)
            done += len(chunk)
            jobs.report(progress, done, len(todo), f"Planned {done}/{len(todo)} patients "
                        f"({info['failed_rows']} failed plans)")
    finally:
        client.cancel(list(futures) + list(bases.values()))
