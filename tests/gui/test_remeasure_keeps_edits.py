"""Measure again on the Model & measure step keeps the landmarks the surgeon dragged.

The window holds the small phantom with its true labels. The "previous"
measurements are measure_all's result made deliberately stale (annulus
centre 2 mm along its normal, right ostium moved, a different annulus
area), so what comes from the new measurement can be told apart from what
was kept. Expected values come from core (``measure_all`` and
``move_landmark`` called here on the same inputs), never from the panel.
"""

import copy

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from gui_support import Bot, close_window, landmark_lps, wait_idle, window_with_true_labels
from hearttwin.core.anatomy.annulus import AnnulusPlane
from hearttwin.core.anatomy.ostia import ostium_entry
from hearttwin.gui import error_dialog
from hearttwin.gui.display import FIXED_AXIS

LEFT, NOMOD = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
LEFT_HEIGHT, RIGHT_HEIGHT = "Left coronary height (mm)", "Right coronary height (mm)"


@pytest.fixture(scope="module")
def app_window(qapp, phantom, phantom_dir):
    from hearttwin.core.anatomy import measure_all

    bot = Bot()
    window = window_with_true_labels(bot, phantom, phantom_dir)
    fresh = measure_all(window.session.labels, window.session.volume)  # what Measure will find
    yield {"window": window, "bot": bot, "fresh": fresh}
    close_window(window)


def _stale(fresh):
    old = copy.deepcopy(fresh)
    a = old["annulus"]
    a["centre_lps"] = (np.array(a["centre_lps"]) + 2.0 * np.array(a["normal_lps"])).round(2).tolist()
    a["area_mm2"] = a["area_mm2"] + 25.0
    old["coronary_ostia"]["right"]["point_lps"] = (np.array(old["coronary_ostia"]["right"]["point_lps"])
                                                   + [3.0, 0.0, 0.0]).tolist()
    return old


@pytest.fixture
def win(app_window):
    window = app_window["window"]
    window.session.set_measurements(_stale(app_window["fresh"]))
    window.session.undo_stack.clear()
    window.state.tool = None
    window.views.set_layout("four")
    window.show_step("model")
    QApplication.processEvents()
    return window


def _drag_up(window, name, pixels):
    """Drag landmark ``name`` ``pixels`` up in the coronal view (crosshair kept away from it)."""
    view, st = window.views.views["coronal"], window.state
    c = st.lps_to_canonical(landmark_lps(window, name))
    cursor = np.round(c).astype(int) + 12
    cursor[FIXED_AXIS[view.plane]] = int(round(c[FIXED_AXIS[view.plane]]))
    st.set_cursor(cursor)
    QApplication.processEvents()
    start = view.canonical_to_widget(c).toPoint()
    end = start + QPoint(0, -pixels)
    QTest.mousePress(view, LEFT, NOMOD, start)
    QTest.mouseMove(view, start + QPoint(0, -pixels // 2))
    QTest.mouseMove(view, end)
    QTest.mouseRelease(view, LEFT, NOMOD, end)
    QApplication.processEvents()


def _measure(window, bot):
    window.statusBar().clearMessage()
    window.panel("model").measure_button.click()
    assert window.job is not None
    wait_idle(bot, window, timeout=120000)
    errors = [box.text() for box in error_dialog.open_dialogs()]
    assert not errors, errors


def test_remeasure_keeps_the_dragged_left_ostium(app_window, win):
    from hearttwin.core.anatomy.measure import move_landmark

    session, panel, fresh = win.session, win.panel("model"), app_window["fresh"]
    previous_right = session.case.measurements["coronary_ostia"]["right"]["point_lps"]
    _drag_up(win, "LCA", 24)
    dragged = session.case.measurements["coronary_ostia"]["left"]["point_lps"]
    height_on_old_plane = session.case.measurements["coronary_ostia"]["left"]["height_mm"]
    assert np.linalg.norm(np.subtract(dragged, fresh["coronary_ostia"]["left"]["point_lps"])) > 2.0

    _measure(win, app_window["bot"])
    m = session.case.measurements
    assert m["coronary_ostia"]["left"]["point_lps"] == dragged
    # the height is core's for the dragged point on the NEW annulus plane
    expected = move_landmark(fresh, "left_ostium", dragged)[0]["coronary_ostia"]["left"]
    a = fresh["annulus"]
    plane = AnnulusPlane(np.array(a["centre_lps"]), np.array(a["normal_lps"]), 0)
    assert expected["height_mm"] == ostium_entry(dragged, plane, "edited")["height_mm"]
    assert m["coronary_ostia"]["left"]["height_mm"] == expected["height_mm"]
    assert abs(expected["height_mm"] - height_on_old_plane) > 1.5  # recomputed, not carried over
    assert "height_mm_range" not in m["coronary_ostia"]["left"]
    assert set(m["edited"]) == {"coronary_ostia.left.point_lps", "coronary_ostia.left.height_mm"}
    assert panel.is_edited(LEFT_HEIGHT) and panel.range_text(LEFT_HEIGHT) == "—"
    assert panel.value_text(LEFT_HEIGHT) == f"{expected['height_mm']:.1f}"
    assert np.allclose(landmark_lps(win, "LCA"), dragged)
    # everything not dragged comes from the new measurement
    assert m["coronary_ostia"]["right"] == fresh["coronary_ostia"]["right"]
    assert m["coronary_ostia"]["right"]["point_lps"] != previous_right
    assert not panel.is_edited(RIGHT_HEIGHT)
    assert m["annulus"]["centre_lps"] == fresh["annulus"]["centre_lps"]
    assert m["annulus"]["area_mm2"] == fresh["annulus"]["area_mm2"]
    message = win.statusBar().currentMessage()
    assert "kept 1 hand-corrected landmark" in message and "label map has changed" not in message
    assert session.case.history[-1].name == "measure"


def test_remeasure_after_label_change_keeps_points_and_says_so(app_window, win):
    session, bot = win.session, app_window["bot"]
    _measure(win, bot)  # the panel now knows which labels the measurements came from
    assert "kept" not in win.statusBar().currentMessage()  # nothing was moved by hand
    _drag_up(win, "LCA", 20)
    dragged = session.case.measurements["coronary_ostia"]["left"]["point_lps"]
    _measure(win, bot)  # same labels: no note
    message = win.statusBar().currentMessage()
    assert "kept 1 hand-corrected landmark" in message and "label map has changed" not in message
    session.labels_edited()  # e.g. a brush stroke
    _measure(win, bot)
    assert session.case.measurements["coronary_ostia"]["left"]["point_lps"] == dragged
    message = win.statusBar().currentMessage()
    assert "kept 1 hand-corrected landmark" in message and "label map has changed" in message
