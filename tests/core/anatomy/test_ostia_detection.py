"""Coronary ostium detection on a small synthetic root (fast, known geometry).

A straight root (lumen radius 13 mm, 2 mm wall) stands on the annulus plane
z = 10 mm. The right heart sits 2 mm outside the wall on the anterior side,
as in the phantom. Cases the detector must get right: a right coronary that
runs into the RV after 2 mm of wall (a stub), a left coronary that leaves at
15 mm and then runs down along the outside of the wall (it must not pull the
ostium down), a calcium nodule at the annulus, and no false ostium where a
blood pool sits behind the wall.
"""

import numpy as np
import pytest
from scipy import ndimage

from hearttwin.core.anatomy.annulus import AnnulusPlane
from hearttwin.core.anatomy.ostia import detect_ostia, measure_ostia
from hearttwin.core.imaging.volume import Volume

SHAPE = (60, 90, 90)  # z, y, x at 1 mm
AXIS = np.array([45.0, 45.0])  # (x, y) of the root axis
R_LUMEN, WALL = 13.0, 2.0
LEFT_H, RIGHT_H = 15.0, 13.0  # heights above the annulus (z = 10)
BLOOD, SOFT, FAT, CALCIUM = 380.0, 40.0, -90.0, 900.0


def _tube(z, y, x, a, b, radius):
    """Voxels within ``radius`` of the segment a-b (points as (x, y, z))."""
    p = np.stack([x, y, z], axis=-1).astype(float)
    a, b = np.asarray(a, float), np.asarray(b, float)
    t = np.clip(((p - a) @ (b - a)) / np.dot(b - a, b - a), 0.0, 1.0)
    return np.linalg.norm(p - a - t[..., None] * (b - a), axis=-1) <= radius


def _case(coronaries=True):
    z, y, x = np.indices(SHAPE)
    rho = np.hypot(x - AXIS[0], y - AXIS[1])
    labels = np.zeros(SHAPE, np.uint8)
    image = np.full(SHAPE, FAT, np.float32)
    above = z >= 10
    # LV below the annulus, LA to the patient's left (+x), RV in front (-y) 2 mm off the wall
    labels[(~above) & (rho <= R_LUMEN) & (z >= 2)] = 1
    la = np.hypot(x - 80, y - 55) <= 9
    labels[la & (z >= 12) & (z <= 30)] = 3
    rv = (y <= AXIS[1] - R_LUMEN - WALL - 2.0) & (np.abs(x - AXIS[0]) <= 20) & (z >= 4) & (z <= 40)
    image[rho <= R_LUMEN + WALL] = SOFT
    labels[rv] = 2
    labels[above & (rho <= R_LUMEN)] = 6
    image[labels > 0] = BLOOD
    if coronaries:
        c = np.r_[AXIS, 10.0]
        # left: leaves radially (+x) at 15 mm, runs 8 mm out, then down along the wall
        out = c + [R_LUMEN + 8.0, 0.0, LEFT_H]
        vessel = _tube(z, y, x, c + [R_LUMEN - 1.5, 0, LEFT_H], out, 2.0)
        vessel |= _tube(z, y, x, out, c + [R_LUMEN + 4.5, 0, 2.0], 2.0)
        # right: a stub through the wall into the RV (anterior, -y) at 13 mm
        vessel |= _tube(z, y, x, c + [0, -(R_LUMEN - 1.5), RIGHT_H],
                        c + [0, -(R_LUMEN + WALL + 3.0), RIGHT_H], 2.0)
        image[vessel & (labels == 0)] = BLOOD
    # calcium at the annulus hinge
    c0 = np.r_[AXIS[0] - 9, AXIS[1] + 9, 11.0]
    image[_tube(z, y, x, c0, c0 + 0.1, 1.5)] = CALCIUM
    image = ndimage.gaussian_filter(image, 0.6)
    image += np.random.default_rng(0).normal(0.0, 12.0, SHAPE).astype(np.float32)
    vol = dict(spacing=(1.0, 1.0, 1.0), origin=(0.0, 0.0, 0.0))
    plane = AnnulusPlane(centre=np.array([AXIS[0], AXIS[1], 10.0]), normal=np.array([0, 0, 1.0]),
                         points=100)
    return Volume(image.astype(np.int16), **vol), Volume(labels, **vol), plane


@pytest.fixture(scope="module")
def synthetic():
    return _case()


def test_stub_and_hugging_vessel_heights(synthetic):
    image, labels, plane = synthetic
    ostia, warnings = detect_ostia(image, labels, plane)
    assert set(ostia) == {"left", "right"}, warnings
    assert abs(ostia["left"]["height_mm"] - LEFT_H) <= 0.75
    assert abs(ostia["right"]["height_mm"] - RIGHT_H) <= 0.75
    # on the wall, at the vessel's angle
    left = np.subtract(ostia["left"]["point_lps"][:2], AXIS)
    right = np.subtract(ostia["right"]["point_lps"][:2], AXIS)
    assert left[0] > 10.0 and abs(left[1]) < 2.0
    assert right[1] < -10.0 and abs(right[0]) < 2.0


def test_no_false_ostium_without_vessels():
    image, labels, plane = _case(coronaries=False)
    ostia, warnings = detect_ostia(image, labels, plane)
    assert ostia == {}
    assert sum("was not found" in w for w in warnings) == 2


def test_uncontrasted_image_warns(synthetic):
    image, labels, plane = synthetic
    flat = Volume(np.full(image.array.shape, 40, np.int16), image.spacing, image.origin)
    ostia, warnings = measure_ostia(flat, labels, plane)
    assert ostia == {}
    assert any("contrast" in w for w in warnings)


def test_landmark_wins_over_detection(synthetic):
    image, labels, plane = synthetic
    mark = [60.0, 45.0, 30.0]
    ostia, _ = measure_ostia(image, labels, plane, {"coronary_ostia": {"left": mark}})
    assert ostia["left"]["source"] == "landmark" and ostia["left"]["height_mm"] == 20.0
    assert ostia["right"]["source"] == "detected"
