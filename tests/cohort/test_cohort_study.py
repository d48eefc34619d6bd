"""Cohort studies end to end: a batch with a failing patient, a local-cluster run that
resumes, and an external Dask cluster (real `dask scheduler` and two `dask worker`
processes on loopback) that loses a worker midway."""

import csv
import dataclasses
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from hearttwin import cli
from hearttwin.cohort import base as cohort_base
from hearttwin.cohort.batch import run_batch
from hearttwin.cohort.distributions import sample_patients
from hearttwin.cohort.results import read_rows
from hearttwin.cohort.study import StudySpec
from hearttwin.core.errors import InputError

BASE = "phantom:small:2"
DEVICE = "thv-balloon"


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The base anatomy (built once) and the cache file a study's workers read it from."""
    spec = cohort_base.BaseSpec.parse(BASE)
    base = cohort_base.build(spec, [DEVICE])
    path = tmp_path_factory.mktemp("base") / cohort_base.cache_name(spec, [DEVICE])
    cohort_base.save(base, path)
    return base, path


def with_cache(folder: Path, cached: Path) -> Path:
    """An output folder whose cache already holds the base anatomy."""
    (folder / "cache").mkdir(parents=True, exist_ok=True)
    shutil.copy(cached, folder / "cache" / cached.name)
    return folder


def cli_main(argv):
    """Run `hearttwin ...` in this process."""
    return cli.main(argv)


def raw_keys(path: Path) -> Counter:
    with open(path, newline="") as f:
        return Counter((r["patient_id"], r["device"], r["size"]) for r in csv.DictReader(f))


def test_cache_round_trip(built):
    base, path = built
    again = cohort_base.load(path)
    (k, e), = base.entries.items()
    assert list(again.entries) == [k]
    np.testing.assert_array_equal(again.entries[k].field.distance, e.field.distance)
    np.testing.assert_allclose(again.entries[k].anchor.centre, e.anchor.centre)
    assert again.measurements["annulus"]["area_mm2"] == base.measurements["annulus"]["area_mm2"]


def test_an_unscaled_patient_is_planned_as_plan_static_plans_the_base(built):
    """Scale 1, no root motion: the cohort's phase-0 fit is the single-phase plan's."""
    from hearttwin.cohort.cycle import LABEL_METRICS, PatientAnatomy, fit_over_cycle
    from hearttwin.cohort.distributions import VirtualPatient
    from hearttwin.core.devices.catalogue import get_device
    from hearttwin.core.devices.plan import plan_static
    from hearttwin.core.phantom.generate import generate_phantom
    from hearttwin.core.phantom.params import PhantomParams

    base, _ = built
    spec = cohort_base.BaseSpec.parse(BASE)
    labels = generate_phantom(PhantomParams.sample(spec.seed, spec.preset)).phases[0].labels
    fam = get_device(DEVICE)
    same = PatientAnatomy(base.entry(fam), VirtualPatient("P", 0, base.key, 1.0, 1.0, 1.0, 0.0, {}))
    for size in (23, 29):
        ((_, mine),) = fit_over_cycle(fam, size, same, base.measurements["coronary_ostia"], [0.0], [1.0])
        ref = plan_static(labels, device_id=DEVICE, size=size, measurements=base.measurements)
        ref = {k: v for k, v in ref["phases"][0]["metrics"].items() if k not in LABEL_METRICS}
        assert set(mine) == set(ref)
        for k, v in ref.items():
            assert mine[k] == pytest.approx(v, abs=0.006), k


def test_a_real_case_serves_as_base_anatomy(built, tmp_path):
    """A .htwin case with a label map and measurements gives the same base as the phantom it holds."""
    from hearttwin.core import casefile
    from hearttwin.core.case import Case
    from hearttwin.core.phantom.generate import generate_phantom
    from hearttwin.core.phantom.params import PhantomParams

    base, _ = built
    spec = cohort_base.BaseSpec.parse(BASE)
    case = Case()
    case.set_labels(generate_phantom(PhantomParams.sample(spec.seed, spec.preset)).phases[0].labels)
    case.set_measurements(base.measurements)
    casefile.save(case, tmp_path / "patient.htwin")
    from_case = cohort_base.build(cohort_base.BaseSpec.parse(str(tmp_path / "patient.htwin")), [DEVICE])
    assert from_case.key == "case-patient"
    (k, e), = base.entries.items()
    np.testing.assert_allclose(from_case.entries[k].field.distance, e.field.distance)
    np.testing.assert_allclose(from_case.entries[k].anchor.centre, e.anchor.centre)
    with pytest.raises(InputError, match="phantom:PRESET:SEED"):
        cohort_base.BaseSpec.parse("patient.nrrd")


