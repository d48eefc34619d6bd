"""Run long core functions off the GUI thread, with progress and cancel.

A :class:`Job` wraps a plain core call ``fn(*args, progress=p, **kwargs)``
(the core knows nothing of Qt); it runs in HeartTwin's own
``QThreadPool`` and reports back through Qt signals, which Qt delivers on
the GUI thread (queued connections), so slots may touch widgets freely.
``p`` implements :class:`hearttwin.core.jobs.Progress`; :meth:`Job.cancel`
sets its flag and the core raises ``CancelledError`` at its next check.
"""

from __future__ import annotations

import logging
import time

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from ..core.errors import CancelledError
from ..core.jobs import CancelToken
from . import process_jobs

log = logging.getLogger(__name__)

#: least time between two progress signals (s); the last update always goes out
PROGRESS_INTERVAL = 0.05

_POOL: QThreadPool | None = None


def pool() -> QThreadPool:
    """HeartTwin's worker pool (separate from Qt's global pool, so tests can watch it)."""
    global _POOL
    if _POOL is None:
        _POOL = QThreadPool()
        _POOL.setMaxThreadCount(2)
    return _POOL


class _Signals(QObject):
    progress = Signal(float, float, str)
    finished = Signal(object)
    failed = Signal(object)
    cancelled = Signal()
    ended = Signal()


class SignalProgress(CancelToken):
    """A :class:`~hearttwin.core.jobs.Progress` that forwards updates as a Qt signal (throttled)."""

    def __init__(self, signal) -> None:
        super().__init__()
        self._signal = signal
        self._last = 0.0

    def update(self, done: float, total: float, message: str = "") -> None:
        super().update(done, total, message)
        now = time.monotonic()
        if now - self._last >= PROGRESS_INTERVAL or (total and done >= total):
            self._last = now
            self._signal.emit(float(done), float(total), str(message))


class _Runner(QRunnable):
    def __init__(self, job: "Job") -> None:
        super().__init__()
        self.setAutoDelete(True)
        self._job = job

    def run(self) -> None:  # worker thread
        job, sig = self._job, self._job.signals
        try:
            if job.isolate:
                result = process_jobs.run(job.fn, job.args, job.kwargs, job.progress)
            else:
                result = job.fn(*job.args, progress=job.progress, **job.kwargs)
        except CancelledError:
            sig.cancelled.emit()
        except BaseException as err:  # noqa: BLE001 - every failure must reach the GUI
            log.debug("job %r failed", job.title, exc_info=True)
            sig.failed.emit(err)
        else:
            if job.progress.cancelled:
                sig.cancelled.emit()
            else:
                sig.finished.emit(result)
        finally:
            job._running = False
            sig.ended.emit()


class Job:
    """One long call on a worker thread.

    Parameters
    ----------
    title : str
        What the user sees beside the progress bar ("Loading series 3").
    fn : callable
        A core function taking a ``progress`` keyword argument.
    *args, **kwargs
        Passed to ``fn``.
    isolate : bool, keyword-only
        Run ``fn`` in HeartTwin's child process (:mod:`.process_jobs`) rather
        than on the worker thread: for computations that hold the GIL in C
        code. ``fn``, its arguments and result must pickle.

    Signals (on :attr:`signals`): ``progress(done, total, message)``,
    ``finished(result)``, ``failed(exception)``, ``cancelled()`` and, after
    any of the last three, ``ended()``.
    """

    def __init__(self, title: str, fn, *args, isolate: bool = False, **kwargs) -> None:
        self.title = title
        self.isolate = isolate
        self.fn, self.args, self.kwargs = fn, args, kwargs
        self.signals = _Signals()
        self.progress = SignalProgress(self.signals.progress)
        self._running = False

    @property
    def running(self) -> bool:
        return self._running

    def start(self) -> "Job":
        self._running = True
        pool().start(_Runner(self))
        return self

    def cancel(self) -> None:
        """Ask the job to stop at its next progress check (any thread)."""
        self.progress.cancel()


def wait_all(timeout_ms: int = 30000) -> bool:
    """Block until every job has returned (used when closing the window)."""
    return pool().waitForDone(timeout_ms)
