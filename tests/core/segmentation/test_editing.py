"""Label-map editing operations: outcomes in voxels and mL, other labels untouched, anisotropy."""

import numpy as np
import pytest

from hearttwin.core import jobs
from hearttwin.core.errors import CancelledError, InputError
from hearttwin.core.history import History
from hearttwin.core.imaging.volume import Volume
from hearttwin.core.segmentation import editing as ed

SPACING = (0.5, 0.7, 1.2)  # x, y, z mm: anisotropic on purpose


def make(shape=(40, 60, 60), spacing=SPACING, direction=None, origin=(-10.0, 5.0, 20.0)):
    return Volume(np.zeros(shape, np.uint8), spacing, origin, np.eye(3) if direction is None else direction)


def centres_lps(vol):
    k, j, i = np.indices(vol.array.shape)
    return vol.index_to_lps(np.stack([i, j, k], axis=-1).astype(float))


def rotation(axis, angle):
    axis = np.asarray(axis, float) / np.linalg.norm(axis)
    k = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    return np.eye(3) + np.sin(angle) * k + (1 - np.cos(angle)) * k @ k


def box_extent(mask):
    idx = np.argwhere(mask)
    return [(int(a), int(b) + 1) for a, b in zip(idx.min(0), idx.max(0))]


# ---------------------------------------------------------------- brush

@pytest.mark.parametrize("direction", [np.eye(3), rotation((1, 2, 3), 0.6)], ids=["axial", "oblique"])
def test_paint_is_a_sphere_in_mm_with_anisotropic_spacing(direction):
    vol = make(direction=direction)
    centre = vol.index_to_lps([30.2, 29.6, 19.7])
    edit = ed.paint(vol, centre, 7.0, 3)
    dist = np.linalg.norm(centres_lps(vol) - centre, axis=-1)
    np.testing.assert_array_equal(vol.array == 3, dist <= 7.0)  # exactly the voxel centres within r
    assert edit.count == np.count_nonzero(vol.array)
    assert ed.volume_ml(vol, 3) == pytest.approx(4 / 3 * np.pi * 7.0 ** 3 / 1000, rel=0.03)
    # the extents follow the spacing: 2r/0.5 columns, 2r/0.7 rows, 2r/1.2 slices
    ext = box_extent(vol.array == 3)
    assert [b - a for a, b in ext] == pytest.approx([12, 20, 28], abs=1) if np.allclose(direction, np.eye(3)) else True


def test_paint_only_background_keeps_other_labels_and_erase_only_one_label():
    vol = make()
    vol.array[15:25, 25:35, 25:35] = 2
    before2 = vol.array == 2
    centre = vol.index_to_lps([30, 30, 20])
    ed.paint(vol, centre, 6.0, 1, only=0)
    assert np.array_equal(vol.array == 2, before2)
    assert np.count_nonzero(vol.array == 1) > 0
    ed.paint(vol, centre, 6.0, 5, only=[1])  # relabel only label 1 inside the brush
    assert np.array_equal(vol.array == 2, before2) and not (vol.array == 1).any()
    ed.erase(vol, centre, 20.0, only=2)
    assert not (vol.array == 2).any() and (vol.array == 5).any()
    ed.erase(vol, centre, 20.0)
    assert not vol.array.any()


def test_paint_stroke_is_the_union_of_spheres_and_outside_is_a_no_op():
    vol = make()
    a, b = vol.index_to_lps([20, 20, 10]), vol.index_to_lps([40, 40, 30])
    ed.paint(vol, np.stack([a, b]), 4.0, 1)
    pts = centres_lps(vol)
    expected = (np.linalg.norm(pts - a, axis=-1) <= 4) | (np.linalg.norm(pts - b, axis=-1) <= 4)
    np.testing.assert_array_equal(vol.array == 1, expected)
    edit = ed.paint(vol, vol.index_to_lps([500, 500, 500]), 3.0, 1)
    assert edit.count == 0


# ---------------------------------------------------------------- threshold