def test_batch_plans_patients_and_records_a_failing_one(built):
    base, _ = built
    patients = sample_patients(3, seed=5, bases=[base.key])
    bad = dataclasses.replace(patients[1], haemodynamics=dict(patients[1].haemodynamics,
                                                               heart_rate_bpm=300.0))
    out = run_batch([patients[0], bad, patients[2]], base,
                    {"devices": {DEVICE: [23, 26, 29]}, "phases": 4})
    rows = out["rows"]
    t = out["timings"]
    assert len(rows) == 9 and t["plans"] == 9
    assert t["wall"] >= t["native_sim"] + t["fit"] + t["device_sim"] > 0 and t["cpu"] > 0
    assert t["finished"] - t["started"] == pytest.approx(t["wall"], abs=0.05)
    failed = [r for r in rows if r["status"] == "error"]
    assert {r["patient_id"] for r in failed} == {bad.patient_id} and len(failed) == 3
    assert all("Heart rate" in r["error"] for r in failed)
    area0 = base.entries[next(iter(base.entries))].anchor.ring["area_mm2"]
    for p in (patients[0], patients[2]):
        mine = {r["size"]: r for r in rows if r["patient_id"] == p.patient_id}
        assert all(r["status"] == "ok" and r["overall"] in ("pass", "caution", "fail")
                   for r in mine.values())
        # the patient's annulus is the base's scaled by major x minor
        assert mine[23]["annulus_area_mm2"] == pytest.approx(area0 * p.scales[0] * p.scales[1], rel=1e-3)
        assert mine[23]["annulus_area_systole_mm2"] > mine[23]["annulus_area_mm2"]
        over = [mine[s]["oversizing_area_percent"] for s in (23, 26, 29)]
        grad = [mine[s]["mean_gradient_mmhg"] for s in (23, 26, 29)]
        assert over == sorted(over) and grad == sorted(grad, reverse=True)
        assert mine[29]["gap_area_mm2"] <= mine[23]["gap_area_mm2"]
        assert mine[23]["oversizing_area_percent_phase"] in (0.0, 0.25, 0.5, 0.75)


