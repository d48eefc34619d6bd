"""Start the desktop application."""

from __future__ import annotations

import os
import sys

import shiboken6
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
    if path:
        window.open_path(str(path))
    status = app.exec()
    # destroy the window now, not during interpreter shutdown (Qt objects with Python
    # callbacks torn down by the final garbage collection can crash the process on exit)
    window.close()
    shiboken6.delete(window)
    process_jobs.shutdown()
    return status
