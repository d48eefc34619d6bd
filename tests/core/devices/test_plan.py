"""Plans on a phantom with a known annulus (seed 2, not the sample): the size the chart
gives, automatic placement, and what an undersized and an oversized valve do."""

import numpy as np
import pytest

from hearttwin.core.anatomy import measure_all
from hearttwin.core.devices.catalogue import get_device
from hearttwin.core.devices.plan import overall, plan_static
from hearttwin.core.errors import InputError
from hearttwin.core.phantom.generate import generate_phantom
from hearttwin.core.phantom.params import PhantomParams

SEED = 2


@pytest.fixture(scope="module")
def case():
    ph = generate_phantom(PhantomParams.sample(SEED, "small"))
    p = ph.phases[0]
    return p.labels, ph.layout.root.annulus_truth(), measure_all(p.labels, p.image)


def chart_sizes(device_id: str, value: float) -> set:
    """Sizes whose chart range holds ``value`` (read from the catalogue file here)."""
    fam = get_device(device_id)
    return {c["size"] for c in fam.sizing["chart"] if c["min"] <= value <= c["max"]}


@pytest.mark.parametrize("device_id, key", [("thv-balloon", "area_mm2"),
                                            ("thv-self-expanding", "perimeter_mm")])
def test_auto_size_is_the_chart_size_of_the_true_annulus(case, device_id, key):
    labels, truth, m = case
    expected = chart_sizes(device_id, truth[key])
    assert len(expected) == 1  # the truth is not on a borderline for this seed
    res = plan_static(labels, device_id=device_id, measurements=m)
    assert res["recommended_size"] in expected
    assert res["device"]["size"] == res["recommended_size"]
    assert str(res["recommended_size"]) in res["sizing"]["reason"]


def test_auto_placement_is_coaxial_at_the_family_depth(case):
    labels, truth, m = case
    res = plan_static(labels, device_id="thv-balloon", measurements=m)
    pose = np.asarray(res["pose_lps"])
    cos = abs(float(pose[:3, 2] @ np.asarray(truth["normal_lps"])))
    assert np.degrees(np.arccos(min(cos, 1.0))) <= 5.0
    family_depth = get_device("thv-balloon").placement["depth_mm"]
    assert res["placement"]["depth_mm"] == pytest.approx(family_depth, abs=0.01)
    assert res["phases"][0]["metrics"]["implant_depth_mm"] == pytest.approx(family_depth, abs=0.6)
    # the inflow end lies that far below the true annulus plane
    below = float((np.asarray(truth["centre_lps"]) - pose[:3, 3]) @ np.asarray(truth["normal_lps"]))
    assert below == pytest.approx(family_depth, abs=1.5)


def test_undersized_and_oversized_valves(case):
    labels, _, m = case
    plans = {s: plan_static(labels, device_id="thv-balloon", size=s, measurements=m)
             for s in (23, 26, 29)}
    met = {s: p["phases"][0]["metrics"] for s, p in plans.items()}
    status = {s: {v["rule"]: v["status"] for v in p["verdicts"]} for s, p in plans.items()}
    # undersized: smaller than the annulus, leak channels around it
    assert met[23]["oversizing_area_percent"] < -5
    assert met[23]["apposition_percent"] < 80 and met[23]["max_gap_mm"] > 1.0
    assert met[23]["gap_area_mm2"] > 20
    assert status[23]["oversizing_area_percent"] in ("caution", "fail")
    assert status[23]["max_gap_mm"] in ("caution", "fail") and plans[23]["overall"] != "pass"
    # the chart size seals
    assert met[26]["apposition_percent"] >= 95 and met[26]["max_gap_mm"] <= 0.5
    assert status[26]["oversizing_area_percent"] == "pass"
    # oversized: seals, presses deeper, annular rupture risk
    assert met[29]["oversizing_area_percent"] > 30
    assert met[29]["max_penetration_mm"] > met[26]["max_penetration_mm"] + 1.0
    assert status[29]["oversizing_area_percent"] == "fail"
    assert plans[29]["overall"] == "fail"
    # the larger frame comes closer to the coronary ostia
    for side in ("left", "right"):
        key = f"coronary_distance_{side}_mm"
        assert met[29][key] < met[26][key] < met[23][key]


