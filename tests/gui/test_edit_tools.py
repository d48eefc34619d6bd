"""The Segment step's editing tools driven through the real window: threshold, islands, smooth, holes, margin.

One window per module on the small phantom, with the phantom's true labels
as the segmentation (no automatic run: these tests are about editing). Every
tool is applied through its Apply button (or shortcut action, or a click),
runs in a worker, and must (a) change exactly what the core operation changes
on a copy, (b) undo to the bit-identical array and (c) redo it again, with the
structure table following.
"""

import subprocess
import sys

import numpy as np
import pytest
import shiboken6
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from gui_support import Bot, grab_rgb, make_window, open_and_load, wait_idle
from hearttwin.core.imaging import Volume
from hearttwin.core.segmentation import editing as ed
from hearttwin.gui.edit_ops import ThresholdPreview
from hearttwin.gui.edit_tools import label_counts


@pytest.fixture(scope="module")
def case(qapp, phantom, phantom_dir):
    bot = Bot()
    window = make_window(bot)
    open_and_load(bot, window, phantom_dir)
    vol = window.session.volume
    assert vol.array.shape == phantom.labels.array.shape
    window.session.set_labels(Volume(phantom.labels.array.copy(), vol.spacing, vol.origin, vol.direction),
                              step="truth")
    window.show_step("segment")
    QApplication.processEvents()
    yield {"window": window, "bot": bot, "phantom": phantom}
    window.close()
    shiboken6.delete(window)


@pytest.fixture
def ctx(case):
    """Before each test: the true labels, an empty undo stack, the Navigate tool."""
    window = case["window"]
    session = window.session
    session.labels.array[:] = case["phantom"].labels.array
    session.labels_edited()
    session.undo_stack.clear()
    window.panel("segment").set_tool("navigate")
    QApplication.processEvents()
    return case


def _core_result(session, fn, *args, **kwargs):
    """What the core operation gives on a copy of the current labels (the oracle)."""
    lab = session.labels
    copy = Volume(lab.array.copy(), lab.spacing, lab.origin, lab.direction)
    fn(copy, *args, **kwargs)
    return copy.array


def _apply_and_check(case, key, expected, setup=None):
    """Press ``key``'s Apply, wait, compare with ``expected``; then undo/redo exactly."""
    window, bot = case["window"], case["bot"]
    session, tools = window.session, window.panel("segment").edit_tools
    before = session.labels.array.copy()
    counts = label_counts(session)
    tools.show_tool(key)
    tools.apply_buttons[key].click()
    assert window.job is not None  # it runs in a worker
    wait_idle(bot, window)
    after = session.labels.array.copy()
    np.testing.assert_array_equal(after, expected)
    assert not np.array_equal(after, before), "the tool changed nothing"
    assert session.undo_stack.count() == 1
    _check_table(window)  # may recount once: the test planted voxels behind the tools' back
    full = counts.full_counts
    session.undo_stack.undo()
    np.testing.assert_array_equal(session.labels.array, before)
    _check_table(window)
    session.undo_stack.redo()
    np.testing.assert_array_equal(session.labels.array, after)
    _check_table(window)
    assert counts.full_counts == full  # the table followed the edits without recounting the map
    return before, after


def _check_table(window):
    """The structure table shows each structure's true volume (after its debounce timer)."""
    session, table = window.session, window.panel("segment").table
    table_timer = window.panel("segment")._volumes_timer
    Bot().waitUntil(lambda: not table_timer.isActive(), 2000)
    voxel_ml = session.labels.voxel_volume_mm3 / 1000
    for s in session.structures():
        expected = np.count_nonzero(session.labels.array == s.label) * voxel_ml
        text = table.volume_text(s.label)
        assert (text == "-" and expected == 0) or float(text) == pytest.approx(expected, abs=0.05)


