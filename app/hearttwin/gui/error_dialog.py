"""Show a failed job or action to the user as a dialog, never as a traceback."""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox, QWidget

from ..core.errors import HeartTwinError
from . import crash

_open: list[QMessageBox] = []


def show_error(parent: QWidget | None, what: str, err: BaseException) -> QMessageBox:
    """Tell the user that ``what`` failed and why.

    A :class:`HeartTwinError` carries a message written for the user; any
    other exception is a bug, so a crash log is written as well. The dialog
    is window-modal but does not block the event loop (``open``, not ``exec``).
    """
    if isinstance(err, HeartTwinError):
        text, detail = str(err), ""
    else:
        path = crash.write_report(type(err), err, err.__traceback__)
        text = f"An unexpected error occurred ({type(err).__name__})."
        detail = f"A report without patient data was saved to:\n{path}" if path else ""
    box = QMessageBox(QMessageBox.Icon.Warning, "HeartTwin", f"{what} failed.",
                      QMessageBox.StandardButton.Ok, parent)
    box.setObjectName("errorDialog")
    box.setInformativeText(text)
    if detail:
        box.setDetailedText(detail)
    box.finished.connect(lambda _=0, b=box: _open.remove(b) if b in _open else None)
    _open.append(box)
    box.open()
    return box


def open_dialogs() -> list[QMessageBox]:
    """Error dialogs currently shown (tests read them)."""
    return list(_open)
