"""The double-oblique view in a real window on the small phantom: layout, snaps, turning, wheel."""

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication

from gui_support import grab_rgb, open_and_load
from hearttwin.core.imaging.reslice import reslice
from hearttwin.gui import display, oblique_view

TILTED = np.array([0.35, -0.45, 0.82]) / np.linalg.norm([0.35, -0.45, 0.82])


@pytest.fixture
def oblique(qtbot, window, phantom_dir, phantom):
    open_and_load(qtbot, window, phantom_dir)
    action = oblique_view.install(window)
    action.trigger()
    view = window.views.oblique
    qtbot.waitUntil(lambda: view.canvas.isVisible() and view.canvas.width() > 300)
    yield window, view, phantom
    window.views.set_layout("four")  # what the next tests' windows restore


def _aorta_point(phantom) -> np.ndarray:
    """An LPS point well inside the aorta (label 6) of the phantom."""
    idx = np.argwhere(phantom.labels.array == 6)
    k, j, i = idx[np.argmin(np.linalg.norm(idx - idx.mean(axis=0), axis=1))]
    return phantom.labels.index_to_lps([i, j, k])


def _wheel(widget, notches, modifiers=Qt.KeyboardModifier.NoModifier):
    centre = QPointF(widget.width() / 2, widget.height() / 2)
    event = QWheelEvent(centre, widget.mapToGlobal(centre), QPoint(0, 0), QPoint(0, 120 * notches),
                        Qt.MouseButton.NoButton, modifiers, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(widget, event)


def test_install_adds_one_view_menu_action_that_shows_the_oblique_view_alone(qtbot, oblique):
    window, view, _ = oblique
    assert oblique_view.install(window) is oblique_view.install(window)  # idempotent
    view_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&View")
    assert [a.text() for a in view_menu.actions()].count("Double-oblique view") == 1
    assert window.views.current == "oblique" and window.views.active_view() is view
    assert view.isVisible() and not any(v.isVisible() for v in window.views.views.values())
    assert view.canvas.width() > 0.9 * window.views.width()  # enlarged: the whole grid
    qtbot.mouseDClick(view.canvas, Qt.MouseButton.LeftButton)
    assert window.views.current == "four" and not view.isVisible()
    assert all(v.isVisible() for v in window.views.views.values())


def test_pixels_follow_the_plane_and_the_annulus_snap(qtbot, oblique):
    window, view, phantom = oblique
    canvas = view.canvas
    qtbot.wait(50)
    axial = grab_rgb(canvas)
    h, w, _ = axial.shape
    body = axial[h // 4: 3 * h // 4, w // 4: 3 * w // 4]
    assert body.std() > 20  # anatomy, not a blank canvas
    # missing measurement: a message, no move
    assert not view.annulus_button.isEnabled()
    assert not view.snap_annulus() and "annulus has not been measured" in view.message
    centre = _aorta_point(phantom)
    window.session.set_measurements({"annulus": {"centre_lps": centre.tolist(), "normal_lps": TILTED.tolist(),
                                                 "major_axis_lps": [1.0, 0.0, 0.0]}})
    assert view.annulus_button.isEnabled()
    view.annulus_button.click()
    assert np.allclose(view.plane.normal, TILTED) and np.allclose(view.plane.centre, centre)
    assert view.mode == "annulus plane" and view.message == ""
    # the linked crosshair moved to the annulus centre
    assert np.linalg.norm(window.state.cursor_lps() - centre) < 1.5
    qtbot.wait(50)
    snapped = grab_rgb(canvas)
    changed = np.abs(snapped.astype(int) - axial.astype(int)).max(axis=2) > 30
    assert changed.mean() > 0.2
    # the centre pixel shows the CT at the annulus centre, windowed as the state says
    st = window.state
    expected = display.window_to_grey(reslice(st.volume, view.plane, 1.0, 1.0), st.window, st.level)[0, 0]
    cy, cx = h // 2, w // 2
    grey = snapped[cy - 2: cy + 3, cx - 2: cx + 3].astype(int)
    assert abs(np.median(grey) - int(expected)) < 25
    # turning the plane changes the picture again
    view.turn("u", 35.0)
    qtbot.wait(50)
    turned = grab_rgb(canvas)
    assert (np.abs(turned.astype(int) - snapped.astype(int)).max(axis=2) > 30).mean() > 0.1
    assert view.plane.normal @ TILTED == pytest.approx(np.cos(np.radians(35.0)), abs=1e-9)
    assert view.last_ms > 0


def test_wheel_moves_along_the_normal_and_drag_turns(qtbot, oblique):
    window, view, _ = oblique
    canvas = view.canvas
    before = view.plane
    _wheel(canvas, 3)
    step = min(window.session.volume.spacing)
    assert view.step_mm == pytest.approx(step)
    assert np.allclose(view.plane.centre - before.centre, 3 * step * before.normal)
    assert view.offset_mm() == pytest.approx(3 * step)
    _wheel(canvas, -1)
    assert np.allclose(view.plane.centre - before.centre, 2 * step * before.normal)
    fov = view.fov_mm
    _wheel(canvas, 2, Qt.KeyboardModifier.ControlModifier)
    assert view.fov_mm == pytest.approx(fov / 1.15 ** 2)
    assert np.allclose(view.plane.centre - before.centre, 2 * step * before.normal)
    # right drag by 50 px to the right turns about the screen's vertical axis by 50 * 0.4°
    normal = view.plane.normal
    qtbot.mousePress(canvas, Qt.MouseButton.RightButton, pos=QPoint(200, 200))
    qtbot.mouseMove(canvas, QPoint(250, 200))
    assert min(view.resliced_rgb().shape[:2]) == oblique_view.DRAG_SAMPLES  # coarser while dragging
    qtbot.mouseRelease(canvas, Qt.MouseButton.RightButton, pos=QPoint(250, 200))
    assert min(view.resliced_rgb().shape[:2]) == oblique_view.SAMPLES
    assert normal @ view.plane.normal == pytest.approx(np.cos(np.radians(50 * oblique_view.DRAG_DEGREES)), abs=1e-6)
    # keys: Up tilts by 2°, PageDown moves back one step, Home returns to axial
    canvas.setFocus()
    normal, centre = view.plane.normal, view.plane.centre
    qtbot.keyClick(canvas, Qt.Key.Key_Up)
    assert normal @ view.plane.normal == pytest.approx(np.cos(np.radians(2.0)), abs=1e-9)
    qtbot.keyClick(canvas, Qt.Key.Key_PageDown)
    assert np.allclose(view.plane.centre - centre, -step * view.plane.normal)
    qtbot.keyClick(canvas, Qt.Key.Key_Home)
    assert np.allclose(view.plane.normal, [0.0, 0.0, 1.0]) and view.mode == "axial"


def test_device_and_centreline_snaps(qtbot, oblique):
    window, view, phantom = oblique
    assert not view.device_button.isEnabled() and not view.centreline_slider.isEnabled()
    centre = _aorta_point(phantom)
    pts = [centre + s * TILTED for s in np.arange(0.0, 40.0, 2.0)]
    window.session.set_measurements({"annulus": {"centre_lps": centre.tolist(), "normal_lps": TILTED.tolist()},
                                     "aortic_centreline": {"points_lps": [p.tolist() for p in pts]}})
    assert view.centreline_slider.isEnabled()
    view.centreline_slider.setValue(50)
    assert np.allclose(view.plane.normal, TILTED) and np.linalg.norm(view.plane.centre - pts[0] - 19 * TILTED) < 1e-6
    assert view.mode == "centreline 50%"
    axis = np.array([0.0, 0.6, 0.8])
    pose = np.eye(4)
    pose[:3, 2], pose[:3, 1] = axis, [0.0, 0.8, -0.6]
    pose[:3, 3] = centre - 5.0 * axis
    window.session.set_device("test-valve", "23", pose)
    assert view.device_button.isEnabled()
    view.device_button.click()
    assert np.allclose(view.plane.v, -axis) and abs(view.plane.normal @ axis) < 1e-9
    # centred on the annulus centre projected onto the device axis
    expected = pose[:3, 3] + ((centre - pose[:3, 3]) @ axis) * axis
    assert np.allclose(view.plane.centre, expected) and view.mode == "device axis"
    qtbot.wait(50)
    assert grab_rgb(view.canvas).std() > 20
