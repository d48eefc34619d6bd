"""File-menu case actions: new, open, save, save as ``.htwin``, autosave and recovery.

:class:`CaseFiles` belongs to the main window. Reading and writing run as
jobs (never on the GUI thread); the questions (save before closing, recover
after a crash, where the CT went) are asked through :meth:`CaseFiles.ask`,
which tests replace.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QFileDialog, QMessageBox

from ..core import autosave, casefile
from ..core.case_image import ImageNotFoundError
from . import error_dialog, settings

#: seconds between autosave checks of the GUI (the Autosaver decides whether one is due)
AUTOSAVE_CHECK_S = 20
AUTOSAVE_INTERVAL_S = 60.0
FILTER = "HeartTwin case (*.htwin)"

Button = QMessageBox.StandardButton


class CaseFiles(QObject):
    """The case-file actions of ``window`` (a :class:`~hearttwin.gui.main_window.MainWindow`)."""

    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        self.autosaver: autosave.Autosaver | None = None
        #: None: ask with a message box; tests set a function (title, text, buttons) -> button
        self.answer = None
        self.timer = QTimer(self)
        self.timer.setInterval(AUTOSAVE_CHECK_S * 1000)
        self.timer.timeout.connect(self.autosave_now)
        self.timer.start()
        window.session.case_replaced.connect(self._on_case)

    # -- questions ---------------------------------------------------------------------------
    def ask(self, title: str, text: str, buttons) -> Button:
        if self.answer is not None:
            return self.answer(title, text, buttons)
        return QMessageBox.question(self.window, title, text, buttons)

    def confirm_discard(self) -> bool:
        """True when the current case may be replaced or closed (saved, or the user said so)."""
        case = self.window.session.case
        if case is None or not case.dirty:
            return True
        choice = self.ask("Unsaved changes", "The case has unsaved changes. Save them first?",
                          Button.Save | Button.Discard | Button.Cancel)
        if choice == Button.Cancel:
            return False
        if choice == Button.Save:
            path = case.path or self._ask_path()
            if path is None:
                return False
            try:  # closing: save now, on this thread, so nothing is lost
                casefile.save(case, path)
            except Exception as err:  # noqa: BLE001 - shown, and the close is refused
                error_dialog.show_error(self.window, "Saving the case", err)
                return False
        return True

    # -- new / open --------------------------------------------------------------------------
    def new_case(self) -> None:
        if self.confirm_discard():
            self._discard_recovery()
            self.window.session.set_case(None)
            self.window.show_step("data")

    def open_dialog(self) -> None:
        if not self.confirm_discard():
            return
        path, _ = QFileDialog.getOpenFileName(self.window, "Open a case", _last_dir(), FILTER)
        if path:
            self.open(path)

    def open(self, path, locate=None):
        """Load the case file ``path`` in the background (``locate``: where its CT moved to)."""
        path = str(path)
        return self.window.run_job("Opening the case", casefile.load, path, locate=locate,
                                   on_done=lambda case: self._opened(case, path),
                                   on_error=lambda err: self._open_failed(err, path))

    def _open_failed(self, err, path: str) -> bool:
        if not isinstance(err, ImageNotFoundError):
            return False
        folder = QFileDialog.getExistingDirectory(
            self.window, f"Where is the CT now? (folder {err.expected_folder or ''})", _last_dir())
        if folder:
            self.open(path, locate=folder)
        return True

    def _opened(self, case, path: str) -> None:
        self._discard_recovery()
        settings.add_recent(path)
        self.window.session.set_case(case)
        for warning in case.warnings:
            self.window.statusBar().showMessage(warning, 8000)
        self.window.after_case_opened()

    # -- save --------------------------------------------------------------------------------
    def save(self):
        case = self.window.session.case
        if case is None:
            return None
        if case.path is None:
            return self.save_as()
        return self.save_to(case.path)

    def save_as(self):
        if self.window.session.case is None:
            return None
        path = self._ask_path()
        return self.save_to(path) if path else None

    def save_to(self, path):
        """Write the case to ``path`` (``.htwin``) in the background."""
        case = self.window.session.case
        path = Path(path)
        if path.suffix.lower() != casefile.SUFFIX:
            path = path.with_name(path.name + casefile.SUFFIX)
        return self.window.run_job("Saving the case", casefile.save, case, path,
                                   on_done=lambda _p: self._saved(path))

    def _saved(self, path: Path) -> None:
        settings.add_recent(str(path))
        if self.autosaver is not None:
            self.autosaver.maybe_save()  # the case is clean: removes the recovery file
        self.window.update_title()
        self.window.statusBar().showMessage(f"Saved {path.name}.", 5000)

    def _ask_path(self) -> Path | None:
        case = self.window.session.case
        start = str(case.path) if case is not None and case.path else str(Path(_last_dir()) / "case.htwin")
        path, _ = QFileDialog.getSaveFileName(self.window, "Save the case as", start, FILTER)
        return Path(path) if path else None

    # -- autosave and recovery ---------------------------------------------------------------
    def _on_case(self) -> None:
        case = self.window.session.case
        self.autosaver = autosave.Autosaver(case, interval_s=AUTOSAVE_INTERVAL_S) if case is not None else None
        self.window.update_title()

    def autosave_now(self, force: bool = False):
        """Start a recovery save when one is due (``force``: whenever the case is dirty)."""
        saver = self.autosaver
        if saver is None or self.window.job is not None:
            return None
        if not (saver.due() or (force and saver.case.dirty)):
            if not saver.case.dirty:
                saver.discard()
            return None
        return self.window.run_job("Autosaving", saver.save)

    def _discard_recovery(self) -> None:
        if self.autosaver is not None:
            self.autosaver.discard()

    def close(self) -> None:
        """The window closes cleanly: the recovery file is no longer needed."""
        self.timer.stop()
        self._discard_recovery()

    def offer_recovery(self) -> bool:
        """At start: offer to reopen a case left unsaved by a crash. True when one is being opened."""
        found = autosave.pending()
        if not found:
            return False
        rec = found[0]
        where = f" (last saved to {Path(rec.case_path).name})" if rec.case_path else ""
        choice = self.ask("Recover unsaved work",
                          f"HeartTwin closed unexpectedly with unsaved changes{where}, autosaved at "
                          f"{rec.saved_utc}. Recover them?", Button.Yes | Button.No)
        if choice != Button.Yes:
            rec.path.unlink(missing_ok=True)
            return False
        self.window.run_job("Recovering the case", autosave.recover, rec,
                            on_done=lambda case: self._recovered(case, rec))
        return True

    def _recovered(self, case, rec) -> None:
        self.window.session.set_case(case)  # same case id: the autosaver overwrites rec.path
        self.window.after_case_opened()


def _last_dir() -> str:
    recent = settings.recent_paths()
    return str(Path(recent[0]).parent) if recent else str(Path.home())
