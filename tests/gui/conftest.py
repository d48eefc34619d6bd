"""Fixtures for the desktop-application tests (pytest-qt, offscreen Qt and VTK).

- settings go to a temporary folder (never the user's);
- an autouse fixture fails a test that leaves a worker or QThread running;
- ``phantom_dir``: a small synthetic cardiac CT written as DICOM once per session;
- ``window``: a fresh main window; ``screenshot(name, widget)`` saves PNGs to
  ``$HEARTTWIN_SCREENSHOTS`` (default: a temporary folder).
"""

import os
import sys
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("VTK_DEFAULT_OPENGL_WINDOW", "vtkOSOpenGLRenderWindow")

from PySide6.QtCore import QSettings, QThread  # noqa: E402

SAMPLE = Path(__file__).resolve().parents[2] / "sample_dicom"
_started_threads: list = []

# helpers shared by the test modules (tests/ itself is on sys.path with its own conftest)
sys.path.insert(0, str(Path(__file__).parent))
from gui_support import make_window  # noqa: E402


@pytest.fixture(autouse=True, scope="session")
def _isolated_settings(tmp_path_factory):
    folder = tmp_path_factory.mktemp("qsettings")
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(folder))
    os.environ["HEARTTWIN_CRASH_DIR"] = str(folder / "crash")
    os.environ["HEARTTWIN_DATA_DIR"] = str(folder / "data")  # autosave/recovery files
    yield folder
    from hearttwin.gui import process_jobs

    process_jobs.shutdown()


@pytest.fixture(autouse=True)
def no_running_threads(monkeypatch):
    """Fail a test that leaves a HeartTwin job or any QThread it started running."""
    from hearttwin.gui import workers

    original = QThread.start

    def tracked_start(self, *args, **kwargs):
        _started_threads.append(self)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(QThread, "start", tracked_start)
    yield
    # a job that has signalled its end is gone within microseconds: allow a short grace
    busy = 0 if workers.pool().waitForDone(1000) else workers.pool().activeThreadCount()
    running = [t for t in _started_threads if not t.wait(1000)]
    if busy or running:
        workers.pool().waitForDone(20000)  # do not let the next test inherit it
        for t in running:
            t.wait(5000)
    _started_threads.clear()
    assert busy == 0, f"{busy} worker job(s) still running at the end of the test"
    assert not running, f"{len(running)} QThread(s) still running at the end of the test"


@pytest.fixture(scope="session")
def phantom():
    """A small synthetic case (112 x 112 x ~98 voxels, ~1.7 mm) with its true labels."""
    from hearttwin.core.phantom.generate import generate_phantom
    from hearttwin.core.phantom.params import PhantomParams

    return generate_phantom(PhantomParams.sample(0, "small")).phases[0]


@pytest.fixture(scope="session")
def phantom_dir(phantom, tmp_path_factory):
    from hearttwin.core.imaging.dicom_write import write_ct_series
    import numpy as np

    out = tmp_path_factory.mktemp("phantom_dicom") / "ct"
    write_ct_series(phantom.image, out, rng=np.random.default_rng(0), series_description="Small phantom CTA")
    return out


@pytest.fixture(scope="session")
def dice_score():
    def dice(a, b):
        total = int(a.sum()) + int(b.sum())
        return 2.0 * int((a & b).sum()) / total if total else 1.0
    return dice


@pytest.fixture(scope="session")
def screenshot_dir(tmp_path_factory):
    env = os.environ.get("HEARTTWIN_SCREENSHOTS")
    folder = Path(env) if env else tmp_path_factory.mktemp("screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def screenshot(screenshot_dir):
    def save(name: str, widget) -> Path:
        path = screenshot_dir / f"{name}.png"
        assert widget.grab().save(str(path))
        return path
    return save


@pytest.fixture
def window(qtbot):
    w = make_window(qtbot)
    yield w
    w.close()