def _background_cube(session, size=3, away=4):
    """A size^3 block of background at least ``away`` voxels from any label (z, y, x slices)."""
    from scipy import ndimage

    free = ~ndimage.binary_dilation(session.labels.array > 0, iterations=away + size)
    free[:size + 2], free[-size - 2:], free[:, :size + 2], free[:, -size - 2:] = False, False, False, False
    z, y, x = np.argwhere(free)[len(np.argwhere(free)) // 3]
    return np.s_[z:z + size, y:y + size, x:x + size]


def test_remove_small_islands_removes_a_planted_island(ctx):
    window = ctx["window"]
    session, tools = window.session, window.panel("segment").edit_tools
    island = _background_cube(session)
    session.labels.array[island] = 6
    session.labels_edited()
    tools.combos["islands"].setCurrentIndex(tools.combos["islands"].findData(6))
    tools.island_mode.setCurrentIndex(1)
    tools.min_ml.setValue(0.5)  # 27 voxels of ~4.7 mm3: 0.13 mL
    expected = ctx["phantom"].labels.array.copy()
    assert np.array_equal(_core_result(session, ed.remove_small_islands, 0.5, 6), expected)
    _apply_and_check(ctx, "islands", expected)
    assert window.session.case.history[-1].name == "remove_small_islands"


def test_keep_largest_island_shortcut_action(ctx):
    window = ctx["window"]
    session, tools = window.session, window.panel("segment").edit_tools
    island = _background_cube(session)
    session.labels.array[island] = 2
    session.labels_edited()
    tools.combos["islands"].setCurrentIndex(0)  # all structures
    act = tools.actions_by_name["keep_largest"]
    assert act.shortcut().toString() == "Ctrl+Shift+K"
    act.trigger()
    wait_idle(ctx["bot"], window)
    np.testing.assert_array_equal(session.labels.array, ctx["phantom"].labels.array)
    session.undo_stack.undo()
    assert (session.labels.array[island] == 2).all()


def test_island_tool_removes_the_clicked_island(ctx):
    window, bot = ctx["window"], ctx["bot"]
    session, st = window.session, window.state
    island = _background_cube(session, size=4)
    session.labels.array[island] = 3
    session.labels_edited()
    before = session.labels.array.copy()
    z, y, x = (s.start + 1 for s in island)
    c = st.orientation.to_canonical_index((x, y, z), st.size)
    st.set_cursor((c[0] + 5, c[1] + 5, c[2]))  # the island's slice, the crosshair off it
    window.panel("segment").set_tool("island")
    axial = window.views.views["axial"]
    QApplication.processEvents()
    QTest.mouseClick(axial, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                     axial.canonical_to_widget(c).toPoint())
    wait_idle(bot, window)
    np.testing.assert_array_equal(session.labels.array, ctx["phantom"].labels.array)
    assert session.undo_stack.count() == 1
    session.undo_stack.undo()
    np.testing.assert_array_equal(session.labels.array, before)
    # a click on background changes nothing and pushes no command
    st.set_cursor((2, 2, c[2]))
    QTest.mouseClick(axial, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                     axial.canonical_to_widget((2, 2, c[2])).toPoint())
    wait_idle(bot, window)
    assert session.undo_stack.count() == 1 and session.undo_stack.index() == 0


def test_threshold_restrict_keeps_only_voxels_in_range_with_live_preview(ctx):
    window = ctx["window"]
    session, tools, st = window.session, window.panel("segment").edit_tools, window.state
    tools.show_tool("threshold")
    tools.combos["threshold"].setCurrentIndex(tools.combos["threshold"].findData(1))  # LV
    tools.threshold_mode.setCurrentIndex(tools.threshold_mode.findData("restrict"))
    tools.lo.setValue(400)  # the LV blood pool is ~372-425 HU: about half goes
    tools.hi.setValue(3000)
    hu, lv = session.volume.array, session.labels.array == 1
    expected = session.labels.array.copy()
    expected[lv & (hu < 400)] = 0
    assert 0.2 < np.count_nonzero(lv & (hu < 400)) / lv.sum() < 0.8
    # the preview shows the result on the slices before anything changes
    lvc = np.argwhere(st.label_image == 1).mean(axis=0).round().astype(int)
    st.set_cursor((lvc[2] + 6, lvc[1] + 6, lvc[0]))
    axial = window.views.views["axial"]
    plain = grab_rgb(axial)
    tools.preview_check.setChecked(True)
    QApplication.processEvents()
    assert isinstance(st.label_image, ThresholdPreview)
    exp_canon = st.orientation.view(expected)
    np.testing.assert_array_equal(st.label_image[lvc[0]], exp_canon[lvc[0]])
    previewed = grab_rgb(axial)
    assert not np.array_equal(previewed, plain)  # the slice shows it
    np.testing.assert_array_equal(session.labels.array == 1, lv)  # nothing applied yet
    _apply_and_check(ctx, "threshold", expected)
    assert isinstance(st.label_image, ThresholdPreview)  # still previewing after the edits
    tools.actions_by_name["preview"].trigger()  # T: preview off
    assert not tools.preview_check.isChecked() and st.label_image is not None
    np.testing.assert_array_equal(st.label_image, st.orientation.view(session.labels.array))
    np.testing.assert_array_equal(grab_rgb(axial), previewed)  # the preview showed exactly the result


def test_threshold_paint_takes_background_in_range_only(ctx):
    window = ctx["window"]
    session, tools = window.session, window.panel("segment").edit_tools
    tools.show_tool("threshold")
    tools.combos["threshold"].setCurrentIndex(tools.combos["threshold"].findData(7))
    tools.threshold_mode.setCurrentIndex(tools.threshold_mode.findData("paint"))
    tools.lo.setValue(250)
    tools.hi.setValue(310)
    tools.overwrite.setChecked(False)
    hu, lab = session.volume.array, session.labels.array
    expected = lab.copy()
    expected[(lab == 0) & (hu >= 250) & (hu <= 310)] = 7
    _apply_and_check(ctx, "threshold", expected)


def test_smooth_matches_core_and_removes_a_spike(ctx):
    window = ctx["window"]
    session, tools = window.session, window.panel("segment").edit_tools
    tools.combos["smooth"].setCurrentIndex(tools.combos["smooth"].findData(6))
    tools.smooth_method.setCurrentIndex(tools.smooth_method.findData("gaussian"))
    tools.smooth_size.setValue(1.5)
    expected = _core_result(session, ed.smooth, 6, 1.5, method="gaussian")
    before, after = _apply_and_check(ctx, "smooth", expected)
    assert np.count_nonzero(after == 6) == pytest.approx(np.count_nonzero(before == 6), rel=0.1)
    assert np.array_equal(after[(before != 6) & (after != 6)], before[(before != 6) & (after != 6)])


def test_smoothing_methods_offered_are_the_cores():
    from hearttwin.gui.panels.segment_tools import SMOOTHING

    assert tuple(name for name, _ in SMOOTHING) == ed.SMOOTHING_METHODS


def test_fill_holes_fills_a_planted_hole(ctx):
    window = ctx["window"]
    session, tools = window.session, window.panel("segment").edit_tools
    lv = session.labels.array == 1
    from scipy import ndimage

    k, j, i = np.argwhere(ndimage.binary_erosion(lv, iterations=3))[lv.sum() // 40]
    session.labels.array[k - 1:k + 2, j - 1:j + 2, i - 1:i + 2] = 0
    session.labels_edited()
    tools.combos["holes"].setCurrentIndex(tools.combos["holes"].findData(1))
    tools.slice_wise.setChecked(False)
    _apply_and_check(ctx, "holes", ctx["phantom"].labels.array)


def test_margin_grows_and_shrinks_by_mm(ctx):
    window = ctx["window"]
    session, tools = window.session, window.panel("segment").edit_tools
    tools.combos["margin"].setCurrentIndex(tools.combos["margin"].findData(6))
    tools.margin.setValue(2.0)  # voxels are ~1.7 mm: 1 mm reaches no voxel centre
    tools.margin_overwrite.setChecked(False)
    expected = _core_result(session, ed.grow, 6, 2.0)
    before, after = _apply_and_check(ctx, "margin", expected)
    grown = (after == 6) & (before != 6)
    assert grown.sum() > 0.05 * (before == 6).sum() and (before[grown] == 0).all()
    session.undo_stack.clear()
    tools.margin.setValue(-2.0)
    expected = _core_result(session, ed.shrink, 6, 2.0)
    _, shrunk = _apply_and_check(ctx, "margin", expected)
    assert (shrunk == 6).sum() < (after == 6).sum()


def test_result_is_dropped_when_labels_change_meanwhile(ctx):
    window = ctx["window"]
    session, tools = window.session, window.panel("segment").edit_tools
    tools.combos["margin"].setCurrentIndex(tools.combos["margin"].findData(6))
    tools.margin.setValue(2.0)
    before = session.labels.array.copy()
    assert tools.apply("margin") is not None
    session.labels_edited()  # e.g. a brush dab while the worker runs
    wait_idle(ctx["bot"], window)
    np.testing.assert_array_equal(session.labels.array, before)
    assert session.undo_stack.count() == 0
    assert "apply it again" in window.statusBar().currentMessage()


def test_segment_panel_does_not_import_the_pipelines():
    code = ("import sys; import hearttwin.gui.panels.segment_panel; "
            "bad = [m for m in ('hearttwin.core.segmentation.auto', 'hearttwin.core.segmentation.seeded', "
            "'hearttwin.core.segmentation.editing', 'SimpleITK') if m in sys.modules]; print(bad)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                         env={"QT_QPA_PLATFORM": "offscreen", "PATH": ""})
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_shortcuts_are_unambiguous_and_controls_have_tooltips(case):
    from PySide6.QtGui import QAction
    from PySide6.QtWidgets import QAbstractButton, QAbstractSpinBox, QComboBox, QTabBar

    window = case["window"]
    tools = window.panel("segment").edit_tools
    keys = [a.shortcut().toString() for a in window.findChildren(QAction) if not a.shortcut().isEmpty()]
    dupes = {k for k in keys if keys.count(k) > 1}
    assert not dupes, f"shortcuts bound twice (neither would fire): {dupes}"
    for name in ("apply", "preview", "keep_largest", "fill_holes", "smooth"):
        assert tools.actions_by_name[name].shortcut().toString() in keys
    assert "I" in keys  # the Island tool
    for widget in tools.findChildren(QAbstractButton) + tools.findChildren(QAbstractSpinBox) + \
            tools.findChildren(QComboBox):
        if not isinstance(widget.parent(), QTabBar):  # not the tab bar's own scroll arrows
            assert widget.toolTip(), f"{type(widget).__name__} {widget.objectName() or widget.text()!r} has no tooltip"


def test_preview_stops_when_leaving_the_segment_step(case):
    window = case["window"]
    tools = window.panel("segment").edit_tools
    tools.show_tool("threshold")
    tools.preview_check.setChecked(True)
    QApplication.processEvents()
    assert isinstance(window.state.label_image, ThresholdPreview)
    window.show_step("data")
    QApplication.processEvents()
    assert isinstance(window.state.label_image, np.ndarray)
    window.show_step("segment")
    QApplication.processEvents()
    assert isinstance(window.state.label_image, ThresholdPreview)  # back on while it is ticked
    tools.preview_check.setChecked(False)
    assert isinstance(window.state.label_image, np.ndarray)
