"""Moving the placed device with its handle in the 3D view, and its fit colour map (real frames)."""

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest

from gui_support import (Bot, close_window, focus_window, grab_rgb, look_at_device, place_device,
                         window_with_true_labels)
from hearttwin.core.devices import plan
from hearttwin.gui.device_handle import FIT_ARRAY, FIT_COLOUR_MAP, HANDLE_COLOUR
from hearttwin.gui.main_window import DEVICE_KEY
from vtkmodules.util.numpy_support import vtk_to_numpy

CTRL = Qt.KeyboardModifier.ControlModifier
SHIFT = Qt.KeyboardModifier.ShiftModifier
LEFT = Qt.MouseButton.LeftButton


def _frame(bot, view):
    bot.wait(30)
    bot.waitUntil(lambda: view.frame_current, timeout=60000)
    return view.last_rgb.astype(int)


@pytest.fixture(scope="module")
def placed(qapp, phantom, phantom_dir):
    bot = Bot()
    window = window_with_true_labels(bot, phantom, phantom_dir)
    window.views.set_layout("3d")
    panel = place_device(bot, window)  # placing, then the heart surfaces
    assert window.session.surfaces and panel.pose is not None
    focus_window(bot, window)  # the move keys are window shortcuts
    yield {"window": window, "bot": bot, "panel": panel, "view": window.views.view3d}
    close_window(window)


@pytest.fixture
def device_step(placed):
    """The Device step shown, the heart hidden, the camera looking at the device from the front."""
    window, panel, view = placed["window"], placed["panel"], placed["view"]
    window.show_step("device")
    pose = panel.pose.copy()
    heart = list(window.session.surfaces)
    look_at_device(window, panel, view)
    yield placed
    for label in heart:
        window.state.set_label_visible(label, True)
    window.state.set_label_visible(DEVICE_KEY, True)
    panel.set_pose(pose)
    view.reset_camera()


def _drag(view, points, modifiers):
    QTest.mousePress(view, LEFT, modifiers, QPoint(*points[0]))
    for p in points[1:]:
        QTest.mouseMove(view, QPoint(*p))
    QTest.mouseRelease(view, LEFT, modifiers, QPoint(*points[-1]))


def _device_pixels(bot, window, view):
    """Pixels of the device in the frame: those that change when the device is hidden."""
    with_device = _frame(bot, view)
    window.state.set_label_visible(DEVICE_KEY, False)
    without = _frame(bot, view)
    window.state.set_label_visible(DEVICE_KEY, True)
    assert np.array_equal(_frame(bot, view), with_device)
    return with_device, np.abs(with_device - without).sum(axis=2) > 30


def _handle_pixels(widget):
    rgb = grab_rgb(widget).astype(int)
    r, g, b = HANDLE_COLOUR
    return int(((np.abs(rgb[..., 0] - r) < 20) & (np.abs(rgb[..., 1] - g) < 25) & (rgb[..., 2] < 60)).sum())


def test_handle_is_drawn_on_the_device_step_only(device_step):
    window, bot, view, panel = (device_step[k] for k in ("window", "bot", "view", "panel"))
    _frame(bot, view)
    assert _handle_pixels(view) > 80
    window.show_step("model")
    _frame(bot, view)
    assert _handle_pixels(view) == 0
    pose = panel.pose.copy()
    x, y = view.width() // 2, view.height() // 2
    _drag(view, [(x, y), (x + 30, y)], CTRL)  # elsewhere Ctrl+drag turns the camera, not the device
    assert np.array_equal(panel.pose, pose)
    window.show_step("device")