def test_threshold_inside_box_mask_and_label():
    vol = make()
    image = Volume(np.tile(np.arange(60, dtype=np.int16) * 10, (40, 60, 1)), SPACING)  # HU = 10 * x
    ed.threshold(vol, image, 1, 100, 200, box=((5, 10), (0, 60), (0, 60)))
    assert np.count_nonzero(vol.array) == 5 * 60 * 11
    assert set(np.unique(np.argwhere(vol.array == 1)[:, 2])) == set(range(10, 21))
    mask = np.zeros(vol.array.shape, bool)
    mask[20:22] = True
    ed.threshold(vol, image, 2, 500, 590, mask=mask)
    assert np.count_nonzero(vol.array == 2) == 2 * 60 * 10
    ed.threshold(vol, image, 3, 150, 1000, within=1)  # only inside label 1
    assert np.count_nonzero(vol.array == 3) == 5 * 60 * 6 and np.count_nonzero(vol.array == 1) == 5 * 60 * 5
    edit = ed.threshold(vol, image, 4, 0, 1000, only=0, box=((5, 10), (0, 60), (0, 60)))
    assert np.count_nonzero(vol.array == 3) == 5 * 60 * 6 and edit.count == 5 * 60 * 49
    with pytest.raises(InputError):
        ed.threshold(vol, image, 1, 300, 200)


# ---------------------------------------------------------------- islands

def test_keep_largest_island_per_label_and_other_labels_untouched():
    vol = make()
    vol.array[2:6, 2:6, 2:6] = 1       # 64 voxels
    vol.array[20:30, 20:30, 20:30] = 1  # 1000 voxels
    vol.array[2:4, 40:42, 40:42] = 2
    vol.array[10:12, 50:52, 50:52] = 2
    ed.keep_largest_island(vol, 1)
    assert np.count_nonzero(vol.array == 1) == 1000 and np.count_nonzero(vol.array == 2) == 16
    ed.keep_largest_island(vol)  # all labels: label 2's two equal pieces are both largest
    assert np.count_nonzero(vol.array == 2) == 16


def test_remove_small_islands_in_ml_and_connectivity():
    vol = make()
    voxel_ml = np.prod(SPACING) / 1000
    vol.array[2:6, 2:6, 2:6] = 1          # 64 voxels
    vol.array[20:30, 20:30, 20:30] = 1     # 1000
    vol.array[35, 50, 50] = 1              # diagonal neighbours: one island in 26, two in 6
    vol.array[36, 51, 51] = 1
    vol.array[0:3, 55:58, 55:58] = 4      # 27 voxels of another label
    ed.remove_small_islands(vol, 1.5 * voxel_ml, 1, connectivity=26)
    assert np.count_nonzero(vol.array == 1) == 1000 + 64 + 2
    ed.remove_small_islands(vol, 1.5 * voxel_ml, 1, connectivity=6)
    assert np.count_nonzero(vol.array == 1) == 1000 + 64
    ed.remove_small_islands(vol, 100 * voxel_ml)
    assert np.count_nonzero(vol.array == 1) == 1000 and not (vol.array == 4).any()
    with pytest.raises(InputError):
        ed.remove_small_islands(vol, 1.0, connectivity=8)


# ---------------------------------------------------------------- holes

def test_fill_holes_3d_fills_background_but_keeps_an_enclosed_label():
    vol = make()
    vol.array[5:25, 10:40, 10:40] = 5
    vol.array[8:12, 15:20, 15:20] = 0   # enclosed background cavity: 100 voxels
    vol.array[15:20, 25:35, 25:35] = 1  # enclosed other label (LV inside MYO)
    ed.fill_holes(vol, 5)
    assert np.count_nonzero(vol.array == 1) == 500
    assert np.count_nonzero(vol.array == 5) == 20 * 30 * 30 - 500
    ed.fill_holes(vol, 5, only=None)
    assert not (vol.array == 1).any()


def test_fill_holes_slice_wise_fills_an_open_tube():
    vol = make()
    vol.array[5:25, 10:30, 10:30] = 6
    vol.array[5:25, 14:26, 14:26] = 0  # a tube open at both ends: no 3D hole
    edit = ed.fill_holes(vol, 6)
    assert edit.count == 0
    ed.fill_holes(vol, 6, slice_wise=True)
    assert np.count_nonzero(vol.array == 6) == 20 * 20 * 20


