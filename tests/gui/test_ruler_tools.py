"""Ruler and angle measurements driven with the mouse in the real window.

Expected values are computed here from the canonical points and the spacing
the test chose (or the loaded series'), never through the code under test.
Mouse positions are whole pixels, so a value may be off by the distance of
two rounded pixels (``_pixel_tolerance``); the sub-pixel test sends exact
positions.
"""

import numpy as np
import pytest
import shiboken6
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QMouseEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from gui_support import Bot, focus_window, grab_rgb, make_window, open_and_load
from hearttwin.core.imaging import Volume
from hearttwin.gui import ruler_tools
from hearttwin.gui.display import FIXED_AXIS

LEFT, NOMOD = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
#: the anisotropic test image: stored (x, y, z) spacing, stored as RAS (x and y flipped against LPS)
ANISO_SPACING = (0.6, 0.9, 2.5)
ANISO_DIRECTION = np.diag([-1.0, -1.0, 1.0])


@pytest.fixture(scope="module")
def app_window(qapp, phantom_dir):
    bot = Bot()
    window = make_window(bot)
    open_and_load(bot, window, phantom_dir)
    ruler_tools.install(window)
    focus_window(bot, window)
    yield {"window": window, "bot": bot, "phantom_volume": window.session.volume}
    window.close()
    shiboken6.delete(window)


@pytest.fixture
def win(app_window):
    """Before each test: the phantom series, no measures, navigate tool, four views."""
    window = app_window["window"]
    if window.session.volume is not app_window["phantom_volume"]:
        window.session.set_case(None)
        window.session.set_image(app_window["phantom_volume"])
    window.state.measures.clear()
    window.state.select_measure(None)
    window.session.undo_stack.clear()
    window.actions_by_name["tool_navigate"].trigger()
    window.views.set_layout("four")
    QApplication.processEvents()
    return window


def _anisotropic(window, layout):
    rng = np.random.default_rng(1)
    array = rng.integers(-100, 300, size=(30, 50, 60)).astype(np.int16)  # (z, y, x)
    volume = Volume(array, ANISO_SPACING, (10.0, -20.0, 35.0), ANISO_DIRECTION)
    window.session.set_image(volume)
    window.views.set_layout(layout)
    QApplication.processEvents()
    return window.views.views[layout]


def _pixel_tolerance(view):
    """mm between two whole-pixel roundings of both end points (0.71 px each)."""
    state = view.state
    cols = state.size[0] if view.plane in ("axial", "coronal") else state.size[1]
    col_mm = {"axial": 0, "coronal": 0, "sagittal": 1}[view.plane]
    px_per_mm = view.image_rect().width() / (cols * state.spacing[col_mm])
    return 2 * 0.5 * np.sqrt(2) / px_per_mm + 1e-6


def _mm(a, b, spacing_xyz):
    return float(np.linalg.norm((np.asarray(b, float) - np.asarray(a, float)) * np.asarray(spacing_xyz)))


def _drag(view, a, b):
    pa, pb = view.canonical_to_widget(a).toPoint(), view.canonical_to_widget(b).toPoint()
    QTest.mousePress(view, LEFT, NOMOD, pa)
    QTest.mouseMove(view, (pa + pb) / 2)
    QTest.mouseMove(view, pb)
    QTest.mouseRelease(view, LEFT, NOMOD, pb)
    QApplication.processEvents()


def _click(view, c):
    QTest.mouseClick(view, LEFT, NOMOD, view.canonical_to_widget(c).toPoint())
    QApplication.processEvents()


def _on_slice(view, *inplane):
    """Canonical points on ``view``'s current slice from in-plane offsets from the crosshair."""
    axis = FIXED_AXIS[view.plane]
    free = [a for a in range(3) if a != axis]
    out = []
    for d in inplane:
        c = np.array(view.state.cursor, float)
        c[free[0]] += d[0]
        c[free[1]] += d[1]
        out.append(c)
    return out


def test_ruler_drag_gives_the_length_in_mm(win):
    axial = win.views.views["axial"]
    spacing = win.session.volume.spacing  # the phantom series is stored axis-aligned
    a, b = _on_slice(axial, (-20, -12), (15, 9))
    win.actions_by_name["measure_ruler"].trigger()
    assert isinstance(win.state.tool, ruler_tools.RulerTool)
    _drag(axial, a, b)
    assert len(win.state.measures) == 1
    m = win.state.measures[0]
    assert m.kind == "ruler" and m.plane == "axial" and m.slice_index == win.state.cursor[2]
    assert m.value == pytest.approx(_mm(a, b, spacing), abs=_pixel_tolerance(axial))
    assert m.points_lps.shape == (2, 3)
    assert np.linalg.norm(m.points_lps[1] - m.points_lps[0]) == pytest.approx(m.value)
    assert m.label == f"{m.value:.1f} mm"
    assert win.session.undo_stack.count() == 1
    win.session.undo_stack.undo()
    assert win.state.measures == []
    win.session.undo_stack.redo()
    assert win.state.measures == [m]


