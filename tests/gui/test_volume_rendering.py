"""Volume rendering of the CT in the 3D view: real offscreen frames, checked pixel by pixel."""

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest

from gui_support import Bot, close_window, make_window, open_and_load
from hearttwin.gui import volume_presets

#: HU above which the phantom has cortical bone (1250 HU) and calcium (about 1000 HU)
BONE_HU = 700
#: HU above which a voxel might show in the Bone preset (its opacity starts at 450 HU)
VISIBLE_HU = 450


def _settle(bot, view):
    bot.wait(30)
    bot.waitUntil(lambda: view.frame_current, timeout=60000)
    return view.last_rgb.astype(float)


@pytest.fixture(scope="module")
def loaded(qapp, phantom_dir):
    bot = Bot()
    window = make_window(bot)
    open_and_load(bot, window, phantom_dir)
    window.views.set_layout("3d")
    volume_presets.install(window)
    view = window.views.view3d
    view.reset_camera()
    yield {"window": window, "bot": bot, "view": view}
    close_window(window)


def _choose(loaded, name):
    loaded["window"].volume_actions[name].trigger()
    return _settle(loaded["bot"], loaded["view"])


def _projected_mask(view, volume, hu_min, grow=2):
    """Pixels onto which some voxel of ``volume`` brighter than ``hu_min`` projects (grown by ``grow`` px)."""
    from scipy import ndimage

    kji = np.argwhere(np.asarray(volume.array) > hu_min)
    xy, depth = view.project(volume.index_to_lps(kji[:, ::-1].astype(float)))
    assert np.all(depth > 0)
    h, w = view.height(), view.width()
    ij = np.rint(xy).astype(int)
    ok = (ij[:, 0] >= 0) & (ij[:, 0] < w) & (ij[:, 1] >= 0) & (ij[:, 1] < h)
    mask = np.zeros((h, w), bool)
    mask[ij[ok, 1], ij[ok, 0]] = True
    return ndimage.binary_dilation(mask, iterations=grow)


def test_menu_is_installed_once(loaded):
    window = loaded["window"]
    volume_presets.install(window)  # a second call adds nothing
    view_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&View")
    subs = [a for a in view_menu.actions() if a.menu() is not None and a.text() == "&Volume rendering"]
    assert len(subs) == 1
    names = [a.text() for a in subs[0].menu().actions()]
    assert names == volume_presets.preset_names()
    assert {"Cardiac CT (contrast)", "Bone", "Soft tissue", "Off"} <= set(names)
    assert window.volume_actions["Off"].isChecked()


def test_presets_show_the_ct_and_off_removes_it(loaded, screenshot):
    view, volume = loaded["view"], loaded["window"].session.volume
    off = _choose(loaded, "Off")
    changed = {}
    for name in volume_presets.PRESETS:
        rgb = _choose(loaded, name)
        assert view.volume_preset == name
        assert loaded["window"].volume_actions[name].isChecked()
        changed[name] = float((np.abs(rgb - off).sum(axis=2) > 30).mean())
        screenshot(f"volume_{name.split()[0].lower()}", view)
    # each preset draws the CT over a good part of the view (the image box fills about half of it)
    assert all(share > 0.05 for share in changed.values()), changed

    bone = _choose(loaded, "Bone")
    lum_bone, lum_off = bone.mean(axis=2), off.mean(axis=2)
    bright = _projected_mask(view, volume, BONE_HU)
    assert bright.sum() > 200  # spine, ribs, sternum, calcium
    # where bone projects, the Bone preset is much brighter than no volume...
    assert np.median(lum_bone[bright] - lum_off[bright]) > 40
    # ...and where nothing above its opacity threshold projects, it draws (almost) nothing
    dark = ~_projected_mask(view, volume, VISIBLE_HU, grow=5)  # a voxel spans ~5 px here
    assert np.mean(np.abs(lum_bone[dark] - lum_off[dark]) > 10) < 0.01

    again = _choose(loaded, "Off")
    assert view.volume_preset == volume_presets.OFF
    assert np.abs(again - off).max() <= 2  # the same frame as before any volume


def test_frame_time_and_coarser_frames_while_dragging(loaded):
    """A still frame at full quality, a drag frame coarser and faster (figures printed for the report)."""
    view, bot = loaded["view"], loaded["bot"]
    _choose(loaded, "Cardiac CT (contrast)")
    still = []
    for _ in range(3):
        view.rotate(4, 0)
        _settle(bot, view)
        still.append(view.frame_ms)
    x, y = view.width() // 2, view.height() // 2
    QTest.mousePress(view, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(x, y))
    moving = []
    for n in range(1, 5):  # left drag: rotate
        QTest.mouseMove(view, QPoint(x + 8 * n, y))
        _settle(bot, view)
        moving.append(view.frame_ms)
    QTest.mouseRelease(view, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(x + 32, y))
    _settle(bot, view)
    view.reset_camera()
    _choose(loaded, "Off")
    h, w = view.height(), view.width()
    print(f"\nvolume frame {w}x{h}: still {np.median(still):.0f} ms, dragging {np.median(moving[1:]):.0f} ms")
    assert np.median(still) < 20000
    assert np.median(moving[1:]) < np.median(still)


def test_unknown_preset_is_refused(loaded):
    with pytest.raises(ValueError, match="Bone"):
        loaded["view"].set_volume_preset("Bones")


def test_presets_are_valid_transfer_functions():
    for preset in volume_presets.PRESETS.values():
        hu = [p[0] for p in preset.points]
        assert hu == sorted(hu) and preset.points[0][4] == 0.0  # air is transparent
    with pytest.raises(ValueError):
        volume_presets.VolumePreset("bad", ((0, 0, 0, 0, 0), (-10, 1, 1, 1, 1)))
    samples, step = volume_presets.downsampled(np.zeros((300, 200, 100), np.int16), 128)
    assert step == 3 and samples.shape == (100, 67, 34)