def test_ctrl_drag_moves_the_device_in_the_view_plane(device_step):
    window, bot, view, panel = (device_step[k] for k in ("window", "bot", "view", "panel"))
    ctx = panel.ctx
    _, before_mask = _device_pixels(bot, window, view)
    pose, metrics = panel.pose.copy(), dict(panel.table.values)
    steps = len(window.session.case.history)
    c0 = view.project(panel.handle.centre()[None])[0][0]
    dx, dy = 36, -24
    start = (int(c0[0]) + 25, int(c0[1]) + 15)  # anywhere: the drag need not grab the device
    _drag(view, [(start[0] + dx * k // 6, start[1] + dy * k // 6) for k in range(7)], CTRL)

    # the centre follows the mouse, in the view plane, by the pixel size at its depth
    shift = panel.pose[:3, 3] - pose[:3, 3]
    cam = view.camera
    view_dir = np.subtract(cam.GetFocalPoint(), cam.GetPosition())
    view_dir /= np.linalg.norm(view_dir)
    depth = np.dot(panel.handle.centre(pose) - np.asarray(cam.GetPosition()), view_dir)
    mm_per_px = depth * np.tan(np.radians(cam.GetViewAngle() / 2)) / (view.height() / 2)
    assert np.linalg.norm(shift) == pytest.approx(np.hypot(dx, dy) * mm_per_px, rel=1e-6)
    assert abs(np.dot(shift, view_dir)) < 1e-9
    assert np.allclose(panel.pose[:3, :3], pose[:3, :3])
    c1 = view.project(panel.handle.centre()[None])[0][0]
    assert np.allclose(c1 - c0, (dx, dy), atol=1e-6)
    # the rendered device moved with it
    _, after_mask = _device_pixels(bot, window, view)
    moved = np.argwhere(after_mask).mean(axis=0) - np.argwhere(before_mask).mean(axis=0)
    assert np.allclose(moved[::-1], (dx, dy), atol=2.5), moved

    # the same path as a key: the fit table shows the new pose's fit, the case records one move
    expected, _ = plan.fit_metrics(ctx, pose=panel.pose)
    assert panel.table.values == {k: expected.get(k, panel.table.values[k]) for k in panel.table.values}
    assert panel.table.values != metrics
    assert np.allclose(window.session.case.devices[-1]["pose_lps"], panel.pose)
    assert len(window.session.case.history) == steps + 1
    dragged = panel.pose.copy()
    QTest.keyClick(view, Qt.Key.Key_Right)  # keys carry on from the dragged pose
    assert np.allclose(panel.pose[:3, 3] - dragged[:3, 3], 0.5 * dragged[:3, 0], atol=1e-9)


def test_ctrl_shift_drag_turns_the_device_about_its_axis(device_step):
    view, panel = device_step["view"], device_step["panel"]
    pose = panel.pose.copy()
    centre, axis = panel.handle.centre(), pose[:3, 2]
    view.camera.SetPosition(*(centre + 150.0 * axis))  # look down the device axis from its tip
    view.camera.SetFocalPoint(*centre)
    view.camera.SetViewUp(*pose[:3, 0])
    view.refresh()
    c = view.project(centre[None])[0][0]
    angles = np.radians(np.linspace(0, 60, 7))  # counter-clockwise on screen (y down)
    path = [(int(round(c[0] + 90 * np.cos(a))), int(round(c[1] - 90 * np.sin(a)))) for a in angles]
    _drag(view, path, CTRL | SHIFT)
    new = panel.pose
    assert np.allclose(new[:3, 2], axis, atol=1e-9)
    assert np.allclose(panel.handle.centre(), centre, atol=1e-9)
    x0, x1 = pose[:3, 0], new[:3, 0]
    turned = np.degrees(np.arctan2(np.dot(np.cross(x0, x1), axis), np.dot(x0, x1)))
    swept = np.degrees(np.arctan2(-(path[-1][1] - c[1]), path[-1][0] - c[0]) -
                       np.arctan2(-(path[0][1] - c[1]), path[0][0] - c[0]))
    assert turned == pytest.approx(swept, abs=1e-6)  # seen from the tip: counter-clockwise is +
    assert 55 < turned < 65


def _reddish(rgb, mask):
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    return int((mask & (r >= 90) & (r > 1.8 * g) & (r > 1.8 * b)).sum())


def _bluish(rgb, mask):
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    return int((mask & (b >= 90) & (b > 1.5 * r) & (b > 1.2 * g)).sum())


def test_colour_map_shows_the_device_pressing_into_the_wall(device_step, screenshot):
    window, bot, view, panel = (device_step[k] for k in ("window", "bot", "view", "panel"))
    ctx = panel.ctx

    def scalars():
        poly = window.session.device_poly
        pts = vtk_to_numpy(poly.GetPoints().GetData()).astype(float)
        values = vtk_to_numpy(poly.GetPointData().GetArray(FIT_ARRAY)).astype(float)
        return pts, values

    pts, values = scalars()
    assert np.allclose(values, ctx.field.sample(pts), atol=1e-4)  # the field at each vertex
    rgb, mask = _device_pixels(bot, window, view)
    red_before = _reddish(rgb, mask)
    assert _bluish(rgb, mask) > 20  # the outflow stands off the wall: a gap
    for _ in range(12):  # 6 mm sideways, into the wall
        assert panel.apply_key(Qt.Key.Key_Right)
    pts, pushed = scalars()
    assert np.allclose(pushed, ctx.field.sample(pts), atol=1e-4)
    assert pushed.min() < 0 and pushed.min() < values.min() - 2.0
    assert panel.metrics["max_penetration_mm"] >= -pushed.min() - 0.5
    assert panel.recolour_ms is not None
    rgb, mask = _device_pixels(bot, window, view)
    screenshot("device_pushed_into_wall", view)
    expected = FIT_COLOUR_MAP.colours(pushed)
    assert (expected[:, 0] > 0.45)[pushed < -1].all()  # the map itself: red where pressing in
    red_after = _reddish(rgb, mask)
    assert red_after > 40 and red_after > red_before + 20, (red_before, red_after)
    assert _reddish(rgb, ~mask) == 0  # no red anywhere but on the device (heart hidden)


def test_volume_and_surfaces_are_drawn_together(placed, screenshot):
    from hearttwin.gui import volume_presets

    window, bot, view, panel = (placed[k] for k in ("window", "bot", "view", "panel"))
    volume_presets.install(window)
    centre = panel.handle.centre()
    view.camera.SetFocalPoint(*centre)
    view.camera.SetPosition(*(centre + np.array([0.0, 0.0, -250.0])))  # from below: no bone in between
    view.camera.SetViewUp(0, -1, 0)
    view.refresh()
    surfaces_only = _frame(bot, view)
    window.volume_actions["Bone"].trigger()
    try:
        rgb, device = _device_pixels(bot, window, view)  # the device is drawn with the volume...
        screenshot("device_with_bone_volume", view)
        assert device.sum() > 50
        assert (np.abs(rgb - surfaces_only).sum(axis=2) > 30).mean() > 0.02  # ...and so is the CT
    finally:
        window.volume_actions["Off"].trigger()
        assert np.abs(_frame(bot, view) - surfaces_only).max() <= 2
        view.reset_camera()
