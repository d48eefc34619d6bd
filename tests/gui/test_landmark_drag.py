"""Dragging measured landmarks on the Model & measure step, in the real window.

The window holds the small phantom with its true labels and measure_all's
result (the ostia given as landmarks, so both exist). Expected positions come
from the mouse offset and the view's pixel size in mm; expected heights from
core's own ostium height (:func:`hearttwin.core.anatomy.ostia.ostium_entry`
on the stored annulus plane), never from the code under test.
"""

import copy

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from gui_support import Bot, close_window, landmark_lps, window_with_true_labels
from hearttwin.core.anatomy.annulus import AnnulusPlane
from hearttwin.core.anatomy.ostia import ostium_entry
from hearttwin.gui.display import FIXED_AXIS

LEFT, NOMOD = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
LEFT_HEIGHT, RIGHT_HEIGHT = "Left coronary height (mm)", "Right coronary height (mm)"
STJ_HEIGHT = "STJ height (mm)"


@pytest.fixture(scope="module")
def app_window(qapp, phantom, phantom_dir):
    from hearttwin.core.anatomy import measure_all

    bot = Bot()
    window = window_with_true_labels(bot, phantom, phantom_dir)
    truth = phantom.landmarks["coronary_ostia"]
    marks = {"coronary_ostia": {s: truth[s]["point_lps"] for s in ("left", "right")}}
    measured = measure_all(window.session.labels, window.session.volume, landmarks=marks)
    window.session.set_measurements(measured)
    yield {"window": window, "bot": bot, "measured": window.session.case.measurements}
    close_window(window)


@pytest.fixture
def win(app_window):
    """The Model step, the measured values (no hand edits), navigate mode, an empty undo stack."""
    window = app_window["window"]
    window.session.set_measurements(copy.deepcopy(app_window["measured"]))
    window.session.undo_stack.clear()
    window.state.tool = None
    window.state.measures.clear()
    window.views.set_layout("four")
    window.show_step("model")
    QApplication.processEvents()
    return window


def _show(window, view, lps):
    """Put ``view`` on the slice of ``lps`` with the crosshair well away from it; its widget position."""
    st = window.state
    c = st.lps_to_canonical(lps)
    cursor = np.round(c).astype(int) + 12
    cursor[FIXED_AXIS[view.plane]] = int(round(c[FIXED_AXIS[view.plane]]))
    st.set_cursor(cursor)
    QApplication.processEvents()
    return view.canonical_to_widget(c).toPoint()


def _drag(view, start: QPoint, end: QPoint):
    QTest.mousePress(view, LEFT, NOMOD, start)
    QTest.mouseMove(view, (start + end) / 2)
    QTest.mouseMove(view, end)
    QTest.mouseRelease(view, LEFT, NOMOD, end)
    QApplication.processEvents()


def _row_mm_per_px(view):
    """mm of one screen pixel along the coronal view's rows (z)."""
    st = view.state
    return st.size[2] * st.spacing[2] / view.image_rect().height()


def _plane(measurements):
    a = measurements["annulus"]
    return AnnulusPlane(np.array(a["centre_lps"], float), np.array(a["normal_lps"], float), 0)


def test_drag_left_ostium_recomputes_its_height_and_undo_restores_it(win, screenshot):
    session, panel = win.session, win.panel("model")
    before = copy.deepcopy(session.case.measurements)
    old_text = panel.value_text(LEFT_HEIGHT)
    right_text = panel.value_text(RIGHT_HEIGHT)
    coronal = win.views.views["coronal"]
    old_point = landmark_lps(win, "LCA")
    assert np.allclose(old_point, before["coronary_ostia"]["left"]["point_lps"])
    start = _show(win, coronal, old_point)
    up = 24  # pixels towards the head
    _drag(coronal, start + QPoint(2, 1), start + QPoint(2, 1 - up))  # grabbed 2 px off its centre

    m = session.case.measurements
    new_point = np.array(m["coronary_ostia"]["left"]["point_lps"])
    moved = new_point - old_point
    # superior is +z in LPS: the point went up by the drag's length in mm, and nowhere else
    assert moved[2] == pytest.approx(up * _row_mm_per_px(coronal), abs=0.011)
    assert np.abs(moved[:2]).max() <= 0.006
    # the height is core's for the new point on the (unchanged) annulus plane
    expected = ostium_entry(new_point, _plane(before), "edited")["height_mm"]
    assert m["coronary_ostia"]["left"]["height_mm"] == expected
    assert expected == pytest.approx(before["coronary_ostia"]["left"]["height_mm"]
                                     + float(_plane(before).normal @ moved), abs=0.011)
    assert abs(expected - before["coronary_ostia"]["left"]["height_mm"]) > 2.0  # the drag mattered
    assert panel.value_text(LEFT_HEIGHT) == f"{expected:.1f}" != old_text
    assert panel.is_edited(LEFT_HEIGHT) and panel.range_text(LEFT_HEIGHT) == "—"
    assert not panel.is_edited(RIGHT_HEIGHT) and panel.value_text(RIGHT_HEIGHT) == right_text
    assert m["coronary_ostia"]["right"] == before["coronary_ostia"]["right"]
    assert m["coronary_ostia"]["left"]["source"] == "edited"
    assert np.allclose(landmark_lps(win, "LCA"), new_point)  # the square is drawn where it was dropped
    screenshot("model_landmark_dragged", win)
    step = session.case.history[-1]
    assert step.name == "move_landmark" and step.params["landmark"] == "left_ostium"
    assert step.params["point_lps"] == new_point.tolist()

    win.actions_by_name["undo"].trigger()  # Ctrl+Z
    assert session.case.measurements == before
    assert np.array_equal(landmark_lps(win, "LCA"), old_point)
    assert panel.value_text(LEFT_HEIGHT) == old_text and not panel.is_edited(LEFT_HEIGHT)
    assert session.case.history[-1].name == "undo_move_landmark"
    win.actions_by_name["redo"].trigger()
    assert session.case.measurements["coronary_ostia"]["left"]["height_mm"] == expected