@pytest.mark.parametrize("plane", ["coronal", "sagittal"])
def test_ruler_uses_anisotropic_spacing_and_direction(win, plane):
    view = _anisotropic(win, plane)
    # RAS storage flips x and y only: canonical spacing is the stored spacing
    assert tuple(win.state.size) == (60, 50, 30)
    a, b = _on_slice(view, (-14, -6), (10, 7))
    win.actions_by_name["measure_ruler"].trigger()
    _drag(view, a, b)
    value = win.state.measures[-1].value
    expected = _mm(a, b, ANISO_SPACING)
    assert value == pytest.approx(expected, abs=_pixel_tolerance(view))
    # with the spacing ignored (or x/z swapped) the answer would be far off
    assert abs(value - _mm(a, b, (1, 1, 1))) > 5 * _pixel_tolerance(view)
    assert abs(value - _mm(a, b, ANISO_SPACING[::-1])) > 5 * _pixel_tolerance(view)


def test_sub_pixel_positions_are_kept(win):
    view = _anisotropic(win, "coronal")
    a, b = _on_slice(view, (-10.3, -4.6), (12.45, 3.2))
    win.actions_by_name["measure_ruler"].trigger()
    pa, pb = view.canonical_to_widget(a), view.canonical_to_widget(b)
    for kind, pos in ((QMouseEvent.Type.MouseButtonPress, pa), (QMouseEvent.Type.MouseMove, pb),
                      (QMouseEvent.Type.MouseButtonRelease, pb)):
        QApplication.sendEvent(view, QMouseEvent(kind, pos, view.mapToGlobal(pos), LEFT, LEFT, NOMOD))
    assert win.state.measures[-1].value == pytest.approx(_mm(a, b, ANISO_SPACING), abs=1e-6)


def test_ruler_by_two_clicks(win):
    axial = win.views.views["axial"]
    a, b = _on_slice(axial, (-8, 0), (8, 0))
    win.actions_by_name["measure_ruler"].trigger()
    _click(axial, a)
    assert win.state.measures == [] and win.state.tool.pending
    _click(axial, b)
    assert win.state.measures[0].value == pytest.approx(_mm(a, b, win.session.volume.spacing),
                                                        abs=_pixel_tolerance(axial))


def test_right_angle_by_three_clicks(win):
    view = _anisotropic(win, "axial")
    p1, vertex, p3 = _on_slice(view, (18, 0), (0, 0), (0, -14))
    win.actions_by_name["measure_angle"].trigger()
    assert isinstance(win.state.tool, ruler_tools.AngleTool)
    for c in (p1, vertex, p3):
        _click(view, c)
    m = win.state.measures[-1]
    assert m.kind == "angle" and m.label.endswith("°")
    # one pixel of rounding at 18*0.6 mm tilts an arm by well under a degree here
    assert m.value == pytest.approx(90.0, abs=1.0)


def test_angle_click_drag_click_in_anisotropic_coronal(win):
    view = _anisotropic(win, "coronal")
    p1, vertex, p3 = _on_slice(view, (16, 0), (0, 0), (16, 6))  # (x, z) offsets: z is 2.5 mm
    win.actions_by_name["measure_angle"].trigger()
    _drag(view, p1, vertex)
    assert win.state.measures == [] and len(win.state.tool.points) == 2
    _click(view, p3)
    sx, sz = ANISO_SPACING[0], ANISO_SPACING[2]
    expected = np.degrees(np.arctan2(6 * sz, 16 * sx))  # 57.4°; 20.6° if the spacing were ignored
    assert win.state.measures[-1].value == pytest.approx(expected, abs=1.5)


def _pixel(view, c):
    q = view.canonical_to_widget(c).toPoint()
    return grab_rgb(view)[q.y(), q.x()].astype(int)


