"""Device moves are undoable: one step per key press, per handle drag and per placement (real window)."""

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from gui_support import Bot, close_window, focus_window, look_at_device, place_device, window_with_true_labels
from hearttwin.core.devices import placement, plan

CTRL = Qt.KeyboardModifier.ControlModifier
LEFT = Qt.MouseButton.LeftButton


def _idle(bot, window, timeout=180000):
    bot.waitUntil(lambda: window.job is None, timeout=timeout)
    bot.wait(20)


@pytest.fixture(scope="module")
def placed(qapp, phantom, phantom_dir):
    bot = Bot()
    window = window_with_true_labels(bot, phantom, phantom_dir)
    window.views.set_layout("3d")
    panel = place_device(bot, window)
    assert panel.pose is not None
    focus_window(bot, window)  # the move and undo keys are window shortcuts
    yield {"window": window, "bot": bot, "panel": panel, "view": window.views.view3d}
    close_window(window)


def _depth(panel):
    ctx = panel.ctx
    return placement.depth(panel.pose, ctx.family, ctx.size, ctx.anchor)


def _snapshot(window, panel):
    """What the user sees of the device: pose, depth, metrics, table, slice outline, case pose, surface."""
    poly = window.session.device_poly
    return {"pose": panel.pose.copy(), "depth": _depth(panel), "metrics": dict(panel.metrics),
            "table": dict(panel.table.values), "position": panel.position.text(),
            "outline": window.state.device[0].copy(),
            "case_pose": np.array(window.session.case.devices[-1]["pose_lps"]),
            "surface_points": poly.GetNumberOfPoints(), "distances": panel.surface_distances.copy()}


def _assert_shows(window, panel, snap):
    assert np.array_equal(panel.pose, snap["pose"])  # exactly the stored matrix
    assert _depth(panel) == snap["depth"]
    assert panel.metrics == snap["metrics"]
    assert panel.table.values == snap["table"]
    assert panel.position.text() == snap["position"]
    assert np.array_equal(window.state.device[0], snap["outline"])
    assert np.array_equal(np.array(window.session.case.devices[-1]["pose_lps"]), snap["case_pose"])
    assert np.array_equal(panel.surface_distances, snap["distances"])
    expected, _ = plan.fit_metrics(panel.ctx, pose=panel.pose)  # the live fit path ran for this pose
    assert panel.metrics == expected
    assert panel.verdicts == plan.verdicts(panel.ctx.family, expected)


def _press_shortcut(widget, name):
    """Press the Edit menu action's shortcut (Undo: Ctrl+Z; Redo: the platform's first redo key)."""
    window = widget.window()
    QTest.keySequence(widget, window.actions_by_name[name].shortcut())


def _undo(widget):
    QTest.keyClick(widget, Qt.Key.Key_Z, CTRL)


def _redo(widget):
    """Ctrl+Shift+Z: one of the redo keys (Ctrl+Y is the other on Linux)."""
    QTest.keyClick(widget, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)


def test_each_key_press_is_one_undo_step(placed):
    window, panel = placed["window"], placed["panel"]
    window.show_step("device")
    widget = window.views.views["axial"]
    widget.setFocus()
    QApplication.processEvents()
    stack, history = window.session.undo_stack, window.session.case.history
    start = _snapshot(window, panel)
    count = stack.count()
    QTest.keyClick(widget, Qt.Key.Key_PageDown)
    one = _snapshot(window, panel)
    QTest.keyClick(widget, Qt.Key.Key_PageDown)
    two = _snapshot(window, panel)
    assert stack.count() == count + 2  # not merged: one step per press
    assert one["depth"] == pytest.approx(start["depth"] + 1.0, abs=0.011)
    assert two["depth"] == pytest.approx(start["depth"] + 2.0, abs=0.011)
    assert one["metrics"] != two["metrics"]
    assert window.actions_by_name["undo"].text().endswith("Deeper (1 mm)")

    steps = len(history)
    _undo(widget)
    _assert_shows(window, panel, one)
    assert history[-1].name == "undo_move_device" and len(history) == steps + 1
    _undo(widget)
    _assert_shows(window, panel, start)
    _redo(widget)
    _assert_shows(window, panel, one)
    assert history[-1].name == "move_device"
    _redo(widget)
    _assert_shows(window, panel, two)
    QTest.keyClick(widget, Qt.Key.Key_PageUp)  # keys carry on from the redone pose
    assert _depth(panel) == pytest.approx(one["depth"], abs=0.011)


def test_a_handle_drag_is_one_undo_step(placed):
    window, panel, view = placed["window"], placed["panel"], placed["view"]
    window.show_step("device")
    look_at_device(window, panel, view)
    stack = window.session.undo_stack
    before, count = _snapshot(window, panel), stack.count()
    c0 = view.project(panel.handle.centre()[None])[0][0]
    x, y = int(c0[0]) + 20, int(c0[1]) + 10
    QTest.mousePress(view, LEFT, CTRL, QPoint(x, y))
    for k in range(1, 7):
        QTest.mouseMove(view, QPoint(x + 6 * k, y - 4 * k))
    QTest.mouseRelease(view, LEFT, CTRL, QPoint(x + 36, y - 24))
    dragged = _snapshot(window, panel)
    assert stack.count() == count + 1  # six mouse moves, one step
    assert not np.allclose(dragged["pose"], before["pose"])
    _undo(view)
    _assert_shows(window, panel, before)
    assert window.session.case.history[-1].name == "undo_move_device"
    _redo(view)
    _assert_shows(window, panel, dragged)
    for label in window.session.surfaces:
        window.state.set_label_visible(label, True)
    view.reset_camera()


def test_undoing_a_placement_removes_the_device_or_restores_the_one_before(placed):
    window, panel, bot = placed["window"], placed["panel"], placed["bot"]
    window.show_step("device")
    session, stack = window.session, window.session.undo_stack
    assert stack.command(0).text().startswith("Place ")  # the first placement is the oldest step
    first_ctx = panel.ctx
    stack.setIndex(1)
    placed_first = _snapshot(window, panel)
    assert np.array_equal(placed_first["pose"], first_ctx.pose)  # as automatically placed

    stack.undo()  # before the first placement: no device anywhere
    assert panel.pose is None and panel.ctx is None and panel.metrics == {}
    assert session.case.devices == [] and session.device_poly is None and window.state.device is None
    assert session.case.history[-1].name == "undo_place_device"
    assert not panel.apply_key(Qt.Key.Key_PageDown)  # nothing to move
    assert not panel.handle.shown
    stack.redo()
    _assert_shows(window, panel, placed_first)
    assert panel.ctx is first_ctx and session.case.history[-1].name == "place_device"

    assert panel.apply_key(Qt.Key.Key_PageDown)  # move it, then place again: undo returns to the moved pose
    moved = _snapshot(window, panel)
    panel.place()
    _idle(bot, window)
    assert panel.ctx is not first_ctx
    assert np.array_equal(panel.pose, panel.ctx.pose)
    assert stack.undoText().startswith("Place ")
    stack.undo()
    assert panel.ctx is first_ctx
    _assert_shows(window, panel, moved)
    assert session.case.history[-1].name == "undo_place_device" and len(session.case.devices) == 1
    stack.redo()
    assert np.array_equal(panel.pose, panel.ctx.pose) and panel.ctx is not first_ctx