def test_drag_annulus_centre_moves_the_plane_and_every_height(win):
    session, panel = win.session, win.panel("model")
    before = copy.deepcopy(session.case.measurements)
    coronal = win.views.views["coronal"]
    centre = landmark_lps(win, "annulus")
    start = _show(win, coronal, centre)
    _drag(coronal, start, start + QPoint(0, -10))
    m = session.case.measurements
    new_centre = np.array(m["annulus"]["centre_lps"])
    assert new_centre[2] - centre[2] == pytest.approx(10 * _row_mm_per_px(coronal), abs=0.011)
    assert m["annulus"]["normal_lps"] == before["annulus"]["normal_lps"]
    assert m["annulus"]["area_mm2"] == before["annulus"]["area_mm2"]  # sizes stay as measured
    plane = AnnulusPlane(new_centre, np.array(before["annulus"]["normal_lps"]), 0)
    for side, title in (("left", LEFT_HEIGHT), ("right", RIGHT_HEIGHT)):
        point = before["coronary_ostia"][side]["point_lps"]
        assert m["coronary_ostia"][side]["point_lps"] == point
        expected = ostium_entry(point, plane, "x")["height_mm"]
        assert m["coronary_ostia"][side]["height_mm"] == expected
        assert panel.value_text(title) == f"{expected:.1f}" and panel.is_edited(title)
    drop = float(_plane(before).height(new_centre))
    assert drop > 2.0
    stj = before["root"]["sinotubular_junction_height_mm"]
    assert m["root"]["sinotubular_junction_height_mm"] == pytest.approx(stj - drop, abs=0.011)
    assert panel.is_edited(STJ_HEIGHT) and panel.range_text(STJ_HEIGHT) == "—"
    assert not panel.is_edited("Annulus area (mm²)") and panel.range_text("Annulus area (mm²)") != "—"
    session.undo_stack.undo()
    assert session.case.measurements == before


def test_dragging_works_only_on_the_model_step(win):
    session = win.session
    before = copy.deepcopy(session.case.measurements)
    coronal = win.views.views["coronal"]
    point = landmark_lps(win, "LCA")
    win.show_step("segment")
    win.state.tool = None  # navigate
    start = _show(win, coronal, point)
    end = start + QPoint(0, -20)
    _drag(coronal, start, end)
    assert session.case.measurements == before and session.undo_stack.count() == 0
    # the press moved the crosshair instead, and it followed the drag
    expected = np.clip(np.round(coronal.widget_to_canonical(end)), 0, np.array(win.state.size) - 1)
    assert np.array_equal(win.state.cursor, expected)
    assert np.array_equal(landmark_lps(win, "LCA"), point)


def test_press_away_from_landmarks_moves_the_crosshair(win):
    session = win.session
    before = copy.deepcopy(session.case.measurements)
    coronal = win.views.views["coronal"]
    start = _show(win, coronal, landmark_lps(win, "LCA"))
    away = start + QPoint(9, 0)  # beyond the 6 px grab distance of every landmark
    assert all((coronal.canonical_to_widget(win.state.lps_to_canonical(lps)) - away).manhattanLength() > 6
               for _n, lps, _c in win.state.landmarks)
    QTest.mouseClick(coronal, LEFT, NOMOD, away)
    QApplication.processEvents()
    assert session.case.measurements == before
    assert np.array_equal(win.state.cursor, np.round(coronal.widget_to_canonical(away)).astype(int))


def test_a_ruler_started_on_a_landmark_measures_instead(win):
    session = win.session
    before = copy.deepcopy(session.case.measurements)
    coronal = win.views.views["coronal"]
    start = _show(win, coronal, landmark_lps(win, "LCA"))
    win.actions_by_name["measure_ruler"].trigger()
    _drag(coronal, start, start + QPoint(30, 0))
    assert session.case.measurements == before
    assert len(win.state.measures) == 1 and win.state.measures[0].kind == "ruler"
    win.state.tool = None
