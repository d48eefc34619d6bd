"""Start the desktop application."""

from __future__ import annotations

import os
import sys

import shiboken6
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from . import crash, process_jobs


def application() -> QApplication:
    """The QApplication (created once, named for QSettings and crash logs)."""
    app = QApplication.instance()
    if app is None:
        # a headless machine without a display: draw offscreen rather than fail to start
        if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
            os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
            # and VTK's software renderer rather than an X window it cannot open
            os.environ.setdefault("VTK_DEFAULT_OPENGL_WINDOW", "vtkOSOpenGLRenderWindow")
        app = QApplication(sys.argv[:1])
    app.setApplicationName("HeartTwin")
    app.setOrganizationName("HeartTwin")
    return app


def _exit_when_loaded(app, window, timeout_s: float = 240.0) -> None:
    """For scripted checks (HEARTTWIN_EXIT_WHEN_LOADED=1): print the loaded image's size on
    stdout and quit once the window shows it; exit 1 if nothing loads within ``timeout_s``."""
    def loaded() -> None:
        vol = window.session.volume
        if vol is not None:
            nx, ny, nz = vol.array.shape[::-1]
            print(f"loaded {nx} x {ny} x {nz}", flush=True)
            app.exit(0)

    window.session.image_changed.connect(loaded)
    QTimer.singleShot(int(timeout_s * 1000), lambda: app.exit(1))


def run(path=None) -> int:
    """Open the main window (and ``path``, a DICOM folder or image file, if given).

    Parameters
    ----------
    path : str, list of str or None
        What to open; ``__main__`` passes the remaining command-line
        arguments (the first one is used).

    Returns
    -------
    int
        The exit status of the event loop.
    """
    if isinstance(path, (list, tuple)):
        path = path[0] if path else None
    app = application()
    crash.install()
    from .main_window import MainWindow  # after the QApplication exists

    window = MainWindow()
    window.show()
    if os.environ.get("HEARTTWIN_EXIT_WHEN_LOADED"):
        _exit_when_loaded(app, window)
    if path:
        window.open_path(str(path))
    else:  # a case left unsaved by a crash: offer it back
        QTimer.singleShot(0, window.case_files.offer_recovery)
    status = app.exec()
    # destroy the window now, not during interpreter shutdown (Qt objects with Python
    # callbacks torn down by the final garbage collection can crash the process on exit)
    window.close()
    shiboken6.delete(window)
    process_jobs.shutdown()
    return status
