"""Moving a measured landmark by hand: the heights that depend on it, recomputed from the geometry."""

import copy

import numpy as np
import pytest

from hearttwin.core.anatomy.measure import move_landmark
from hearttwin.core.errors import InputError

NORMAL = np.array([0.0, 0.6, 0.8])  # unit, tilted like an aortic root


@pytest.fixture
def measured():
    centre = [10.0, -20.0, 30.0]
    left, right = [25.0, -10.0, 45.0], [-2.0, -5.0, 40.0]

    def height(p):
        return round(float(np.dot(np.subtract(p, centre), NORMAL)), 2)

    return {"annulus": {"area_mm2": 450.0, "area_mm2_range": [430.0, 470.0], "centre_lps": centre,
                        "normal_lps": NORMAL.tolist()},
            "coronary_ostia": {"left": {"point_lps": left, "height_mm": height(left), "source": "detected"},
                               "right": {"point_lps": right, "height_mm": height(right), "source": "landmark"}},
            "root": {"sinotubular_junction_height_mm": 21.4, "sinotubular_junction_height_mm_range": [20.4, 22.4],
                     "sinus_height_mm": 9.5}}


def test_moving_an_ostium_recomputes_its_height_only(measured):
    before = copy.deepcopy(measured)
    new_point = [27.0, -4.0, 49.5]
    out, changed = move_landmark(measured, "left_ostium", new_point)
    assert measured == before  # the input is left alone
    left = out["coronary_ostia"]["left"]
    assert left["point_lps"] == new_point and left["source"] == "edited"
    # (x, y, z) - centre = (17, 16, 19.5): 0.6 * 16 + 0.8 * 19.5 = 25.2 mm above the plane
    assert left["height_mm"] == pytest.approx(25.2, abs=1e-9)
    assert out["coronary_ostia"]["right"] == before["coronary_ostia"]["right"]
    assert out["root"] == before["root"] and out["annulus"] == before["annulus"]
    assert changed == ["coronary_ostia.left.point_lps", "coronary_ostia.left.height_mm"]
    assert out["edited"] == sorted(changed)


def test_moving_the_annulus_centre_shifts_every_height(measured):
    before = copy.deepcopy(measured)
    up = 3.0  # along the normal, plus a slide within the plane (which changes no height)
    in_plane = np.array([1.0, 0.0, 0.0])
    new_centre = np.add(before["annulus"]["centre_lps"], up * NORMAL + 2.0 * in_plane)
    out, changed = move_landmark(measured, "annulus_centre", new_centre)
    assert out["annulus"]["centre_lps"] == pytest.approx(new_centre.tolist(), abs=0.005)
    assert out["annulus"]["area_mm2"] == 450.0 and out["annulus"]["area_mm2_range"] == [430.0, 470.0]
    for side in ("left", "right"):
        o, b = out["coronary_ostia"][side], before["coronary_ostia"][side]
        assert o["point_lps"] == b["point_lps"] and o["source"] == b["source"]
        assert o["height_mm"] == pytest.approx(b["height_mm"] - up, abs=0.011)
    root = out["root"]
    assert root["sinotubular_junction_height_mm"] == pytest.approx(21.4 - up, abs=0.011)
    assert "sinotubular_junction_height_mm_range" not in root  # no automatic range for a hand-set plane
    assert root["sinus_height_mm"] == pytest.approx(9.5 - up, abs=0.011)
    assert set(changed) == {"annulus.centre_lps", "root.sinus_height_mm", "root.sinotubular_junction_height_mm",
                            "coronary_ostia.left.height_mm", "coronary_ostia.right.height_mm"}
    # a second move keeps the first one's marks; moving back restores the heights
    again, _ = move_landmark(out, "annulus_centre", before["annulus"]["centre_lps"])
    assert set(again["edited"]) == set(changed)
    for side in ("left", "right"):
        assert again["coronary_ostia"][side]["height_mm"] == pytest.approx(
            before["coronary_ostia"][side]["height_mm"], abs=0.011)


def test_bad_moves_say_why(measured):
    with pytest.raises(InputError, match="Unknown landmark"):
        move_landmark(measured, "apex", [0, 0, 0])
    with pytest.raises(InputError, match="not a finite point"):
        move_landmark(measured, "left_ostium", [0, np.nan, 0])
    del measured["coronary_ostia"]["right"]
    with pytest.raises(InputError, match="no right coronary ostium"):
        move_landmark(measured, "right_ostium", [0, 0, 0])
    with pytest.raises(InputError, match="measure the anatomy"):
        move_landmark({}, "left_ostium", [0, 0, 0])
