"""Sizing: chart lookups, borderline and off-chart values, and the oversizing they report."""

from __future__ import annotations

import json
import math

import pytest

from hearttwin.core.devices.catalogue import get_device, load_catalogue
from hearttwin.core.devices.sizing import oversizing, recommend_size
from hearttwin.core.errors import InputError


def test_area_452_gives_26_mm_balloon_valve():
    rec = recommend_size(get_device("thv-balloon"), {"annulus_area_mm2": 452.0})
    assert rec.size == 26 and rec.in_chart and rec.alternatives == ()
    expected = (math.pi * 13.0 ** 2 / 452.0 - 1) * 100  # 26 mm nominal disc vs the annulus
    assert rec.oversizing_area_percent == pytest.approx(expected) == pytest.approx(17.46, abs=0.01)
    assert rec.reason == "annulus area 452 mm2 -> 26 mm (chart 430-546 mm2), 17% oversizing by area"


@pytest.mark.parametrize("perimeter,size", [(58.0, 23), (70.0, 26), (75.0, 29), (90.0, 34)])
def test_perimeter_gives_self_expanding_size(perimeter, size):
    rec = recommend_size(get_device("thv-self-expanding"),
                         {"annulus_perimeter_mm": perimeter, "annulus_area_mm2": 400.0})
    assert rec.size == size and rec.by == "annulus_perimeter_mm"
    assert rec.oversizing_perimeter_percent == pytest.approx((math.pi * size / perimeter - 1) * 100)
    assert rec.oversizing_area_percent == pytest.approx((math.pi * size ** 2 / 4 / 400 - 1) * 100)
    assert "by perimeter" in rec.reason and f"-> {size} mm" in rec.reason


def test_borderline_value_names_both_sizes():
    rec = recommend_size(get_device("thv-balloon"), {"annulus_area_mm2": 340.0})
    assert {rec.size, *rec.alternatives} == {20, 23} and len(rec.alternatives) == 1
    assert "borderline" in rec.reason and "338-430" in rec.reason and "273-345" in rec.reason
    # 340 sits nearer the middle of the 20 mm range (273-345) than of 23 mm (338-430)
    assert rec.size == 20 and "undersizing by area" in rec.reason


@pytest.mark.parametrize("area,word,nearest", [(250.0, "below", 20), (700.0, "above", 29)])
def test_outside_chart_gives_no_size(area, word, nearest):
    rec = recommend_size(get_device("thv-balloon"), {"annulus_area_mm2": area})
    assert rec.size is None and not rec.in_chart
    assert rec.alternatives == (nearest,)
    assert word in rec.reason and f"{area:g} mm2" in rec.reason and "no size" in rec.reason


def test_between_ranges_gives_nearest_size_flagged_off_chart():
    fam = get_device("pulmonary-stent")
    chart = {r["size"]: r for r in fam.sizing["chart"]}
    gap_lo, gap_hi = chart[20]["max"], chart[23]["min"]
    assert gap_lo < gap_hi, "the fixture relies on a gap between the 20 and 23 mm ranges"
    low_side = recommend_size(fam, {"vessel_diameter_mm": gap_lo + 0.01})
    high_side = recommend_size(fam, {"vessel_diameter_mm": gap_hi - 0.01})
    assert (low_side.size, low_side.alternatives) == (20, (23,))
    assert (high_side.size, high_side.alternatives) == (23, (20,))
    assert not low_side.in_chart and "between the chart ranges" in low_side.reason
    assert "off-chart" in low_side.reason


def test_compression_for_occluders():
    rec = recommend_size(get_device("laa-plug"), {"laa_landing_zone_max_diameter_mm": 22.0})
    assert rec.compression_percent == pytest.approx((1 - 22.0 / rec.size) * 100)
    assert 10 <= rec.compression_percent <= 30 and "compression" in rec.reason
    asd = recommend_size(get_device("asd-double-disc"), {"defect_diameter_mm": 12.0})
    assert asd.size > 12 and 5 <= asd.compression_percent <= 20


def test_mitral_uses_mitral_area():
    fam = get_device("thv-mitral")
    assert recommend_size(fam, {"annulus_area_mm2": 500.0}).size is None
    rec = recommend_size(fam, {"mitral_annulus_area_mm2": 500.0, "annulus_area_mm2": 300.0})
    assert rec.size == 26
    assert rec.oversizing_area_percent == pytest.approx((math.pi * 169 / 500 - 1) * 100)


@pytest.mark.parametrize("dev", sorted(load_catalogue()))
def test_every_chart_row_midpoint_picks_its_size(dev):
    fam = get_device(dev)
    by = fam.sizing["by"]
    for row in fam.sizing["chart"]:
        rec = recommend_size(fam, {by: (row["min"] + row["max"]) / 2})
        assert rec.size == row["size"] and rec.in_chart


def test_missing_and_bad_measurements():
    fam = get_device("thv-balloon")
    rec = recommend_size(fam, {"annulus_perimeter_mm": 70.0})
    assert rec.size is None and rec.value is None and "annulus_area_mm2" in rec.reason
    with pytest.raises(InputError, match="annulus_area_mm2"):
        recommend_size(fam, {"annulus_area_mm2": -5})
    with pytest.raises(InputError, match="number"):
        recommend_size(fam, {"annulus_area_mm2": "large"})


def test_oversizing_from_diameters_and_json():
    o = oversizing(get_device("vascular-stent"), 20, {"vessel_diameter_mm": 16.0})
    assert o["oversizing_perimeter_percent"] == pytest.approx(25.0)
    assert o["oversizing_area_percent"] == pytest.approx(56.25)
    assert o["compression_percent"] == pytest.approx(20.0)
    rec = recommend_size(get_device("vascular-stent"), {"vessel_diameter_mm": 16.0})
    data = json.loads(json.dumps(rec.to_json()))
    assert data["size"] == 20 and data["compression_percent"] == 20.0
