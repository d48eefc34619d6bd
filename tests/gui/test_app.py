"""The entry point: ``hearttwin`` with no sub-command opens the window (and a path)."""

import sys

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from hearttwin.gui import app as gui_app
from hearttwin.gui import crash
from hearttwin.gui.main_window import MainWindow


def test_run_opens_the_path_and_returns_the_exit_status(qtbot, phantom_dir, monkeypatch):
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)  # run() installs the crash hook
    before = {id(w) for w in QApplication.topLevelWidgets()}
    opened = []

    def poll():
        new = [w for w in QApplication.topLevelWidgets()
               if isinstance(w, MainWindow) and id(w) not in before and w.isVisible()]
        if new and new[0].session.volume is not None and new[0].job is None:
            opened.append(new[0].session.volume.array.shape)
            QApplication.exit(0)
        else:
            QTimer.singleShot(50, poll)

    QTimer.singleShot(50, poll)
    guard = QTimer()  # never hang the suite (an object, so it can be stopped afterwards)
    guard.setSingleShot(True)
    guard.timeout.connect(lambda: QApplication.exit(3))
    guard.start(60000)
    try:
        status = gui_app.run([str(phantom_dir)])  # as __main__ passes the remaining arguments
    finally:
        guard.stop()
    assert status == 0
    assert sys.excepthook is crash.handle
    assert opened and opened[0][0] > 10  # the path was scanned and loaded
    # run() destroyed its window on the way out
    assert not [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow) and id(w) not in before]
