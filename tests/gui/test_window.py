"""The main window, headless: open, series table, load, slice views, layouts, settings."""

import time

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QApplication

from gui_support import grab_rgb, make_window, open_and_load, wait_idle
from hearttwin.core import jobs
from hearttwin.core.imaging import Volume
from hearttwin.core.imaging.dicom_write import write_ct_series
from hearttwin.gui import display, error_dialog, settings


def _marker_series(folder, direction):
    """Soft tissue with a bright block at the patient's left-anterior-superior corner."""
    shape = (30, 40, 44)  # z, y, x
    vol = Volume(np.zeros(shape, np.int16), (1.0, 1.0, 2.0), (0, 0, 0), direction)
    k, j, i = np.indices(shape)
    lps = vol.index_to_lps(np.stack([i, j, k], axis=-1))
    centre = lps.reshape(-1, 3).mean(axis=0)
    d = lps - centre
    block = (d[..., 0] > 6) & (d[..., 1] < -6) & (d[..., 2] > 10)
    vol.array[block] = 1000
    write_ct_series(vol, folder, rng=np.random.default_rng(3), series_description="Marker")
    return vol, block


def _bright_centroid(rgb):
    ys, xs = np.nonzero((rgb > 250).all(axis=2))
    assert len(xs) > 20, "the marker is not on screen"
    return xs.mean(), ys.mean()


@pytest.mark.parametrize("direction", [np.eye(3), np.diag([-1.0, -1.0, 1.0])], ids=["LPS", "RAS-stored"])
def test_radiological_orientation(qtbot, window, tmp_path, direction, screenshot):
    vol, block = _marker_series(tmp_path / "marker", direction)
    open_and_load(qtbot, window, tmp_path / "marker")
    st = window.state
    kji = np.argwhere(block).mean(axis=0)
    ijk = kji[::-1]
    # the marker's centre as a canonical index: invert to_source_index by search over the block
    cz, cy, cx = np.argwhere(display.Reorientation.from_direction(direction).view(block)).mean(axis=0)
    st.set_cursor((cx, cy, cz))
    assert np.allclose(st.canonical_to_lps(st.cursor), vol.index_to_lps(ijk), atol=2.1)
    qtbot.wait(10)
    expect = {"axial": (1, -1), "coronal": (1, -1), "sagittal": (-1, -1)}  # (+1 right / +1 down)
    for plane, (sx, sy) in expect.items():
        view = window.views.views[plane]
        rect = view.image_rect()
        x, y = _bright_centroid(grab_rgb(view))
        assert np.sign(x - rect.center().x()) == sx, plane
        assert np.sign(y - rect.center().y()) == sy, plane
    screenshot(f"orientation_{'lps' if direction[0, 0] > 0 else 'ras'}", window)


def test_open_lists_series_loads_and_draws_hu(qtbot, window, phantom, phantom_dir, screenshot):
    open_and_load(qtbot, window, phantom_dir)
    table = window.panel("data").table
    assert table.rowCount() == 1
    assert table.item(0, 0).text() == "*"
    assert table.item(0, 2).text() == "Small phantom CTA"
    assert int(table.item(0, 4).text()) == phantom.image.array.shape[0]
    vol = window.session.volume
    assert np.array_equal(vol.array, phantom.image.array)
    step = window.session.case.history[-1]
    assert step.name == "open_image" and step.params["series"] == window.session.scan.series[0].label
    st = window.state
    view = window.views.views["axial"]
    rgb = grab_rgb(view)
    # a voxel away from the crosshair: its pixel is the windowed HU value
    for offset in [(9, 13, 0), (-15, 6, 0), (20, -17, 0)]:
        c = st.cursor + np.array(offset)
        p = view.canonical_to_widget(c)
        hu = st.image[c[2], c[1], c[0]]
        expected = display.window_to_grey(np.array([hu]), st.window, st.level)[0]
        got = rgb[int(p.y()), int(p.x())]
        assert np.abs(got.astype(int) - int(expected)).max() <= 1, (offset, got, expected)
    screenshot("data_loaded", window)


