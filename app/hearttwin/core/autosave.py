"""Autosave to a separate recovery file, and recovery on the next start.

While a case has unsaved changes, :class:`Autosaver` writes it every
``interval_s`` seconds to ``<data folder>/recovery/autosave-<case id>.htwin``
(atomically, like any case file, never over the user's own file). The name
holds only the case's random id, never patient data. A normal save makes the
recovery file stale: :meth:`Autosaver.maybe_save` then removes it, and
:meth:`Autosaver.discard` does so on a clean close.

On the next start, :func:`pending` lists the recovery files left by a crash
(skipping those of another HeartTwin still running) and :func:`recover`
opens one: the case comes back dirty, pointing at the file the user had saved
it to, so the next Save writes there.
"""

from __future__ import annotations

import logging
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path

from . import casefile
from .case import Case
from .errors import HeartTwinError
from .logs import data_dir

log = logging.getLogger(__name__)

RECOVERY_MEMBER = "recovery.json"
PREFIX = "autosave-"
_ID = re.compile(r"[0-9a-f]{8,64}")


def recovery_dir(folder=None) -> Path:
    """Where recovery files go: ``folder`` or ``<data folder>/recovery``."""
    return Path(folder) if folder is not None else data_dir() / "recovery"


def recovery_path(case: Case, folder=None) -> Path:
    """The recovery file of ``case``: named by its random id only."""
    case_id = case.case_id if _ID.fullmatch(case.case_id or "") else "0" * 32
    return recovery_dir(folder) / f"{PREFIX}{case_id}{casefile.SUFFIX}"


@dataclass
class Recovery:
    """A recovery file found at start-up."""

    path: Path
    case_id: str
    saved_utc: str
    #: the case file the user had saved to (None when the case was never saved)
    case_path: str | None
    pid: int


class Autosaver:
    """Periodic recovery saves of one case.

    The GUI calls :meth:`maybe_save` from a timer (in a worker thread, on a
    case not being modified meanwhile); it writes only when the case has
    changed since the last autosave and ``interval_s`` has passed.
    """

    def __init__(self, case: Case, folder=None, interval_s: float = 60.0, clock=time.monotonic) -> None:
        self.case = case
        self.folder = recovery_dir(folder)
        self.interval_s = float(interval_s)
        self._clock = clock
        self._last_time = clock()
        self._written_revision: int | None = None

    @property
    def path(self) -> Path:
        """This case's recovery file."""
        return recovery_path(self.case, self.folder)

    def due(self) -> bool:
        """True when the case has unsaved changes not yet autosaved and the interval has passed."""
        return (self.case.dirty and self.case.revision != self._written_revision
                and self._clock() - self._last_time >= self.interval_s)

    def save(self, progress=None) -> Path:
        """Write the recovery file now (the case stays dirty)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        revision = self.case.revision
        info = {"case_id": self.case.case_id, "pid": os.getpid(),
                "case_path": str(self.case.path) if self.case.path is not None else None,
                "revision": revision}
        casefile.save(self.case, self.path, progress, backup=False, mark_saved=False,
                      extra_members={RECOVERY_MEMBER: info})
        self._written_revision = revision
        self._last_time = self._clock()
        log.info("Autosaved case %s (revision %d)", self.case.case_id[:8], revision)
        return self.path

    def maybe_save(self, progress=None) -> Path | None:
        """Autosave if :meth:`due`; remove a stale recovery file once the case is saved."""
        if not self.case.dirty:
            self.discard()
            return None
        return self.save(progress) if self.due() else None

    def discard(self) -> None:
        """Remove the recovery file (after a normal save, or when the case is closed cleanly)."""
        try:
            self.path.unlink(missing_ok=True)
        except OSError:
            log.warning("Could not remove an old recovery file")
        self._written_revision = None


def _alive(pid: int) -> bool:
    if pid == os.getpid() or pid <= 0:
        return False
    if os.name != "posix":
        return False  # cannot tell cheaply: offer the file; the user decides
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def pending(folder=None, include_running: bool = False) -> list[Recovery]:
    """Recovery files left behind, newest first (files of a running HeartTwin are skipped)."""
    out = []
    root = recovery_dir(folder)
    if not root.is_dir():
        return out
    for path in root.glob(f"{PREFIX}*{casefile.SUFFIX}"):
        try:
            info = casefile.read_json_member(path, RECOVERY_MEMBER) or {}
            manifest = casefile.read_manifest(path)
        except HeartTwinError as err:
            log.warning("Skipping a damaged recovery file: %s", err)
            continue
        pid = int(info.get("pid", 0) or 0)
        if not include_running and _alive(pid):
            continue
        out.append(Recovery(path=path, case_id=str(info.get("case_id", "")),
                            saved_utc=str(manifest.get("saved_utc", "")),
                            case_path=info.get("case_path"), pid=pid))
    out.sort(key=lambda r: r.saved_utc, reverse=True)
    return out


def recover(recovery: Recovery, progress=None, locate=None) -> Case:
    """Open a recovery file as a dirty case that saves to where the user had saved it."""
    case = casefile.load(recovery.path, progress, locate)
    case.path = Path(recovery.case_path) if recovery.case_path else None
    case.saved_revision = -1  # unsaved by definition
    case.warnings.append("Unsaved changes were recovered after HeartTwin closed unexpectedly; "
                         "save the case to keep them.")
    log.info("Recovered case %s", case.case_id[:8])
    return case
