"""Ground truth: annulus geometry against the label map, volumes, cine curve."""

import math

import numpy as np
import pytest
from scipy import ndimage

from hearttwin.core.phantom.cycle import atrial_fraction, ventricular_fraction
from hearttwin.core.phantom.generate import generate_phantom
from hearttwin.core.phantom.heart import LABELS
from hearttwin.core.phantom.params import PhantomParams
from hearttwin.core.phantom.truth import label_volumes


@pytest.fixture(scope="module")
def root_phantom():
    """A cropped, fine phantom centred on the annulus (no calcium)."""
    p = PhantomParams.sample(5, "small", size=(72, 72, 72), spacing=(0.7, 0.7, 0.7),
                             fov_offset=(0.0, 0.0, 0.0), calcium=False)
    return generate_phantom(p)


STEP = 0.25


def _plane_labels(labels, root, height, half=22.0):
    """Nearest-voxel labels on a fine grid in the plane ``height`` mm above the annulus."""
    s = np.arange(-half, half + STEP, STEP)
    a, b = np.meshgrid(s, s, indexing="ij")
    pts = (root.centre + height * root.normal + a[..., None] * root.e_max
           + b[..., None] * root.e_min)
    ijk = labels.lps_to_index(pts.reshape(-1, 3))
    return ndimage.map_coordinates(labels.array, ijk[:, ::-1].T, order=0, mode="nearest")


def test_annulus_truth_matches_label_map(root_phantom):
    root = root_phantom.layout.root
    truth = root.annulus_truth()
    lab = root_phantom.phases[0].labels
    above = _plane_labels(lab, root, 0.5) == LABELS["AO"]
    below = _plane_labels(lab, root, -0.5) == LABELS["LV"]
    area = STEP * STEP
    # aortic lumen just above the annulus plane, and the AO/LV junction through it
    assert np.count_nonzero(above) * area == pytest.approx(truth["area_mm2"], rel=0.06)
    assert np.count_nonzero(above & below) * area == pytest.approx(truth["area_mm2"], rel=0.06)


def test_annulus_truth_values_consistent():
    p = PhantomParams.sample(3, "small")
    from hearttwin.core.phantom.chambers import layout

    t = layout(p.anatomy).root.annulus_truth()
    assert t["area_derived_diameter_mm"] == pytest.approx(p.anatomy.annulus_diameter)
    assert t["eccentricity"] == pytest.approx(p.anatomy.annulus_eccentricity)
    assert t["area_derived_diameter_mm"] == pytest.approx(2 * math.sqrt(t["area_mm2"] / math.pi))
    assert t["perimeter_derived_diameter_mm"] == pytest.approx(t["perimeter_mm"] / math.pi)
    # perimeter of an ellipse lies between the circle of equal area and a+b bounds
    a, b = t["max_diameter_mm"] / 2, t["min_diameter_mm"] / 2
    assert 2 * math.pi * math.sqrt(a * b) < t["perimeter_mm"] < math.pi * (a + b) * 1.01
    assert abs(float(np.dot(t["normal_lps"], t["major_axis_lps"]))) < 1e-9


def test_ostia_in_the_image_are_on_the_root(root_phantom):
    ph = root_phantom.phases[0]
    root = root_phantom.layout.root
    for side in ("left", "right"):
        o = np.asarray(ph.landmarks["coronary_ostia"][side]["point_lps"])
        d = root.direction(root.sinus_angles[side])
        inside = np.rint(ph.labels.lps_to_index(o - 1.5 * d)).astype(int)
        assert ph.labels.array[inside[2], inside[1], inside[0]] == LABELS["AO"]


def test_label_volumes_are_voxel_counts(small_phantom):
    lab = small_phantom.phases[0].labels
    vols = label_volumes(lab.array, lab.voxel_volume_mm3)
    n_lv = np.count_nonzero(lab.array == 1)
    assert vols["LV"]["volume_ml"] == pytest.approx(n_lv * lab.voxel_volume_mm3 / 1000)
    assert vols["MYO"]["label"] == 5


def test_volume_curves_are_physiologic():
    ph = np.linspace(0, 1, 201)[:-1]
    v = ventricular_fraction(ph, 0.6, 0.37)
    assert v[0] == pytest.approx(1.0)
    assert ph[np.argmin(v)] == pytest.approx(0.37, abs=0.01)
    assert v.min() == pytest.approx(0.4, abs=1e-6)
    a = atrial_fraction(ph, 0.4, 0.37)
    assert 0.37 < ph[np.argmax(a)] < 0.45  # atrium fullest just after end-systole
    assert ph[np.argmin(a)] > 0.85  # emptiest after the atrial kick


def test_cine_lv_ejection_fraction(cine_phantom):
    vols = [np.count_nonzero(p.labels.array == 1) for p in cine_phantom.phases]
    phases = [p.phase for p in cine_phantom.phases]
    es = int(np.argmin(vols))
    assert 0.25 <= phases[es] <= 0.5
    ef = 1 - vols[es] / vols[0]
    assert 0.50 <= ef <= 0.70
    myo = [np.count_nonzero(p.labels.array == 5) for p in cine_phantom.phases]
    assert max(myo) / min(myo) < 1.15  # mass roughly conserved
    la = [np.count_nonzero(p.labels.array == 3) for p in cine_phantom.phases]
    assert la[es] > la[0]  # atria fill while the ventricles eject
