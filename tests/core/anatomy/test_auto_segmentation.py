"""The annulus measured on the AUTOMATIC segmentation of a held-out phantom (not 2024).

The automatic LV/aorta boundary is wavy and tilted (10-20 degrees on some
seeds); the annulus plane then comes from the lumen (its axis, and the level
where it widens into the sinuses), not the labels, and with the CT the
contour's edges lie on the image. Tolerances are the issue's: diameters
within 1.0 mm, normal within 5 degrees. More seeds: test_auto_accuracy.py.
"""

import numpy as np
import pytest

from hearttwin.core.anatomy import measure_annulus
from hearttwin.core.phantom.generate import generate_phantom
from hearttwin.core.phantom.params import PhantomParams


@pytest.fixture(scope="module")
def auto_phantom():
    from hearttwin.core.segmentation.auto import segment_heart

    ph = generate_phantom(PhantomParams.sample(1, "small"))
    return ph, segment_heart(ph.phases[0].image).labels


@pytest.fixture(scope="module")
def auto_case(auto_phantom):
    ph, labels = auto_phantom
    return labels, ph.layout.root.annulus_truth(), ph.phases[0].image


def test_root_on_automatic_segmentation(auto_phantom, root_truth):
    from hearttwin.core.anatomy.root import aortic_track, measure_root

    ph, labels = auto_phantom
    a, plane, _ = measure_annulus(labels, ph.phases[0].image)
    radius = 0.5 * a["max_diameter_mm"] + 1.5
    root, warnings = measure_root(labels, plane, aortic_track(labels, plane, radius_mm=radius),
                                  radius)
    assert not warnings
    truth = root_truth(ph, root["ascending_aorta_lps"])
    # measured (seed 1, small): sinus dA -0.57, STJ height +1.14, STJ diameter +0.74 mm;
    # over 22 seeds (small 1-12, sample 100-109) STJ height within 2.3 mm
    limits = {"sinus_area_derived_diameter_mm": 1.0, "sinotubular_junction_height_mm": 1.5,
              "sinotubular_junction_diameter_mm": 1.2, "ascending_aorta_diameter_mm": 1.0}
    for key, limit in limits.items():
        assert abs(root[key] - truth[key]) <= limit, (key, root[key], truth[key])


def test_annulus_on_automatic_segmentation(auto_case):
    labels, truth, image = auto_case
    a, plane, warnings = measure_annulus(labels, image)
    assert plane is not None and not warnings
    # measured (seed 1, small): +0.01 / +0.10 mm, 1.1 degrees, level 1.2 mm low
    for key in ("area_derived_diameter_mm", "perimeter_derived_diameter_mm"):
        assert abs(a[key] - truth[key]) <= 1.0, key
    cos = np.dot(a["normal_lps"], truth["normal_lps"]) / np.linalg.norm(a["normal_lps"])
    assert np.degrees(np.arccos(min(cos, 1.0))) <= 5.0
    assert np.linalg.norm(np.subtract(a["centre_lps"], truth["centre_lps"])) <= 1.5


def test_wavy_boundary_uses_sinus_onset(auto_case):
    labels, _, image = auto_case
    a, _, _ = measure_annulus(labels, image)
    assert a["plane_from"] == "sinus onset"


def test_annulus_without_the_image(auto_case):
    """Labels only (no CT): the plane still from the lumen, diameters within 1 mm (the
    automatic label's fat edge: measured +0.18 / +0.25 mm on seed 1; level runs low)."""
    labels, truth, _ = auto_case
    a, plane, warnings = measure_annulus(labels)
    assert plane is not None and not warnings
    for key in ("area_derived_diameter_mm", "perimeter_derived_diameter_mm"):
        assert abs(a[key] - truth[key]) <= 1.0, key


def test_coronary_ostia_on_automatic_segmentation(auto_phantom):
    """Both ostia found from the CT with the automatic labels (which run the aorta into the
    left main and the RV into the right coronary): measured (seed 1, small) -0.72 / -0.30 mm."""
    from hearttwin.core.anatomy.ostia import measure_ostia

    ph, labels = auto_phantom
    p = ph.phases[0]
    _, plane, _ = measure_annulus(labels, p.image)
    ostia, warnings = measure_ostia(p.image, labels, plane)
    assert set(ostia) == {"left", "right"}, warnings
    truth = p.landmarks["coronary_ostia"]
    for side in ("left", "right"):
        assert abs(ostia[side]["height_mm"] - truth[side]["height_mm"]) <= 1.5, side