def test_wheel_crosshair_and_window_level(qtbot, window, phantom_dir):
    open_and_load(qtbot, window, phantom_dir)
    st, axial = window.state, window.views.views["axial"]
    z0 = st.cursor[2]
    before = axial.slice_rgb()
    from PySide6.QtGui import QWheelEvent

    centre = QPointF(axial.width() / 2, axial.height() / 2)
    ev = QWheelEvent(centre, axial.mapToGlobal(centre), QPoint(), QPoint(0, 120), Qt.MouseButton.NoButton,
                     Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(axial, ev)
    assert st.cursor[2] == z0 + 1
    assert not np.array_equal(axial.slice_rgb(), before)
    assert window.views.views["coronal"].slice_index == st.cursor[1]
    # click moves the linked crosshair: coronal and sagittal follow
    target = st.cursor + np.array([12, -9, 0])
    qtbot.mouseClick(axial, Qt.MouseButton.LeftButton, pos=axial.canonical_to_widget(target).toPoint())
    assert np.abs(st.cursor - target).max() <= 1
    assert window.views.views["sagittal"].slice_index == st.cursor[0]
    assert window.views.views["coronal"].slice_index == st.cursor[1]
    # right-drag: wider window to the right, higher level downwards
    w0, l0 = st.window, st.level
    start = QPoint(100, 100)
    qtbot.mousePress(axial, Qt.MouseButton.RightButton, pos=start)
    from PySide6.QtGui import QMouseEvent
    from PySide6.QtCore import QEvent

    move = QMouseEvent(QEvent.Type.MouseMove, QPointF(160, 130), axial.mapToGlobal(QPointF(160, 130)),
                       Qt.MouseButton.NoButton, Qt.MouseButton.RightButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(axial, move)
    qtbot.mouseRelease(axial, Qt.MouseButton.RightButton, pos=QPoint(160, 130))
    assert st.window > w0 and st.level > l0
    window.actions_by_name["preset_Lung"].trigger()
    assert (st.window, st.level) == display.PRESETS["Lung"]


def test_layouts_save_image_and_state(qtbot, window, phantom_dir, tmp_path):
    open_and_load(qtbot, window, phantom_dir)
    views = window.views
    window.actions_by_name["layout_coronal"].trigger()
    assert views.views["coronal"].isVisible() and not views.views["axial"].isVisible()
    qtbot.mouseDClick(views.views["coronal"], Qt.MouseButton.LeftButton)
    assert views.current == "four" and all(v.isVisible() for v in views.views.values())
    qtbot.mouseDClick(views.views["sagittal"], Qt.MouseButton.LeftButton)
    assert views.current == "sagittal"
    out = window.save_view_image(str(tmp_path / "view.png"))
    from PySide6.QtGui import QImage

    img = QImage(out)
    assert img.width() == views.views["sagittal"].width() and img.height() == views.views["sagittal"].height()
    window.save_state()
    assert settings.recent_paths()[0] == str(phantom_dir.resolve())
    assert window.recent_menu.actions()[0].text() == str(phantom_dir.resolve())
    other = make_window(qtbot, restore_layout=True)
    assert other.views.current == "sagittal"  # restored from QSettings
    other.close()
    window.views.set_layout("four")  # what the next tests' windows restore


def test_drop_opens_a_folder(qtbot, window, phantom_dir):
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(phantom_dir))])
    ev = QDropEvent(QPointF(300, 300), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                    Qt.KeyboardModifier.NoModifier)
    window.dropEvent(ev)
    qtbot.waitUntil(lambda: window.session.volume is not None, timeout=30000)
    wait_idle(qtbot, window)
    assert window.session.source == str(phantom_dir)


def test_bad_folder_shows_a_dialog_not_a_traceback(qtbot, window, tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.txt").write_text("not an image")
    window.open_path(str(tmp_path / "empty"))
    wait_idle(qtbot, window)
    boxes = error_dialog.open_dialogs()
    assert boxes and boxes[-1].text() == "Scanning failed."
    assert boxes[-1].informativeText()  # the core's user message
    assert "Traceback" not in boxes[-1].informativeText()
    assert window.session.volume is None
    for b in boxes:
        b.done(0)


def test_cancel_button_stops_a_job(qtbot, window):
    def slow(*, progress=None):
        for i in range(400):
            jobs.report(progress, i, 400, f"step {i}")
            time.sleep(0.01)
        return "finished"

    results = []
    window.run_job("Slow job", slow, on_done=results.append)
    assert window.job_bar.isVisible()
    qtbot.waitUntil(lambda: window.job_bar.bar.value() > 0, timeout=5000)
    qtbot.mouseClick(window.job_bar.cancel_button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot, window)
    assert results == [] and not window.job_bar.isVisible()
    assert "cancelled" in window.statusBar().currentMessage()


def _ctrl_wheel(view, notches):
    from PySide6.QtCore import QPoint
    from PySide6.QtGui import QWheelEvent

    centre = QPointF(view.width() / 2, view.height() / 2)
    event = QWheelEvent(centre, view.mapToGlobal(centre), QPoint(0, 0), QPoint(0, 120 * notches),
                        Qt.MouseButton.NoButton, Qt.KeyboardModifier.ControlModifier,
                        Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(view, event)


def test_linked_slice_zoom(qtbot, window, phantom_dir):
    open_and_load(qtbot, window, phantom_dir)
    views = window.views.views
    assert window.views.link_zoom and window.actions_by_name["link_zoom"].isChecked()
    widths = {p: views[p].image_rect().width() for p in ("axial", "coronal", "sagittal")}
    _ctrl_wheel(views["axial"], 2)
    factor = 1.15 ** 2
    for plane in ("axial", "coronal", "sagittal"):
        assert views[plane].zoom == pytest.approx(factor)
        assert views[plane].image_rect().width() == pytest.approx(widths[plane] * factor, rel=1e-6)
    _ctrl_wheel(views["sagittal"], -1)  # any view drives the others
    assert views["axial"].zoom == pytest.approx(1.15) and views["coronal"].zoom == pytest.approx(1.15)
    # unlinked: only the view under the wheel zooms
    window.actions_by_name["link_zoom"].setChecked(False)
    _ctrl_wheel(views["coronal"], 1)
    assert views["coronal"].zoom == pytest.approx(1.15 ** 2)
    assert views["axial"].zoom == pytest.approx(1.15) and views["sagittal"].zoom == pytest.approx(1.15)
    # linking again matches the others to the axial view; the choice is remembered
    window.actions_by_name["link_zoom"].setChecked(True)
    assert views["coronal"].zoom == pytest.approx(1.15)
    window.actions_by_name["link_zoom"].setChecked(False)
    window.save_state()
    assert settings.settings().value("views/link_zoom") in (False, "false")
    window.actions_by_name["link_zoom"].setChecked(True)
    window.save_state()
