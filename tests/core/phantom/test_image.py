"""The simulated CT image: HU per structure, noise, determinism, parameters."""

import numpy as np
import pytest
from scipy import ndimage

from hearttwin.core.errors import InputError
from hearttwin.core.phantom.generate import generate_phantom
from hearttwin.core.phantom.heart import LABELS
from hearttwin.core.phantom.params import PhantomParams


def _core_values(phase, label):
    mask = ndimage.binary_erosion(phase.labels.array == label, iterations=2)
    return phase.image.array[mask].astype(float)


def test_hu_per_structure(small_phantom, small_params):
    ph = small_phantom.phases[0]
    p = small_params.intensity
    tol = 25 + 0.1 * p.blood_left
    for name in ("LV", "LA", "AO"):
        assert np.median(_core_values(ph, LABELS[name])) == pytest.approx(p.blood_left, abs=tol)
    for name in ("RV", "RA", "PA"):
        assert np.median(_core_values(ph, LABELS[name])) == pytest.approx(
            p.blood_left * p.right_mix, abs=tol)
    myo = _core_values(ph, LABELS["MYO"])
    assert np.median(myo) == pytest.approx(p.myocardium, abs=25)
    assert 250 <= p.blood_left <= 500 and 0.6 <= p.right_mix <= 0.9
    # noise: spread inside the LV blood pool close to the requested std
    assert np.std(_core_values(ph, LABELS["LV"])) == pytest.approx(p.noise_std, rel=0.35)


def test_background_tissues(small_phantom):
    img = small_phantom.phases[0].image
    a = img.array
    assert a.max() > 900  # cortical bone
    assert a.min() < -900  # air outside the body
    # lung lateral to the heart, posterior: far left at the annulus level
    k = int(round(img.lps_to_index(small_phantom.layout.anchor)[2]))
    ijk = np.rint(img.lps_to_index([-80.0, 10.0, 0.0])).astype(int)
    patch = a[k - 2:k + 3, ijk[1] - 2:ijk[1] + 3, ijk[0] - 2:ijk[0] + 3]
    assert -920 < np.median(patch) < -780


def test_same_seed_same_phantom_and_different_seed_differs(small_phantom, small_params):
    again = generate_phantom(PhantomParams.sample(7, "small"))
    np.testing.assert_array_equal(again.phases[0].image.array, small_phantom.phases[0].image.array)
    np.testing.assert_array_equal(again.phases[0].labels.array,
                                  small_phantom.phases[0].labels.array)
    other = PhantomParams.sample(8, "small")
    assert other.anatomy != small_params.anatomy
    assert other.geometry.spacing != small_params.geometry.spacing


def test_overrides_and_validation():
    p = PhantomParams.sample(1, "small", lv_ef=0.6, noise_std=0.0, size=(40, 40, 40))
    assert p.anatomy.lv_ef == 0.6 and p.intensity.noise_std == 0.0
    assert p.geometry.size == (40, 40, 40)
    with pytest.raises(InputError, match="Unknown phantom parameter"):
        PhantomParams.sample(1, "small", no_such_thing=1)
    with pytest.raises(InputError, match="preset"):
        PhantomParams.sample(1, "huge")
    with pytest.raises(InputError, match="phases"):
        PhantomParams.sample(1, "small", phases=0)


def test_calcium_nodules_are_bright_and_unlabelled(small_params):
    p = small_params.with_overrides(spacing=(0.6, 0.6, 0.6), size=(60, 60, 60),
                                    fov_offset=(0.0, 0.0, 0.0), calcium_nodules=3, noise_std=0.0)
    ph = generate_phantom(p).phases[0]
    assert len(ph.calcium) == 3
    for nod in ph.calcium:
        ijk = np.rint(ph.labels.lps_to_index(nod["centre_lps"])).astype(int)
        assert ph.labels.array[ijk[2], ijk[1], ijk[0]] == 0
        assert ph.image.array[ijk[2], ijk[1], ijk[0]] > 500
