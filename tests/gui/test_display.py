"""Display geometry and colour mapping (no Qt needed)."""

import itertools

import numpy as np
import pytest

from hearttwin.core.imaging import Volume
from hearttwin.gui import display


def _direction(perm, signs):
    d = np.zeros((3, 3))
    for index_axis, (lps_axis, sign) in enumerate(zip(perm, signs)):
        d[lps_axis, index_axis] = sign
    return d


@pytest.mark.parametrize("perm,signs", [((0, 1, 2), (1, 1, 1)), ((0, 1, 2), (-1, -1, 1)),
                                        ((1, 2, 0), (1, -1, 1)), ((2, 0, 1), (-1, 1, -1))])
def test_canonical_axes_run_along_left_posterior_superior(perm, signs):
    rng = np.random.default_rng(1)
    vol = Volume(rng.integers(0, 1000, (5, 6, 7)), (0.5, 0.7, 1.1), (10, -4, 3), _direction(perm, signs))
    r = display.Reorientation.from_direction(vol.direction)
    canon = r.view(vol.array)
    nz, ny, nx = canon.shape
    size = (nx, ny, nz)
    origin_lps = vol.index_to_lps(r.to_source_index((0, 0, 0), size))
    for c in range(3):
        step = np.zeros(3)
        step[c] = 1
        delta = vol.index_to_lps(r.to_source_index(step, size)) - origin_lps
        # one canonical step moves along +L, +P or +S by that axis' spacing only
        assert delta[c] == pytest.approx(r.spacing(vol.spacing)[c])
        assert np.abs(np.delete(delta, c)).max() < 1e-9
    # every canonical voxel holds the stored voxel it names
    for x, y, z in itertools.product(range(nx), range(ny), range(nz)):
        i, j, k = np.round(r.to_source_index((x, y, z), size)).astype(int)
        assert canon[z, y, x] == vol.array[k, j, i]


def test_planes_put_superior_on_top_and_round_trip():
    canon = np.arange(4 * 5 * 6).reshape(4, 5, 6)  # z, y, x
    size = (6, 5, 4)
    cor = display.plane_image(canon, "coronal", 2)
    assert cor.shape == (4, 6)
    assert np.array_equal(cor[0], canon[3, 2, :])  # top row is the most superior slice
    sag = display.plane_image(canon, "sagittal", 1)
    assert np.array_equal(sag[:, 0], canon[::-1, 0, 1])  # left column is the most anterior
    for plane in display.PLANES:
        index = {"axial": 3, "coronal": 2, "sagittal": 1}[plane]
        img = display.plane_image(canon, plane, index)
        for col, row in [(0, 0), (img.shape[1] - 1, 1), (2, img.shape[0] - 1)]:
            x, y, z = display.plane_to_canonical(plane, col, row, index, size)
            assert img[row, col] == canon[z, y, x]
            assert display.canonical_to_plane(plane, (x, y, z), size) == (col, row)


def test_window_level_maps_ends_to_black_and_white():
    w, lvl = 700.0, 200.0
    grey = display.window_to_grey(np.array([-1000, lvl - w / 2, lvl, lvl + w / 2, 3000]), w, lvl)
    assert grey.tolist() == [0, 0, 127, 255, 255]


def test_overlay_blends_only_visible_labels():
    grey = np.full((2, 2), 100, np.uint8)
    labels = np.array([[0, 1], [2, 1]], np.uint8)
    table = display.colour_table({1: (200, 0, 0), 2: (0, 0, 250)})
    alpha = np.full(256, 0.5, np.float32)
    alpha[2] = 0.0  # hidden
    rgb = display.compose_rgb(grey, labels, table, alpha)
    assert rgb[0, 0].tolist() == [100, 100, 100]
    assert rgb[0, 1].tolist() == [150, 50, 50]
    assert rgb[1, 0].tolist() == [100, 100, 100]
