"""Anatomy of the generated phantom: labels, positions, orientation, myocardium."""

import numpy as np
import pytest
from scipy import ndimage

from hearttwin.core.phantom.heart import LABELS


def centroid_lps(volume, label):
    idx = np.argwhere(volume.array == label)  # (k, j, i)
    assert len(idx), f"label {label} missing"
    return volume.index_to_lps(idx.mean(axis=0)[::-1])


@pytest.fixture(scope="module")
def labels(small_phantom):
    return small_phantom.phases[0].labels


def test_all_seven_labels_present_one_per_voxel(labels):
    values, counts = np.unique(labels.array, return_counts=True)
    assert set(values) == set(range(8))
    vox_ml = labels.voxel_volume_mm3 / 1000
    vol = dict(zip(values, counts * vox_ml))
    assert 90 < vol[LABELS["LV"]] < 220
    assert 60 < vol[LABELS["RV"]] < 220
    assert 30 < vol[LABELS["LA"]] < 130
    assert 30 < vol[LABELS["RA"]] < 160
    assert 90 < vol[LABELS["MYO"]] < 260
    assert labels.array.dtype == np.uint8


def test_lv_long_axis_points_left_anterior_inferior(small_phantom):
    lm = small_phantom.phases[0].landmarks
    axis = np.subtract(lm["lv_apex_lps"], lm["lv_base_lps"])
    axis /= np.linalg.norm(axis)
    assert axis[0] > 0.3 and axis[1] < -0.3 and axis[2] < -0.15  # left, anterior, inferior
    from_sagittal = np.degrees(np.arcsin(abs(axis[0])))
    assert 35 <= from_sagittal <= 65


def test_chamber_positions(labels):
    c = {name: centroid_lps(labels, n) for name, n in LABELS.items()}
    assert c["RV"][1] < c["LV"][1] - 10  # RV anterior of LV
    assert c["RV"][0] < c["LV"][0]  # ... and to its right
    assert c["LA"][1] > c["LV"][1] + 20 and c["LA"][1] > c["AO"][1] - 10  # LA posterior
    assert c["RA"][0] < c["LV"][0] - 40  # RA on the right
    assert c["LV"][0] > 0  # heart left of the midline


def test_aorta_ascends_and_descends_left_of_spine(small_phantom, labels):
    annulus_z = small_phantom.layout.root.centre[2]
    ao = np.argwhere(labels.array == LABELS["AO"])
    z = labels.index_to_lps(ao[:, ::-1].astype(float))[:, 2]
    assert z.max() > annulus_z + 40  # ascending aorta / arch above the root
    # descending aorta in the lowest slice: left of midline, posterior of the heart
    bottom = labels.array[0]
    jj, ii = np.nonzero(bottom == LABELS["AO"])
    assert len(ii) > 20
    pts = labels.index_to_lps(np.column_stack([ii, jj, np.zeros_like(ii)]).astype(float))
    x, y = pts[:, 0].mean(), pts[:, 1].mean()
    assert x > 5 and y > 25
    assert y < 60  # in front of the vertebral bodies


def test_myocardium_surrounds_lv_blood(labels):
    lv = labels.array == LABELS["LV"]
    surface = lv & ~ndimage.binary_erosion(lv)
    near = ndimage.binary_dilation(labels.array == LABELS["MYO"], iterations=1)
    frac = np.count_nonzero(surface & near) / np.count_nonzero(surface)
    assert frac > 0.75


def test_coronary_ostia_heights(small_phantom):
    root = small_phantom.layout.root
    for side in ("left", "right"):
        o = small_phantom.phases[0].landmarks["coronary_ostia"][side]
        assert 8 <= o["height_mm"] <= 20
        h = float(np.dot(np.subtract(o["point_lps"], root.centre), root.normal))
        assert h == pytest.approx(o["height_mm"], abs=1e-6)


def test_coronaries_touch_the_aorta_and_are_unlabelled(small_phantom):
    ph = small_phantom.phases[0]
    img, lab = ph.image, ph.labels
    o = np.asarray(ph.landmarks["coronary_ostia"]["left"]["point_lps"])
    d = small_phantom.layout.root.direction(small_phantom.layout.root.sinus_angles["left"])
    outside = o + 3.0 * d  # in the left main, just outside the root
    ijk = np.rint(lab.lps_to_index(outside)).astype(int)
    assert lab.array[ijk[2], ijk[1], ijk[0]] == 0
    assert img.array[ijk[2], ijk[1], ijk[0]] > 150  # contrast-filled


@pytest.mark.parametrize("seed", [7, 2024])
def test_blood_pools_meet_only_at_valves(seed, small_phantom):
    """Chambers and vessels touch through valves only (LV-LA, LV-AO, RA-RV, RV-PA).

    Elsewhere a wall separates them, as in a real CT: a segmentation cannot
    tell two pools apart where the phantom let them merge.
    """
    from hearttwin.core.phantom.generate import generate_phantom
    from hearttwin.core.phantom.params import PhantomParams

    ph = small_phantom if seed == 7 else generate_phantom(PhantomParams.sample(seed, "small"))
    arr = ph.phases[0].labels.array
    blood = (1, 2, 3, 4, 6, 7)
    valves = {(1, 3), (1, 6), (2, 4), (2, 7)}
    touching = set()
    for a in blood:
        grown = ndimage.binary_dilation(arr == a)
        for b in blood:
            if b > a and np.any(grown & (arr == b)):
                touching.add((a, b))
    assert touching == valves