def test_plan_json_has_the_design_keys(case):
    labels, _, m = case
    res = plan_static(labels, device_id="thv-balloon", size=26, measurements=m)
    for key in ("device", "pose_lps", "recommended_size", "phases", "worst", "haemodynamics",
                "verdicts", "overall"):
        assert key in res
    assert {"id", "family", "size"} <= set(res["device"])
    assert np.asarray(res["pose_lps"]).shape == (4, 4)
    for v in res["verdicts"]:
        assert set(v) >= {"rule", "value", "status"} and v["status"] in ("pass", "caution", "fail")
    assert res["overall"] == overall(res["verdicts"])


def test_laa_plug_and_vascular_stent_are_placed_and_sized(case):
    labels, _, m = case
    plug = plan_static(labels, device_id="laa-plug", measurements=m)
    lz = m["laa"]["landing_zone_max_diameter_mm"]
    assert plug["device"]["size"] > lz  # a plug is always larger than the landing zone
    assert "coronary_distance_left_mm" not in plug["phases"][0]["metrics"]
    stent = plan_static(labels, device_id="vascular-stent", measurements=m)
    assert stent["placement"]["anchor"] == "aorta"
    assert stent["phases"][0]["metrics"]["apposition_percent"] >= 90


def test_mitral_valve_reports_neo_lvot(case):
    labels, _, m = case
    res = plan_static(labels, device_id="thv-mitral", size=26, measurements=m)
    met = res["phases"][0]["metrics"]
    assert met["neo_lvot_area_mm2"] is not None
    assert 0 <= met["neo_lvot_area_mm2"] <= met["native_lvot_area_mm2"]


def test_septal_occluder_without_defect_needs_a_size(case):
    labels, _, m = case
    with pytest.raises(InputError, match="--size"):
        plan_static(labels, device_id="asd-double-disc", measurements=m)
    res = plan_static(labels, device_id="asd-double-disc", size=20, measurements=m)
    assert res["placement"]["anchor"] == "interatrial_septum"
    assert any("defect" in w for w in res["warnings"])


def test_bad_pose_and_unknown_device(case):
    labels, _, m = case
    with pytest.raises(InputError, match="rigid"):
        plan_static(labels, device_id="thv-balloon", size=26, measurements=m, pose=np.eye(4) * 2)
    with pytest.raises(InputError, match="thv-balloon"):
        plan_static(labels, device_id="no-such-valve", measurements=m)


def test_septal_occluder_goes_across_a_defect_and_is_sized_from_it():
    from hearttwin.core.imaging.volume import Volume

    # LA (x < -1.5 mm) and RA (x > 1.5 mm) with a 3 mm septum and a 12 mm round defect
    s, n = 0.5, 100
    c = (np.arange(n) - n / 2 + 0.5) * s
    z, y, x = np.meshgrid(c, c, c, indexing="ij")
    box = (np.abs(y) < 22) & (np.abs(z) < 22) & (np.abs(x) < 22)
    arr = np.zeros((n, n, n), np.uint8)
    arr[box & (x < -1.5)] = 3
    arr[box & (x > 1.5)] = 4
    hole = box & (np.abs(x) <= 1.5) & (y ** 2 + z ** 2 <= 36.0)
    arr[hole] = np.where(x[hole] < 0, 3, 4)
    labels = Volume(arr, (s, s, s), origin=(c[0],) * 3)
    res = plan_static(labels, device_id="asd-double-disc", measurements={})
    assert res["sizing"]["value"] == pytest.approx(12.0, abs=1.0)
    assert res["device"]["size"] in chart_sizes("asd-double-disc", res["sizing"]["value"])
    pose = np.asarray(res["pose_lps"])
    assert abs(pose[:3, 2] @ [1, 0, 0]) > 0.99  # across the septum, LA -> RA
    fam = get_device("asd-double-disc")
    g = fam.size(res["device"]["size"]).geometry
    waist_centre = pose[:3, 3] + (g["disc_thickness_mm"] + g["waist_length_mm"] / 2) * pose[:3, 2]
    assert np.linalg.norm(waist_centre) < 1.0  # in the defect
    met = res["phases"][0]["metrics"]
    assert met["compression_percent"] > 0  # the waist is larger than the defect
