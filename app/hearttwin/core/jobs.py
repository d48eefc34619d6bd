"""Progress and cancellation protocol shared by the CLI, the GUI and workers.

Long core functions take ``progress: Progress | None``; they call
``check(progress)`` between steps (which raises :class:`CancelledError` when
the user asked to stop) and ``progress.update(done, total, message)`` to
report. The CLI wraps a terminal bar around it, the GUI a progress bar with
Cancel, Dask workers a no-op. Nothing here imports Qt.
"""

from __future__ import annotations

import re
import sys
import threading
import time
from typing import Protocol, TextIO, runtime_checkable

from .errors import CancelledError

_DIGITS = re.compile(r"\d+(\.\d+)?")


@runtime_checkable
class Progress(Protocol):
    """What a long job reports to and asks of its caller."""

    def update(self, done: float, total: float, message: str = "") -> None: ...

    @property
    def cancelled(self) -> bool: ...


class NullProgress:
    """Reports nowhere, never cancelled; the default."""

    cancelled = False

    def update(self, done: float, total: float, message: str = "") -> None:
        pass


class CancelToken:
    """A progress sink with a thread-safe cancel flag; records the last update.

    The GUI worker and tests use it directly; ``cancel()`` may be called from
    any thread and the job stops at its next check.
    """

    def __init__(self) -> None:
        self._event = threading.Event()
        self.done = 0.0
        self.total = 0.0
        self.message = ""
        self.updates = 0

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def update(self, done: float, total: float, message: str = "") -> None:
        self.done, self.total, self.message = done, total, message
        self.updates += 1


class TerminalProgress(CancelToken):
    """A single-line progress bar on a terminal stream (stderr by default).

    Redraws at most every ``interval`` seconds; on a non-terminal stream (a
    log file, CI) it prints one line per step instead: a message is printed
    when it differs from the last one other than in its numbers.
    """

    def __init__(self, stream: TextIO | None = None, width: int = 30, interval: float = 0.1):
        super().__init__()
        self.stream = stream if stream is not None else sys.stderr
        self.width = width
        self.interval = interval
        self._last = 0.0
        self._last_message = None
        self._tty = bool(getattr(self.stream, "isatty", lambda: False)())

    def update(self, done: float, total: float, message: str = "") -> None:
        super().update(done, total, message)
        now = time.monotonic()
        if not self._tty:
            stem = _DIGITS.sub("#", message)
            if message and stem != self._last_message:
                self.stream.write(f"{message}\n")
                self.stream.flush()
                self._last_message = stem
            return
        if now - self._last < self.interval and done < total:
            return
        self._last = now
        frac = min(max(done / total, 0.0), 1.0) if total else 0.0
        filled = int(round(frac * self.width))
        bar = "#" * filled + "-" * (self.width - filled)
        self.stream.write(f"\r[{bar}] {frac * 100:5.1f}% {message[:60]:<60}")
        if done >= total:
            self.stream.write("\n")
        self.stream.flush()


def check(progress: Progress | None) -> None:
    """Raise :class:`CancelledError` if the caller asked to stop."""
    if progress is not None and progress.cancelled:
        raise CancelledError()


def report(progress: Progress | None, done: float, total: float, message: str = "") -> None:
    """Check for cancellation, then report progress (no-op without a sink)."""
    check(progress)
    if progress is not None:
        progress.update(done, total, message)


class SubProgress:
    """Maps a sub-task's 0..total onto a slice [start, stop] of a parent's range."""

    def __init__(self, parent: Progress | None, start: float, stop: float, total: float):
        self.parent = parent
        self.start, self.stop, self.total = start, stop, total

    @property
    def cancelled(self) -> bool:
        return self.parent is not None and self.parent.cancelled

    def update(self, done: float, total: float, message: str = "") -> None:
        if self.parent is None:
            return
        frac = done / total if total else 0.0
        self.parent.update(self.start + frac * (self.stop - self.start), self.total, message)


def sitk_observe(sitk_filter, progress: Progress | None, message: str = ""):
    """Wire a SimpleITK filter's progress events to ``progress`` and abort on cancel.

    SimpleITK's ``Abort()`` does not raise, so callers must ``check(progress)``
    after ``Execute`` returns.
    """
    if progress is None:
        return sitk_filter
    import SimpleITK as sitk

    def on_progress() -> None:
        if progress.cancelled:
            sitk_filter.Abort()
        else:
            progress.update(sitk_filter.GetProgress(), 1.0, message)

    sitk_filter.AddCommand(sitk.sitkProgressEvent, on_progress)
    return sitk_filter
