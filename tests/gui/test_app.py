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


# A fresh interpreter: the application as started by ``hearttwin``, the event loop's
# longest gap measured by a 10 ms timer from the first turn until the warm-up ended.
_WARM_UP_SCRIPT = r"""
import json, sys
from PySide6.QtCore import QElapsedTimer, QTimer
from hearttwin.gui import app as gui_app

qapp = gui_app.application()
gaps, clock, seen = [], QElapsedTimer(), {}

def tick():
    gaps.append(clock.restart())

timer = QTimer()
timer.setInterval(10)
timer.timeout.connect(tick)

def first_turn():  # the window is up: what the warm-up will still have to import
    seen["missing"] = [m for m in gui_app.WARM_MODULES if m not in sys.modules]
    clock.start()
    timer.start()
    poll()

def poll():
    w = gui_app.warm_up
    if w is not None and not w.running:
        timer.stop()
        qapp.exit(0)
    else:
        QTimer.singleShot(20, poll)

QTimer.singleShot(0, first_turn)
QTimer.singleShot(120000, lambda: qapp.exit(3))
status = gui_app.run(None)
w = gui_app.warm_up
print(json.dumps({"status": status, "gaps": gaps, "missing": seen["missing"], "imported": w.imported,
                  "seconds": w.seconds, "loaded": [m for m in gui_app.WARM_MODULES if m in sys.modules]}))
"""



def _python(script: str, tmp_path, timeout: int = 180) -> dict:
    import json
    import os
    import subprocess

    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "VTK_DEFAULT_OPENGL_WINDOW": "vtkOSOpenGLRenderWindow",
           "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "config")}
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env,
                          timeout=timeout, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_warm_up_imports_the_later_modules_without_blocking_the_window(tmp_path):
    got = _python(_WARM_UP_SCRIPT, tmp_path)
    assert got["status"] == 0
    assert got["imported"] == list(gui_app.WARM_MODULES)  # in order, none failed
    assert got["loaded"] == list(gui_app.WARM_MODULES)
    # the event loop kept turning while the warm-up imported what the window had not
    assert len(got["gaps"]) >= 3
    assert max(got["gaps"]) < 100, (got["missing"], got["seconds"], max(got["gaps"]))


def test_warm_up_from_scratch_keeps_the_event_loop_turning(tmp_path):
    """Every module of the warm-up imported from nothing (as when the window stops importing
    them at start-up): together they take a good part of a second, yet no gap reaches 100 ms.

    (A module such as ``scipy.stats`` holds the interpreter lock in one call for >100 ms:
    that one must not be warmed in the GUI process; its jobs run in the child.)"""
    script = r"""
import json, sys, time
from PySide6.QtCore import QElapsedTimer, QTimer
from PySide6.QtWidgets import QApplication
from hearttwin.gui.app import WarmUp

from hearttwin.gui.app import WARM_MODULES as heavy
app = QApplication([])
before = [m for m in heavy if m in sys.modules]
gaps, clock = [], QElapsedTimer()
timer = QTimer()
timer.setInterval(10)
timer.timeout.connect(lambda: gaps.append(clock.restart()))
warm = WarmUp(heavy + ("hearttwin.no_such_module",))

def begin():
    clock.start()
    timer.start()
    warm.start()
    poll()

def poll():
    if warm.running:
        QTimer.singleShot(20, poll)
    else:
        app.exit(0)

QTimer.singleShot(0, begin)
t0 = time.perf_counter()
app.exec()
print(json.dumps({"before": before, "gaps": gaps, "imported": warm.imported, "seconds": warm.seconds,
                  "elapsed": time.perf_counter() - t0, "loaded": [m for m in heavy if m in sys.modules]}))
"""
    got = _python(script, tmp_path)
    assert got["before"] == []
    assert got["imported"] == list(gui_app.WARM_MODULES)  # the missing module was skipped, not fatal
    assert got["loaded"] == list(gui_app.WARM_MODULES)
    assert sum(got["seconds"].values()) > 0.2  # real imports happened while the timer ticked
    assert len(got["gaps"]) > 0.5 * got["elapsed"] * 100 * 0.5
    assert max(got["gaps"]) < 100, (max(got["gaps"]), got["seconds"])


def test_warm_up_stops_between_modules():
    from hearttwin.gui.app import WarmUp

    warm = WarmUp(("json", "csv"))
    warm._stop.set()  # asked to stop before it ran: nothing is imported
    warm.start()
    assert warm.stop(timeout=5)
    assert warm.imported == [] and not warm.running


#: imported only by the jobs that need them, in the child process: never by the window at start-up
_CHILD_ONLY = ("hearttwin.core.anatomy", "hearttwin.core.segmentation.auto", "hearttwin.report", "SimpleITK",
               "scipy.stats", "scipy.ndimage", "skimage", "matplotlib", "pydicom")


def test_the_window_starts_without_the_heavy_core(tmp_path):
    script = r"""
import json, sys
from hearttwin.gui import app as gui_app
from hearttwin.gui.main_window import MainWindow

qapp = gui_app.application()
window = MainWindow()
window.show()
qapp.processEvents()
print(json.dumps({"loaded": [m for m in %r if m in sys.modules], "title": window.windowTitle()}))
window.close()
""" % (_CHILD_ONLY,)
    got = _python(script, tmp_path)
    assert got["title"].startswith("HeartTwin")
    assert got["loaded"] == []


def test_deferred_job_pickles_as_the_function_it_names():
    import pickle

    from hearttwin.gui.deferred import MEASURE_ALL, Deferred

    job = MEASURE_ALL
    restored = pickle.loads(pickle.dumps(job))  # what the child process receives
    from hearttwin.core.anatomy import measure_all

    assert restored is measure_all
    assert Deferred("json:dumps")([1, 2]) == "[1, 2]"  # called in place, it imports and calls


def test_the_window_icon_comes_in_several_sizes(qtbot):
    from hearttwin.gui import app as gui_app

    icon = gui_app.application().windowIcon()
    sizes = sorted(s.width() for s in icon.availableSizes())
    assert sizes == [48, 128, 256]  # the renderings shipped in resources/icons
    pixmap = icon.pixmap(256, 256)
    image = pixmap.toImage()
    assert image.width() == 256
    centre = image.pixelColor(128, 128)
    assert centre.alpha() > 0  # the heart is drawn, not an empty image
