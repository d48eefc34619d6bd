"""Start the desktop application.

Start-up imports only what the main window needs to appear. The core modules
the window needs later in this process (DICOM reading, label editing, device
fitting) are imported by :class:`WarmUp`, a background thread started once the
window has been shown, so the first click on Load or the brush does not stall
the window. Jobs that run in the child process (segmentation, measuring,
simulation, reports) import their modules there, never here.
"""

from __future__ import annotations

import importlib
import logging
import os
import sys
import threading
import time

import shiboken6
from PySide6.QtCore import QTimer
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from . import crash, process_jobs

log = logging.getLogger(__name__)

#: modules the window imports later in this process, most needed first (cheap when already loaded)
WARM_MODULES = (
    "hearttwin.core.imaging.loader",        # scan and load (pydicom), the first thing a user does
    "hearttwin.core.segmentation.editing",  # brush and fill on the GUI thread (scipy.ndimage)
    "hearttwin.gui.surfaces",               # 3D surfaces from the child's arrays (VTK filters)
    "hearttwin.core.devices.plan",          # device placement runs on a worker thread
    "hearttwin.core.casefile",              # save and open .htwin cases
)
#: the warm-up starts this long after the window is shown (its first paints come first)
WARM_UP_DELAY_MS = 300


class WarmUp:
    """Import ``modules`` one by one on a daemon thread, stopping between modules when asked.

    The GUI thread is never kept waiting by this: Python switches threads every few
    milliseconds during an import, and no module listed holds the interpreter lock
    for long in one C call (``tests/gui/test_app.py`` measures the event loop's
    longest gap while it runs). A GUI-thread import of the very module being
    warmed waits for that one module only.

    Parameters
    ----------
    modules : sequence of str
        Module names, imported in order; one that fails is logged and skipped.
    """

    def __init__(self, modules=WARM_MODULES) -> None:
        self.modules = tuple(modules)
        self.imported: list[str] = []
        self.seconds: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="hearttwin-warm-up", daemon=True)

    def start(self) -> "WarmUp":
        self._thread.start()
        return self

    def _run(self) -> None:
        for name in self.modules:
            if self._stop.is_set():
                return
            t0 = time.perf_counter()
            try:
                importlib.import_module(name)
            except Exception:  # noqa: BLE001 - a warm-up failure must never reach the user
                log.warning("warm-up: importing %s failed", name, exc_info=True)
                continue
            self.seconds[name] = time.perf_counter() - t0
            self.imported.append(name)

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def stop(self, timeout: float = 5.0) -> bool:
        """Ask the thread to stop after the current module and wait for it; True once it ended."""
        self._stop.set()
        if self._thread.ident is not None:
            self._thread.join(timeout)
        return not self._thread.is_alive()


#: the warm-up of the running application (None until the window was shown)
warm_up: WarmUp | None = None


def _start_warm_up() -> None:
    global warm_up
    warm_up = WarmUp().start()


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
    if app.windowIcon().isNull():
        app.setWindowIcon(app_icon())
    return app


def app_icon() -> QIcon:
    """HeartTwin's icon at every size it is rendered at (sharp on HiDPI screens too)."""
    from ..core.resources import resources_dir

    icon = QIcon()
    for png in sorted((resources_dir() / "icons").glob("hearttwin-*.png")):
        icon.addFile(str(png))
    return icon


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
    warm_timer = QTimer()  # an object, so a quick exit cancels it
    warm_timer.setSingleShot(True)
    warm_timer.timeout.connect(_start_warm_up)
    warm_timer.start(WARM_UP_DELAY_MS)
    if os.environ.get("HEARTTWIN_EXIT_WHEN_LOADED"):
        _exit_when_loaded(app, window)
    if path:
        window.open_path(str(path))
    else:  # a case left unsaved by a crash: offer it back
        QTimer.singleShot(0, window.case_files.offer_recovery)
    status = app.exec()
    warm_timer.stop()
    if warm_up is not None:
        warm_up.stop()
    # destroy the window now, not during interpreter shutdown (Qt objects with Python
    # callbacks torn down by the final garbage collection can crash the process on exit)
    window.close()
    shiboken6.delete(window)
    process_jobs.shutdown()
    return status
