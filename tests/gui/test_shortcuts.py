"""Device move keys are window shortcuts: they work on the Device step whatever has the focus,
and nowhere else (where the same keys scroll the slices)."""

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from gui_support import Bot, close_window, focus_window, place_device, window_with_true_labels
from hearttwin.core.devices import placement


@pytest.fixture(scope="module")
def placed(qapp, phantom, phantom_dir):
    bot = Bot()
    window = window_with_true_labels(bot, phantom, phantom_dir)
    panel = place_device(bot, window)
    focus_window(bot, window)
    yield {"window": window, "bot": bot, "panel": panel}
    close_window(window)


def _depth(panel):
    ctx = panel.ctx
    return placement.depth(panel.pose, ctx.family, ctx.size, ctx.anchor)


@pytest.mark.parametrize("target", ["axial", "3d", "deviceFamily"])
def test_device_keys_work_whatever_has_the_focus(placed, target):
    window, panel = placed["window"], placed["panel"]
    window.show_step("device")
    widget = window.views.views[target] if target in window.views.views else panel.family_combo
    widget.setFocus()
    QApplication.processEvents()
    depth, pose = _depth(panel), panel.pose.copy()
    QTest.keyClick(widget, Qt.Key.Key_PageDown)
    assert _depth(panel) == pytest.approx(depth + 1.0, abs=0.011)
    assert np.allclose(window.session.case.devices[-1]["pose_lps"], panel.pose)
    QTest.keyClick(widget, Qt.Key.Key_BracketRight)  # tilt 1 degree
    turn = np.degrees(np.arccos(np.clip(panel.pose[:3, 2] @ pose[:3, 2], -1, 1)))
    assert turn == pytest.approx(1.0, abs=1e-6)
    QTest.keyClick(widget, Qt.Key.Key_BracketLeft)
    QTest.keyClick(widget, Qt.Key.Key_PageUp)
    assert np.allclose(panel.pose, pose, atol=1e-9)
    before = panel.pose.copy()
    QTest.keyClick(widget, Qt.Key.Key_Right)  # 0.5 mm along the device's x axis
    assert np.allclose(panel.pose[:3, 3] - before[:3, 3], 0.5 * before[:3, 0], atol=1e-9)
    QTest.keyClick(widget, Qt.Key.Key_Left)
    assert np.allclose(panel.pose, before, atol=1e-9)
    assert widget.hasFocus() or target == "deviceFamily"


def test_keys_are_the_slices_on_other_steps(placed):
    window, panel = placed["window"], placed["panel"]
    window.show_step("model")
    assert not window.actions_by_name["device_depth_plus"].isEnabled()
    axial = window.views.views["axial"]
    axial.setFocus()
    QApplication.processEvents()
    pose, z = panel.pose.copy(), window.state.cursor[2]
    QTest.keyClick(axial, Qt.Key.Key_PageDown)  # ten slices down, the device stays
    assert np.array_equal(panel.pose, pose)
    assert window.state.cursor[2] == max(0, z - 10)
    window.show_step("device")
    assert window.actions_by_name["device_depth_plus"].isEnabled()
    assert window.actions_by_name["device_depth_plus"].shortcut().toString() == "PgDown"
