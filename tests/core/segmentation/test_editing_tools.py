"""The editing operations added for the GUI tools: restrict a label to an HU range, remove a clicked island."""

import numpy as np
import pytest

from hearttwin.core import jobs
from hearttwin.core.errors import CancelledError, InputError
from hearttwin.core.history import History
from hearttwin.core.imaging.volume import Volume
from hearttwin.core.segmentation import editing as ed
from hearttwin.core.segmentation.undo import UndoStack

SPACING = (0.6, 0.8, 1.5)  # x, y, z mm


def make(shape=(30, 40, 50)):
    return Volume(np.zeros(shape, np.uint8), SPACING, (5.0, -3.0, 12.0), np.eye(3))


def image_like(vol, rng):
    return Volume(rng.integers(-200, 800, vol.array.shape).astype(np.int16), vol.spacing, vol.origin, vol.direction)


def test_restrict_to_range_keeps_only_voxels_in_range_of_that_label():
    rng = np.random.default_rng(3)
    vol = make()
    vol.array[5:20, 10:30, 10:40] = 1
    vol.array[22:28, 5:15, 5:15] = 2
    img = image_like(vol, rng)
    before = vol.array.copy()
    history = History()
    edit = ed.restrict_to_range(vol, img, 1, 150, 500, history=history)
    hu = img.array
    was1 = before == 1
    np.testing.assert_array_equal(vol.array == 1, was1 & (hu >= 150) & (hu <= 500))
    np.testing.assert_array_equal(vol.array[was1 & ((hu < 150) | (hu > 500))], 0)
    np.testing.assert_array_equal(vol.array == 2, before == 2)  # other labels untouched
    assert edit.count == np.count_nonzero(was1 & ((hu < 150) | (hu > 500))) > 0
    assert history[-1].name == "restrict_to_range" and history[-1].params["changed_voxels"] == edit.count
    stack = UndoStack()
    stack.push(edit)
    stack.undo(vol)
    np.testing.assert_array_equal(vol.array, before)


def test_restrict_to_range_bad_input_and_absent_label():
    vol = make()
    img = image_like(vol, np.random.default_rng(0))
    with pytest.raises(InputError, match="empty"):
        ed.restrict_to_range(vol, img, 1, 300, 100)
    small = Volume(np.zeros((3, 3, 3), np.int16), SPACING, (0, 0, 0), np.eye(3))
    with pytest.raises(InputError, match="different sizes"):
        ed.restrict_to_range(vol, small, 1, 0, 100)
    assert ed.restrict_to_range(vol, img, 4, 0, 100).count == 0


def test_remove_island_at_removes_only_the_clicked_piece():
    vol = make()
    vol.array[5:20, 10:30, 10:30] = 3  # main body
    vol.array[24:27, 33:36, 40:44] = 3  # small island
    vol.array[5:20, 10:30, 35:45] = 5  # another label touching nothing of 3's island
    before = vol.array.copy()
    island = np.zeros_like(before, bool)
    island[24:27, 33:36, 40:44] = True
    click = vol.index_to_lps([41.2, 34.1, 25.3])  # (i, j, k) inside the island
    edit = ed.remove_island_at(vol, click)
    np.testing.assert_array_equal(vol.array[island], 0)
    np.testing.assert_array_equal(vol.array[~island], before[~island])
    assert edit.count == island.sum() and edit.params["label"] == 3
    # a click on background changes nothing; 6- vs 26-connectivity decides what a piece is
    assert ed.remove_island_at(vol, vol.index_to_lps([1, 1, 1])).count == 0
    vol.array[20, 30, 30] = 3  # touches the body only by a corner
    edit6 = ed.remove_island_at(vol, vol.index_to_lps([30, 30, 20]), connectivity=6)
    assert edit6.count == 1
    edit.revert(vol.array)
    assert vol.array[25, 34, 41] == 3


def test_remove_island_at_rejects_points_outside_and_cancels():
    vol = make()
    vol.array[5:10, 5:10, 5:10] = 1
    with pytest.raises(InputError, match="outside the image"):
        ed.remove_island_at(vol, vol.index_to_lps([-5, 0, 0]))
    with pytest.raises(InputError):
        ed.remove_island_at(vol, [1.0, 2.0])
    token = jobs.CancelToken()
    token.cancel()
    with pytest.raises(CancelledError):
        ed.remove_island_at(vol, vol.index_to_lps([7, 7, 7]), progress=token)
    assert np.count_nonzero(vol.array == 1) == 125  # nothing changed on cancel
