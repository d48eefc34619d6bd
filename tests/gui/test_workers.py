"""Background jobs: result, progress, cancellation and errors reach the GUI thread."""

import threading
import time

import pytest
from PySide6.QtCore import QThread

from hearttwin.core import jobs
from hearttwin.core.errors import InputError
from hearttwin.gui import workers


def _count(n, *, progress=None, delay=0.0):
    for i in range(n):
        jobs.report(progress, i, n, f"step {i}")
        time.sleep(delay)
    jobs.report(progress, n, n, "done")
    return threading.current_thread().name, n


def test_job_runs_off_the_gui_thread_and_reports(qtbot):
    job = workers.Job("count", _count, 5, delay=0.06)
    seen = []
    job.signals.progress.connect(lambda d, t, m: seen.append((d, t, m, QThread.currentThread())))
    with qtbot.waitSignal(job.signals.finished, timeout=10000) as blocker:
        job.start()
    thread_name, n = blocker.args[0]
    assert n == 5 and thread_name != threading.main_thread().name
    assert seen and seen[-1][:3] == (5.0, 5.0, "done")
    # delivered on the GUI thread, so slots may touch widgets
    assert all(t is QThread.currentThread() for *_, t in seen)
    qtbot.waitUntil(lambda: not job.running)


def test_cancel_stops_the_job(qtbot):
    job = workers.Job("count", _count, 1000, delay=0.01)
    finished = []
    job.signals.finished.connect(finished.append)
    with qtbot.waitSignal(job.signals.cancelled, timeout=10000):
        job.start()
        qtbot.wait(50)
        job.cancel()
    qtbot.waitUntil(lambda: not job.running)
    assert finished == []
    assert job.progress.done < 999


def test_errors_arrive_as_exceptions(qtbot):
    def bad(*, progress=None):
        raise InputError("Series 3 has a missing slice.")

    job = workers.Job("bad", bad)
    with qtbot.waitSignal(job.signals.failed, timeout=10000) as blocker:
        job.start()
    assert isinstance(blocker.args[0], InputError)
    assert str(blocker.args[0]) == "Series 3 has a missing slice."
    qtbot.waitUntil(lambda: not job.running)


def test_progress_signals_are_throttled(qtbot):
    job = workers.Job("count", _count, 5000)
    seen = []
    job.signals.progress.connect(lambda d, t, m: seen.append(d))
    with qtbot.waitSignal(job.signals.ended, timeout=10000):
        job.start()
    assert job.progress.updates == 5001  # the core reported every step
    assert len(seen) < 200 and seen[-1] == pytest.approx(5000)