def test_measure_is_drawn_on_its_slice_only(win):
    axial = win.views.views["axial"]
    a, b = _on_slice(axial, (-20, 10), (26, 10))
    mid = (a + b) / 2
    before = _pixel(axial, mid)
    win.actions_by_name["measure_ruler"].trigger()
    _drag(axial, a, b)
    drawn = _pixel(axial, mid)
    colour = ruler_tools.MEASURE_COLOUR
    assert np.abs(drawn - (colour.red(), colour.green(), colour.blue())).max() <= 40
    assert np.abs(drawn - before).max() > 60
    win.state.step_slice("axial", 1)  # another slice: not drawn
    QApplication.processEvents()
    other = win.state.cursor.copy()
    assert np.array_equal(_pixel(axial, (mid[0], mid[1], other[2])),
                          _pixel_without_measures(win, axial, (mid[0], mid[1], other[2])))
    win.state.step_slice("axial", -1)
    QApplication.processEvents()
    assert np.array_equal(_pixel(axial, mid), drawn)


def _pixel_without_measures(win, view, c):
    saved = list(win.state.measures)
    win.state.measures.clear()
    try:
        return _pixel(view, c)
    finally:
        win.state.measures.extend(saved)


def test_half_drawn_measure_is_previewed_and_escape_cancels(win):
    axial = win.views.views["axial"]
    p1, vertex = _on_slice(axial, (-15, 12), (21, 12))
    mid = (p1 + vertex) / 2
    before = _pixel(axial, mid)
    win.actions_by_name["measure_angle"].trigger()
    _click(axial, p1)
    _click(axial, vertex)
    assert np.abs(_pixel(axial, mid) - before).max() > 60  # the first arm is shown
    QTest.keyClick(axial, Qt.Key.Key_Escape)
    QApplication.processEvents()
    assert win.state.tool is None and win.state.measures == []
    assert np.array_equal(_pixel(axial, mid), before)


def test_click_selects_delete_removes_and_undo_restores(win):
    axial = win.views.views["axial"]
    a, b = _on_slice(axial, (-20, -10), (20, -10))
    c, d = _on_slice(axial, (-20, 14), (20, 14))
    win.actions_by_name["measure_ruler"].trigger()
    _drag(axial, a, b)
    _drag(axial, c, d)
    first, second = win.state.measures
    delete = win.actions_by_name["measure_delete"]
    assert not delete.isEnabled()  # nothing selected: Delete stays with the other widgets
    _click(axial, (c + d) / 2)  # a click on a measure selects it, no new ruler
    assert win.state.selected_measure is second and len(win.state.measures) == 2
    assert delete.isEnabled()
    axial.setFocus()
    QTest.keyClick(axial, Qt.Key.Key_Delete)
    QApplication.processEvents()
    assert win.state.measures == [first] and win.state.selected_measure is None
    win.session.undo_stack.undo()
    assert win.state.measures == [first, second]
    win.actions_by_name["measure_clear"].trigger()
    assert win.state.measures == []
    win.session.undo_stack.undo()
    assert win.state.measures == [first, second]
    # in navigate mode a click selects too (and still moves the crosshair)
    win.actions_by_name["tool_navigate"].trigger()
    _click(axial, (a + b) / 2)
    assert win.state.selected_measure is first
    _click(axial, _on_slice(axial, (0, 12))[0])  # between the two rulers
    assert win.state.selected_measure is None


def test_new_image_drops_the_measures(win):
    axial = win.views.views["axial"]
    win.actions_by_name["measure_ruler"].trigger()
    _drag(axial, *_on_slice(axial, (-5, -5), (5, 5)))
    assert len(win.state.measures) == 1
    _anisotropic(win, "axial")
    assert win.state.measures == []


def test_install_is_idempotent_and_shortcuts_are_free(win):
    menu = ruler_tools.install(win)
    assert ruler_tools.install(win) is menu
    view_menu = next(a.menu() for a in win.menuBar().actions() if a.text() == "&View")
    assert [a.text() for a in view_menu.actions()].count("&Measure") == 1
    keys = [a.shortcut().toString() for a in win.findChildren(QAction) if not a.shortcut().isEmpty()]
    assert not {k for k in keys if keys.count(k) > 1}
    assert {"M", "A", "Del"} <= set(keys)


def test_values_of_the_pure_functions():
    assert ruler_tools.ruler_length_mm([(0, 0, 0), (3, 4, 12)]) == pytest.approx(13.0)
    assert ruler_tools.angle_deg([(1, 0, 0), (0, 0, 0), (1, 1, 0)]) == pytest.approx(45.0)
    assert np.isnan(ruler_tools.angle_deg([(0, 0, 0), (0, 0, 0), (1, 1, 0)]))
