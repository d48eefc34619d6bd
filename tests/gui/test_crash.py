"""Unexpected errors: crash logs hold no patient data; users see dialogs, not tracebacks."""

import os
import sys

from PySide6.QtWidgets import QMessageBox

from hearttwin.core.errors import GeometryError
from hearttwin.gui import crash, error_dialog

PATIENT_BITS = ("DOE", "JANE", "19650412", "4481923")


def _raise_with_patient_data():
    try:
        raise RuntimeError("cannot read /data/DOE^JANE/19650412/4481923/img.dcm for DOE^JANE")
    except RuntimeError:
        return sys.exc_info()


def test_crash_log_has_code_frames_but_no_patient_data(tmp_path):
    path = crash.write_report(*_raise_with_patient_data(), folder=tmp_path)
    text = path.read_text()
    assert "RuntimeError" in text
    assert "test_crash.py" in text and "_raise_with_patient_data" in text
    for bit in PATIENT_BITS:
        assert bit not in text


def test_excepthook_writes_log_and_shows_dialog(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("HEARTTWIN_CRASH_DIR", str(tmp_path))
    path = crash.handle(*_raise_with_patient_data())
    assert path is not None and path.parent == tmp_path and path.exists()
    dialogs = [d for d in crash._dialogs if d.isVisible()]
    assert dialogs and str(path) in dialogs[-1].informativeText()
    for d in dialogs:
        d.done(0)


def test_install_sets_the_hook(monkeypatch):
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    crash.install()
    assert sys.excepthook is crash.handle


def test_user_errors_show_their_message(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("HEARTTWIN_CRASH_DIR", str(tmp_path))
    box = error_dialog.show_error(None, "Loading series 3", GeometryError("Series 3 has a gap at z=10.0 mm."))
    assert box.isVisible() and box.informativeText() == "Series 3 has a gap at z=10.0 mm."
    assert list(tmp_path.iterdir()) == []  # a user error is not a crash
    box.done(0)
    other = error_dialog.show_error(None, "Saving", ValueError("bug"))
    assert "unexpected" in other.informativeText() and len(list(tmp_path.iterdir())) == 1
    assert other.icon() == QMessageBox.Icon.Warning
    other.done(0)


def test_signal_emits_do_not_exhaust_true():
    """PySide6 6.12.0 loses a reference to True per emit; the workaround keeps it alive."""
    from hearttwin.gui import pyside_fix  # importing the package applies the workaround

    probe = pyside_fix._Probe()
    for _ in range(20000):  # more than True's own count on Python 3.11
        probe.ping.emit()
    assert sys.getrefcount(True) > 1000


def test_methods_returning_nothing_do_not_exhaust_none():
    """PySide6 6.12.0 loses a reference to None per call of a method returning nothing: a
    process making more such calls than None has references still exits cleanly."""
    import subprocess

    script = (
        "import sys\n"
        "import hearttwin.gui\n"
        "from hearttwin.gui import pyside_fix\n"
        "probe = pyside_fix._Probe()\n"
        "for _ in range(200000):  # None has ~7,000 references after these imports\n"
        "    probe.setObjectName('probe')\n"
        "print('survived', pyside_fix.void_call_leaks_none())\n")
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.startswith("survived")
