"""Unexpected errors: a crash log without patient data, and a dialog instead of a traceback.

:func:`install` replaces ``sys.excepthook`` (Qt calls it for exceptions
raised in slots and event handlers). The log holds versions, the exception
type, its message with anything that may identify a patient removed (file
paths, DICOM person names, long digit runs such as IDs and dates) and the
code frames (file, line, function) but no local variables.
"""

from __future__ import annotations

import os
import platform
import re
import sys
import time
import traceback
from pathlib import Path

from PySide6.QtCore import QStandardPaths
from PySide6.QtWidgets import QApplication, QMessageBox

from .. import __version__

#: patterns scrubbed from exception messages before they are logged
_SCRUB = [
    (re.compile(r"(?:[A-Za-z]:)?(?:[\\/][^\\/\s'\"]+)+[\\/]?"), "<path>"),  # file paths
    (re.compile(r"[^\s'\"^]*\^[^\s'\"]*"), "<name>"),  # DICOM person names (FAMILY^GIVEN)
    (re.compile(r"\d{6,}"), "<number>"),  # IDs, dates (19650412), UIDs' long parts
]

_dialogs: list[QMessageBox] = []


def scrub(text: str) -> str:
    """``text`` with paths, DICOM person names and long numbers replaced."""
    for pattern, repl in _SCRUB:
        text = pattern.sub(repl, text)
    return text


def crash_dir() -> Path:
    """Where crash logs go: ``$HEARTTWIN_CRASH_DIR`` or the per-user app data folder."""
    env = os.environ.get("HEARTTWIN_CRASH_DIR")
    if env:
        return Path(env)
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppLocalDataLocation)
    return Path(base or Path.home() / ".hearttwin") / "crash"


def format_report(exc_type, exc, tb) -> str:
    """The crash log text: versions, scrubbed message, code frames only."""
    from PySide6 import __version__ as qt_version

    lines = [f"HeartTwin {__version__} crash report, {time.strftime('%Y-%m-%d %H:%M:%S')}",
             f"Python {platform.python_version()}, PySide6 {qt_version}, {platform.platform()}",
             f"{exc_type.__name__}: {scrub(str(exc))}", "", "Traceback (code frames only):"]
    for frame in traceback.extract_tb(tb):
        lines.append(f"  {_code_file(frame.filename)}:{frame.lineno} in {frame.name}")
    return "\n".join(lines) + "\n"


def _code_file(filename: str) -> str:
    # keep the package-relative part of HeartTwin's and libraries' files; never user folders
    parts = Path(filename).parts
    for anchor in ("hearttwin", "site-packages"):
        if anchor in parts:
            return "/".join(parts[parts.index(anchor):])
    return Path(filename).name


def write_report(exc_type, exc, tb, folder: Path | None = None) -> Path | None:
    """Write the crash log; returns its path (None when the folder is not writable)."""
    folder = Path(folder) if folder is not None else crash_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"crash-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.log"
        path.write_text(format_report(exc_type, exc, tb), encoding="utf-8")
        return path
    except OSError:
        return None


def show_crash_dialog(path: Path | None, parent=None) -> QMessageBox | None:
    """A non-blocking dialog telling the user what happened and where the log is."""
    if QApplication.instance() is None:
        return None
    where = f"A report without patient data was saved to:\n{path}" if path else \
        "The crash report could not be saved."
    box = QMessageBox(QMessageBox.Icon.Critical, "HeartTwin: unexpected error",
                      "Something went wrong inside HeartTwin. Your data on disk was not changed. "
                      "You can keep working, but save your case and restart if things look wrong.",
                      QMessageBox.StandardButton.Ok, parent)
    box.setInformativeText(where)
    box.setObjectName("crashDialog")
    box.finished.connect(lambda _=0, b=box: _dialogs.remove(b) if b in _dialogs else None)
    _dialogs.append(box)
    box.open()
    return box


def handle(exc_type, exc, tb) -> Path | None:
    """The excepthook: log and tell the user (Ctrl+C still quits)."""
    if issubclass(exc_type, KeyboardInterrupt):
        sys.__excepthook__(exc_type, exc, tb)
        return None
    sys.stderr.write(f"HeartTwin: unexpected {exc_type.__name__} (see the crash log)\n")
    path = write_report(exc_type, exc, tb)
    show_crash_dialog(path)
    return path


def install() -> None:
    """Make :func:`handle` the process's ``sys.excepthook``."""
    sys.excepthook = handle
