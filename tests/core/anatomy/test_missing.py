"""Missing structures give warnings, not crashes."""

import json

import numpy as np

from hearttwin.core.anatomy import measure_all
from hearttwin.core.imaging.volume import Volume
from hearttwin.core.phantom.generate import generate_phantom
from hearttwin.core.phantom.params import PhantomParams


def _labels(seed=3):
    return generate_phantom(PhantomParams.sample(seed, "small")).phases[0].labels


def test_no_aorta_warns():
    lab = _labels()
    arr = lab.array.copy()
    arr[arr == 6] = 0
    res = measure_all(Volume(arr, lab.spacing, lab.origin, lab.direction))
    assert res["annulus"] == {} and res["coplanar_view"] == {}
    assert any("annulus" in w.lower() for w in res["warnings"])
    assert any("AO" in w for w in res["warnings"])
    json.dumps(res)


def test_no_image_no_landmarks_warns_about_ostia():
    res = measure_all(_labels())
    assert res["coronary_ostia"] == {}
    assert any("ostia" in w.lower() for w in res["warnings"])


def test_landmark_ostia_give_heights():
    ph = generate_phantom(PhantomParams.sample(3, "small"))
    truth = ph.phases[0].landmarks["coronary_ostia"]
    marks = {"coronary_ostia": {s: truth[s]["point_lps"] for s in ("left", "right")}}
    res = measure_all(ph.phases[0].labels, landmarks=marks)
    for s in ("left", "right"):
        assert res["coronary_ostia"][s]["source"] == "landmark"
        assert abs(res["coronary_ostia"][s]["height_mm"] - truth[s]["height_mm"]) < 1.0


def test_empty_label_map():
    res = measure_all(Volume(np.zeros((20, 20, 20), np.uint8), (1.0, 1.0, 1.0)))
    assert res["laa"] == {} and res["annulus"] == {}
    assert len(res["warnings"]) >= 3
