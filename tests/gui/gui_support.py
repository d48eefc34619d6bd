"""Helpers for the GUI tests: make a window, wait for jobs, read pixels."""


def make_window(qtbot, restore_layout: bool = False):
    """A shown main window; it starts in the four-view layout unless ``restore_layout``
    (the layout another test's window left in the shared test settings)."""
    from hearttwin.gui import settings
    from hearttwin.gui.main_window import MainWindow

    if not restore_layout:
        s = settings.settings()
        s.remove("window/layout")
        s.sync()
    w = MainWindow()
    w.confirm_close = False  # no modal "save changes?" when a test closes a dirty case
    qtbot.addWidget(w)
    w.resize(1280, 820)
    w.show()
    qtbot.waitExposed(w)
    return w


def wait_idle(qtbot, window, timeout=60000):
    """Wait until no job runs (and its result was handled on the GUI thread)."""
    qtbot.waitUntil(lambda: window.job is None, timeout=timeout)
    qtbot.wait(20)


def open_and_load(qtbot, window, path, timeout=60000):
    window.open_path(str(path))
    qtbot.waitUntil(lambda: window.session.volume is not None, timeout=timeout)
    wait_idle(qtbot, window, timeout)


def window_with_true_labels(qtbot, phantom, phantom_dir):
    """A window with the phantom's CT loaded and a copy of its true labels as the segmentation."""
    window = make_window(qtbot)
    open_and_load(qtbot, window, phantom_dir)
    truth = phantom.labels
    labels = type(truth)(truth.array.copy(), truth.spacing, truth.origin, truth.direction)
    window.session.set_labels(labels, step="segment_test")
    return window


def idle_without_errors(qtbot, window, timeout=120000):
    """Wait until no job runs, then fail if one left an error dialog open."""
    from hearttwin.gui import error_dialog

    wait_idle(qtbot, window, timeout)
    errors = [box.text() + " " + box.informativeText() for box in error_dialog.open_dialogs()]
    assert not errors, errors


def place_device(qtbot, window, family="thv-balloon", timeout=180000):
    """Place ``family`` automatically on the Device step; its panel, once the job is done."""
    window.show_step("device")
    panel = window.panel("device")
    panel.select(family)
    panel.place()
    wait_idle(qtbot, window, timeout)
    return panel


def focus_window(qtbot, window):
    """Make ``window`` the active window (its shortcuts need it)."""
    from PySide6.QtWidgets import QApplication

    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=5000)


def close_window(window):
    """Close a module fixture's window for good (case files, widget and its C++ object)."""
    import shiboken6

    window.case_files.close()
    window.close()
    shiboken6.delete(window)


def look_at_device(window, panel, view):
    """Hide the heart and point the 3D camera at the placed device from the front (140 mm)."""
    import numpy as np

    for label in window.session.surfaces:
        window.state.set_label_visible(label, False)
    centre = panel.handle.centre()
    view.camera.SetFocalPoint(*centre)
    view.camera.SetPosition(*(centre + np.array([0.0, -140.0, 0.0])))
    view.camera.SetViewUp(0, 0, 1)
    view.refresh()


def landmark_lps(window, name):
    """The LPS point of the landmark ``name`` the slice views draw."""
    import numpy as np

    return next(np.array(lps, float) for n, lps, _ in window.state.landmarks if n == name)


def grab_rgb(widget):
    """The widget as drawn, (h, w, 3) uint8."""
    import numpy as np
    from PySide6.QtGui import QImage

    img = widget.grab().toImage().convertToFormat(QImage.Format.Format_RGB888)
    ptr = img.constBits()
    arr = np.frombuffer(ptr, np.uint8, img.sizeInBytes()).reshape(img.height(), img.bytesPerLine())
    return arr[:, : img.width() * 3].reshape(img.height(), img.width(), 3).copy()


class Bot:
    """Enough of qtbot for a module-scoped window (qtbot itself is per test)."""

    def waitUntil(self, cond, timeout=5000):  # noqa: N802 (mirrors qtbot)
        import time

        from PySide6.QtWidgets import QApplication

        end = time.monotonic() + timeout / 1000
        while not cond():
            if time.monotonic() > end:
                raise TimeoutError("condition not met")
            QApplication.processEvents()
            time.sleep(0.005)

    def waitExposed(self, widget, timeout=5000):  # noqa: N802
        self.waitUntil(widget.isVisible, timeout)

    def addWidget(self, widget):  # noqa: N802
        pass

    def wait(self, ms):
        import time

        self.waitUntil(lambda t=time.monotonic() + ms / 1000: time.monotonic() > t, ms + 1000)