def test_local_cluster_study_resumes_where_it_stopped(built, tmp_path, capsys):
    _, cached = built
    out = with_cache(tmp_path / "study", cached)
    argv = ["cohort", "--patients", "8", "--device", DEVICE, "--sizes", "23,26", "--base", BASE,
            "--phases", "4", "--seed", "7", "-o", str(out), "-q"]
    assert cli_main(argv) == 0
    results = out / "results.csv"
    keys = raw_keys(results)
    assert len(keys) == 16 and set(keys.values()) == {1}
    assert all(r["status"] == "ok" for r in read_rows(results))
    summary = list(csv.DictReader(open(out / "summary.csv")))
    assert [(s["size"], s["plans"]) for s in summary] == [("23", "8"), ("26", "8")]
    html = (out / "report.html").read_text()
    assert "Success rate per device size" in html and html.count("data:image/png;base64,") == 2  # success bars, histograms
    # interrupted: the last rows lost and a line torn in half
    lines = results.read_text().splitlines(keepends=True)
    results.write_text("".join(lines[:-3]) + lines[-3][:25])
    capsys.readouterr()
    assert cli_main(argv + ["--json", "--workers", "1"]) == 0
    import json
    info = json.loads(capsys.readouterr().out)
    assert info["rows_written"] == 3 and info["skipped_patients"] >= 6
    assert raw_keys(results) == keys
    # nothing left to do: no cluster is even started
    assert cli_main(argv + ["--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["rows_written"] == 0 and info["workers"] == 0


def test_local_cluster_workers_run_one_thread_per_library_and_keep_freed_memory():
    """The environment reaches the worker processes before numpy loads (set at spawn)."""
    from hearttwin.cohort.runner import WORKER_ENV, dask_client

    def probe():
        import dask
        return ({k: os.environ.get(k) for k in WORKER_ENV},
                dask.config.get("distributed.worker.profile.enabled"), os.getpid())

    with dask_client(None, 2) as client:
        client.wait_for_workers(2)
        seen = list(client.run(probe).values())
    assert len({pid for *_, pid in seen}) == 2 and os.getpid() not in {pid for *_, pid in seen}
    for env, profiling, _ in seen:
        assert env["OPENBLAS_NUM_THREADS"] == env["OMP_NUM_THREADS"] == "1"
        assert int(env["MALLOC_TRIM_THRESHOLD_"]) >= 1 << 20  # not Dask's 65536
        assert profiling is False


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_port(port: int, timeout: float = 30.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise TimeoutError(f"no scheduler on port {port}")


STUDY = ("import sys\nfrom hearttwin import cli\n"
         "if __name__ == '__main__':\n    sys.exit(cli.main(sys.argv[1:]))\n")


def test_external_cluster_loses_a_worker_midway(built, tmp_path):
    from distributed import Client

    base, cached = built
    out = with_cache(tmp_path / "study", cached)
    dask = str(Path(sys.executable).parent / "dask")
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    logs = tmp_path / "logs"
    logs.mkdir()
    procs = []

    def start(name, *args):
        log = open(logs / f"{name}.log", "w")
        procs.append(subprocess.Popen([dask, *args], stdout=log, stderr=subprocess.STDOUT))
        return procs[-1]

    try:
        start("scheduler", "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard")
        _wait_port(port)
        workers = [start(f"worker{i}", "worker", address, "--nthreads", "1", "--no-nanny",
                         "--no-dashboard", "--name", f"w{i}", "--local-directory", str(tmp_path / f"w{i}"))
                   for i in (1, 2)]
        with Client(address, timeout=30) as client:
            client.wait_for_workers(2, timeout=60)
            by_name = {"w1": workers[0].pid, "w2": workers[1].pid}
            pids = {a: by_name[w["name"]] for a, w in client.scheduler_info()["workers"].items()}
            study = subprocess.Popen(
                [sys.executable, "-c", STUDY, "cohort", "--patients", "12", "--device", DEVICE,
                 "--sizes", "23,26", "--base", BASE, "--phases", "4", "--seed", "11",
                 "--batch-size", "2", "--scheduler", address, "-o", str(out), "-q"],
                stdout=open(logs / "study.log", "w"), stderr=subprocess.STDOUT)
            procs.append(study)
            victim, rows_at_kill = None, None
            deadline = time.monotonic() + 120
            while victim is None and study.poll() is None and time.monotonic() < deadline:
                results = out / "results.csv"
                written = max(len(results.read_text().splitlines()) - 1, 0) if results.exists() else 0
                busy = [a for a, keys in client.processing().items()
                        if any(str(k).startswith("cohort-batch-") for k in keys)]
                if written > 0 and busy:
                    victim, rows_at_kill = busy[0], written
                    os.kill(pids[victim], signal.SIGKILL)  # a worker dies holding a batch
                time.sleep(0.02)
        assert victim is not None, (logs / "study.log").read_text()
        assert 0 < rows_at_kill < 24  # midway
        assert study.wait(timeout=180) == 0, (logs / "study.log").read_text()
    finally:
        for p in reversed(procs):
            if p.poll() is None:
                p.terminate()
        for p in procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
    keys = raw_keys(out / "results.csv")
    # every patient's result exactly once
    assert len(keys) == 24 and set(keys.values()) == {1}
    rows = read_rows(out / "results.csv")
    assert all(r["status"] == "ok" for r in rows)
    # and the same numbers a batch computes here: results do not depend on the worker
    spec = StudySpec({DEVICE: [23, 26]}, n_patients=12, seed=11, bases=[BASE], phases=4)
    p = sample_patients(12, seed=11, bases=[base.key])[9]
    local = run_batch([p], base, spec.task_payload())["rows"]
    remote = {r["size"]: r for r in rows if r["patient_id"] == p.patient_id}
    for r in local:
        for m in ("max_gap_mm", "oversizing_area_percent", "mean_gradient_mmhg", "overall"):
            want = r[m]
            got = remote[str(r["size"])][m]
            assert (got == want) if isinstance(want, str) else float(got) == pytest.approx(want, abs=1e-3)
