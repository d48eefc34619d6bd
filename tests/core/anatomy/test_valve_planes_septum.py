"""Mitral annulus, pulmonary valve and interatrial septum: the anchors of the
mitral valve, the pulmonary stent and the septal occluder."""

import numpy as np
import pytest

from hearttwin.core.anatomy.septum import measure_septum
from hearttwin.core.anatomy.valve_planes import measure_mitral_annulus, measure_pulmonary_valve
from hearttwin.core.imaging.volume import Volume
from hearttwin.core.phantom.generate import generate_phantom
from hearttwin.core.phantom.params import PhantomParams

#: the phantom's mitral opening is a tube of this radius (core/phantom/heart.py)
PHANTOM_MITRAL_RADIUS_MM = 13.0


@pytest.fixture(scope="module")
def phase():
    return generate_phantom(PhantomParams.sample(5, "small")).phases[0]


def test_mitral_annulus_is_the_phantom_opening(phase):
    m, warnings = measure_mitral_annulus(phase.labels)
    assert not warnings
    assert abs(m["area_derived_diameter_mm"] - 2 * PHANTOM_MITRAL_RADIUS_MM) <= 2.5
    lo, hi = m["area_derived_diameter_mm_range"]
    assert lo < m["area_derived_diameter_mm"] < hi
    # the normal runs LA -> LV: towards the LV blood pool's centre
    arr = np.asarray(phase.labels.array)
    lv = phase.labels.index_to_lps(np.argwhere(arr == 1)[:, ::-1].astype(float)).mean(axis=0)
    assert np.dot(lv - np.asarray(m["centre_lps"]), m["normal_lps"]) > 0
    assert np.linalg.norm(np.subtract(m["centre_lps"], phase.landmarks["mitral_centre_lps"])) < 15


def test_pulmonary_valve_near_truth(phase):
    pv, warnings = measure_pulmonary_valve(phase.labels)
    assert not warnings
    assert np.linalg.norm(np.subtract(pv["centre_lps"], phase.landmarks["pulmonary_valve_lps"])) < 10
    arr = np.asarray(phase.labels.array)
    pa = phase.labels.index_to_lps(np.argwhere(arr == 7)[:, ::-1].astype(float)).mean(axis=0)
    assert np.dot(pa - np.asarray(pv["centre_lps"]), pv["normal_lps"]) > 0


def test_missing_structures_are_reported():
    labels = Volume(np.zeros((20, 20, 20), np.uint8), (1.0, 1.0, 1.0))
    for fn in (measure_mitral_annulus, measure_pulmonary_valve, measure_septum):
        out, warnings = fn(labels)
        assert out == {} and len(warnings) == 1 and "not measured" in warnings[0]


def _atria(hole_radius_mm: float, wall_mm: float = 3.0) -> Volume:
    """LA (x < -wall/2) and RA (x > +wall/2) slabs, 0.5 mm voxels, a round hole in the wall."""
    s = 0.5
    n = 80
    c = (np.arange(n) - n / 2 + 0.5) * s
    z, y, x = np.meshgrid(c, c, c, indexing="ij")
    arr = np.zeros((n, n, n), np.uint8)
    box = (np.abs(y) < 15) & (np.abs(z) < 15) & (np.abs(x) < 15)
    arr[box & (x < -wall_mm / 2)] = 3
    arr[box & (x > wall_mm / 2)] = 4
    hole = box & (np.abs(x) <= wall_mm / 2) & (y ** 2 + z ** 2 <= hole_radius_mm ** 2)
    arr[hole & (x < 0)] = 3
    arr[hole & (x >= 0)] = 4
    return Volume(arr, (s, s, s), origin=(c[0], c[0], c[0]))


def test_septal_defect_size_and_centre():
    s, warnings = measure_septum(_atria(6.0))
    assert not warnings and s["defect"]
    assert abs(s["defect_diameter_mm"] - 12.0) <= 1.0
    assert np.linalg.norm(s["defect_centre_lps"]) < 1.0
    assert s["normal_lps"][0] > 0.99  # LA -> RA is +x here


def test_intact_septum_has_no_defect():
    s, warnings = measure_septum(_atria(0.0))
    assert s["defect"] is False and not warnings
    assert abs(s["thickness_mm"] - 3.0) <= 0.6
    assert abs(s["centre_lps"][0]) < 0.5 and s["normal_lps"][0] > 0.99