# ---------------------------------------------------------------- margins

def test_grow_and_shrink_follow_the_spacing_in_mm():
    vol = make()
    vol.array[15:25, 20:40, 20:40] = 1
    ed.grow(vol, 1, 1.4)  # x: 0.5 mm -> 2 voxels; y: 0.7 mm -> 2; z: 1.2 mm -> 1
    assert box_extent(vol.array == 1) == [(14, 26), (18, 42), (18, 42)]
    # a face voxel 1.4 mm out along y was added, a corner at (1.2, 1.4, 1.0) mm was not
    assert vol.array[20, 18, 30] == 1 and vol.array[14, 18, 18] == 0
    ed.shrink(vol, 1, 1.4)
    assert box_extent(vol.array == 1) == [(15, 25), (20, 40), (20, 40)]
    assert np.count_nonzero(vol.array == 1) == 10 * 20 * 20  # closing of a box is the box
    ed.shrink(vol, 1, 1.2)  # z: 1 slice, y: 1 row, x: 2 columns off each side
    assert box_extent(vol.array == 1) == [(16, 24), (21, 39), (22, 38)]


def test_grow_does_not_overwrite_other_labels_unless_asked():
    vol = make()
    vol.array[15:25, 20:30, 20:30] = 1
    vol.array[15:25, 30:40, 20:30] = 2  # touching along y
    original = vol.array.copy()
    ed.grow(vol, 1, 2.0)
    assert np.count_nonzero(vol.array == 2) == 1000
    vol.array[:] = original
    ed.grow(vol, 1, 2.0, only=None)  # y: 0.7 mm rows -> 2 rows of label 2 taken
    assert np.count_nonzero(vol.array == 2) == 1000 - 10 * 2 * 10


def test_grow_shrink_sphere_volumes_against_analytic():
    vol = make((60, 80, 80), spacing=(0.6, 0.6, 0.8))
    centre = vol.index_to_lps([40, 40, 30])
    ed.paint(vol, centre, 8.0, 1)
    ed.grow(vol, 1, 3.0)
    assert ed.volume_ml(vol, 1) == pytest.approx(4 / 3 * np.pi * 11.0 ** 3 / 1000, rel=0.04)
    ed.shrink(vol, 1, 6.0)
    assert ed.volume_ml(vol, 1) == pytest.approx(4 / 3 * np.pi * 5.0 ** 3 / 1000, rel=0.12)


def test_margin_ops_cancel_through_progress():
    vol = make()
    vol.array[15:25, 20:40, 20:40] = 1
    token = jobs.CancelToken()
    token.cancel()
    with pytest.raises(CancelledError):
        ed.grow(vol, 1, 2.0, progress=token)
    assert np.count_nonzero(vol.array == 1) == 4000


# ---------------------------------------------------------------- smoothing

@pytest.mark.parametrize("method", ed.SMOOTHING_METHODS)
def test_smooth_removes_a_spike_keeps_volume_and_other_labels(method):
    vol = make((50, 70, 70), spacing=(0.6, 0.6, 0.8))
    centre = vol.index_to_lps([35, 35, 25])
    ed.paint(vol, centre, 9.0, 1)
    vol.array[25, 35, 49:56] = 1  # a thin spike off the surface
    vol.array[5:10, 5:10, 5:10] = 2
    vol.array[25, 35, 20:23] = 0  # a small notch that closing refills
    before = ed.volume_ml(vol, 1)
    ed.smooth(vol, 1, 1.2, method=method)
    if method == "closing":
        assert vol.array[25, 35, 22] == 1  # notch filled
    else:
        assert vol.array[25, 35, 53] == 0  # spike gone
    assert ed.volume_ml(vol, 1) == pytest.approx(before, rel=0.06)
    assert np.count_nonzero(vol.array == 2) == 125
    with pytest.raises(InputError):
        ed.smooth(vol, 1, 1.0, method="blur")


def test_smooth_does_not_erode_from_the_image_border():
    vol = make((20, 30, 30), spacing=(1.0, 1.0, 1.0))
    vol.array[:, :, :15] = 6  # a structure cut by the field of view
    ed.smooth(vol, 6, 1.5)
    assert np.count_nonzero(vol.array == 6) == 20 * 30 * 15


