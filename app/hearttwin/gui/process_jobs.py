"""Run a core function in a separate process, with progress and cancel (no Qt here).

Much of a segmentation's time is spent in C code that keeps Python's GIL
(FFTs, some SciPy filters); on a thread it can hold the GUI thread off the
interpreter for a second. In a child process it cannot. One child is kept
(spawned once, reused; :func:`warm_up` starts it ahead of need); the calling
worker thread waits for the result, relays progress from a queue and sets a
shared event when the user cancels, which the child's progress object
reports as ``cancelled`` so the core raises ``CancelledError`` as usual.
Arguments and results travel by pickle (a CT volume, a label map).
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from ..core.errors import ProcessingError

#: how much lower the child's CPU priority is than the GUI's (POSIX ``nice`` increment)
CHILD_NICENESS = 10

_lock = threading.Lock()
_pool: ProcessPoolExecutor | None = None
_queue = None
_cancel = None

# -- in the child ----------------------------------------------------------------------------
_child_queue = None
_child_cancel = None


def _init_child(progress_queue, cancel_event) -> None:
    global _child_queue, _child_cancel
    _child_queue, _child_cancel = progress_queue, cancel_event
    if hasattr(os, "nice"):  # background work yields the CPU to the window (POSIX)
        try:
            os.nice(CHILD_NICENESS)
        except OSError:
            pass


class _ChildProgress:
    """The Progress the core sees in the child: updates go to the queue (at most 20 a second)."""

    def __init__(self) -> None:
        self._last = 0.0

    @property
    def cancelled(self) -> bool:
        return _child_cancel.is_set()

    def update(self, done: float, total: float, message: str = "") -> None:
        now = time.monotonic()
        if now - self._last >= 0.05 or (total and done >= total):
            self._last = now
            _child_queue.put((float(done), float(total), str(message)))


def _call(fn, args, kwargs):
    return fn(*args, progress=_ChildProgress(), **kwargs)


def _noop() -> None:
    return None


# -- in the GUI process ------------------------------------------------------------------------
def _ensure_pool() -> ProcessPoolExecutor:
    global _pool, _queue, _cancel
    with _lock:
        if _pool is None:
            ctx = multiprocessing.get_context("spawn")  # never fork a process that runs Qt threads
            _queue, _cancel = ctx.Queue(), ctx.Event()
            _pool = ProcessPoolExecutor(max_workers=1, mp_context=ctx, initializer=_init_child,
                                        initargs=(_queue, _cancel))
        return _pool


def warm_up() -> None:
    """Start the child process now (it imports the core), so the first job starts at once."""
    _ensure_pool().submit(_noop)


def run(fn, args, kwargs, progress):
    """Call ``fn(*args, progress=..., **kwargs)`` in the child; blocks the calling (worker) thread.

    ``progress`` (a :class:`~hearttwin.core.jobs.CancelToken`-like object) receives
    the child's updates; when it is cancelled, the child is asked to stop.
    One job at a time (the GUI runs one job at a time).
    """
    global _pool
    pool = _ensure_pool()
    while True:  # forget what a previous job left behind
        try:
            _queue.get_nowait()
        except queue.Empty:
            break
    _cancel.clear()
    try:
        future = pool.submit(_call, fn, args, kwargs)
        while True:
            try:
                done, total, message = _queue.get(timeout=0.05)
                progress.update(done, total, message)
            except queue.Empty:
                pass
            if progress.cancelled:
                _cancel.set()
            if future.done() and _queue.empty():
                return future.result()
    except BrokenProcessPool:
        with _lock:
            _pool = None  # a new child next time
        raise ProcessingError("The background process stopped unexpectedly (out of memory?). "
                              "Try again; if it happens again, restart HeartTwin.") from None


def shutdown() -> None:
    """Stop the child process (at exit)."""
    global _pool
    with _lock:
        pool, _pool = _pool, None
    if pool is not None:
        if _cancel is not None:
            _cancel.set()
        pool.shutdown(wait=True, cancel_futures=True)