# ---------------------------------------------------------------- split and relabel

@pytest.mark.parametrize("direction", [np.eye(3), rotation((0, 0, 1), 0.4)], ids=["axial", "oblique"])
def test_split_plane_gives_the_positive_side_a_new_label(direction):
    vol = make(direction=direction)
    vol.array[10:30, 20:40, 20:40] = 1
    point = vol.index_to_lps([29.5, 30, 20])
    normal = direction[:, 0]  # the i axis in LPS
    ed.split_plane(vol, 1, point, normal, 10)
    assert np.count_nonzero(vol.array == 10) == np.count_nonzero(vol.array == 1) == 20 * 20 * 10
    assert (np.argwhere(vol.array == 10)[:, 2] >= 30).all()
    side = (centres_lps(vol) - point) @ normal > 0
    assert np.array_equal(vol.array == 10, side & (vol.array > 0))
    with pytest.raises(InputError):
        ed.split_plane(vol, 1, point, [0, 0, 0], 11)
    with pytest.raises(InputError):
        ed.split_plane(vol, 1, point, normal, 1)


def test_relabel_merge_and_delete():
    vol = make()
    vol.array[0:5, 0:5, 0:5] = 1
    vol.array[10:15, 0:5, 0:5] = 2
    vol.array[20:25, 0:5, 0:5] = 3
    ed.relabel(vol, 1, 4)
    assert not (vol.array == 1).any() and np.count_nonzero(vol.array == 4) == 125
    ed.relabel(vol, [2, 4], 12)  # merge
    assert np.count_nonzero(vol.array == 12) == 250
    ed.relabel(vol, 3, 0)  # delete
    assert np.count_nonzero(vol.array) == 250
    with pytest.raises(InputError):
        ed.relabel(vol, 0, 3)
    with pytest.raises(InputError):
        ed.relabel(vol, 1, 256)


# ---------------------------------------------------------------- history, errors

def test_every_op_records_name_and_params_in_history():
    vol = make()
    image = Volume(np.zeros(vol.array.shape, np.int16), SPACING)
    h = History()
    c = vol.index_to_lps([30, 30, 20])
    ed.paint(vol, c, 5.0, 1, history=h)
    ed.threshold(vol, image, 2, -10, 10, within=0, history=h)
    ed.erase(vol, c, 2.0, history=h)
    ed.grow(vol, 1, 1.0, only=None, history=h)
    ed.shrink(vol, 1, 1.0, history=h)
    ed.smooth(vol, 1, 1.0, history=h)
    ed.fill_holes(vol, 1, history=h)
    ed.keep_largest_island(vol, 1, history=h)
    ed.remove_small_islands(vol, 0.01, history=h)
    ed.split_plane(vol, 1, c, [1, 0, 0], 11, history=h)
    edit = ed.relabel(vol, 11, 12, history=h)
    assert [s.name for s in h] == ["paint", "threshold", "erase", "grow", "shrink", "smooth", "fill_holes",
                                   "keep_largest_island", "remove_small_islands", "split_plane", "relabel"]
    assert h[0].params["radius_mm"] == 5.0 and h[0].params["label"] == 1
    assert h[0].params["centre_lps"] == pytest.approx(list(c), abs=1e-3)
    assert h[-1].params == edit.params and edit.params["changed_voxels"] == edit.count > 0


def test_bad_arguments_are_input_errors():
    vol = make()
    c = vol.index_to_lps([30, 30, 20])
    for call in (lambda: ed.paint(vol, c, 5.0, 0), lambda: ed.paint(vol, c, -1.0, 1),
                 lambda: ed.paint(vol, c, 5.0, 300), lambda: ed.grow(vol, 1, -2.0),
                 lambda: ed.shrink(vol, 1, -2.0), lambda: ed.fill_holes(vol, axis=3)):
        with pytest.raises(InputError):
            call()
    with pytest.raises(InputError):
        ed.paint(Volume(np.zeros((4, 4, 4), np.int16), (1, 1, 1)), (0, 0, 0), 1.0, 1)
