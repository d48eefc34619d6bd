"""Device catalogue: every shipped file loads, figures match the published charts,
no trade names, and each kind of corruption gives a CatalogueError naming file and field."""

from __future__ import annotations

import copy
import json
import math

import pytest

from hearttwin.core.devices import sizing
from hearttwin.core.devices.catalogue import (
    METRICS, CatalogueError, FitRule, get_device, load_catalogue, load_family)
from hearttwin.core.errors import InputError
from hearttwin.core.resources import resources_dir

FOLDER = resources_dir() / "devices"
IDS = {"thv-balloon", "thv-self-expanding", "thv-mitral", "laa-plug", "asd-double-disc",
       "pulmonary-stent", "vascular-stent"}
#: trade names (and makers) that must stay out of ids, family names and descriptions
TRADE_NAMES = ("sapien", "evolut", "corevalve", "acurate", "portico", "navitor", "myval",
               "lotus", "watchman", "amulet", "amplatzer", "lambre", "wavecrest", "melody",
               "harmony", "alterra", "figulla", "occlutech", "cardioform", "helex", "gore",
               "edwards", "medtronic", "abbott", "boston scientific", "cheatham", "palmaz")


def test_every_shipped_file_loads():
    catalogue = load_catalogue()
    assert set(catalogue) == IDS
    assert {p.stem for p in FOLDER.glob("*.json")} == IDS
    for fam in catalogue.values():
        assert fam.path.stem == fam.id
        assert list(fam.size_values) == sorted(fam.size_values)
        assert {r["size"] for r in fam.sizing["chart"]} <= set(fam.size_values)
        assert all(r.metric in METRICS for r in fam.fit_rules)
        ids = {s["id"] for s in fam.sources}
        assert all(r.source is None or r.source in ids for r in fam.fit_rules)
        assert all(s["url"].startswith("https://") for s in fam.sources)
        assert any(r.source for r in fam.fit_rules), "every family cites at least one rule"


def test_published_figures():
    be = get_device("thv-balloon")
    assert [(r["size"], r["min"], r["max"]) for r in be.sizing["chart"]] == [
        (20, 273, 345), (23, 338, 430), (26, 430, 546), (29, 540, 683)]
    assert [s.geometry["height_mm"] for s in be.sizes] == [15.5, 18.0, 20.0, 22.5]
    se = get_device("thv-self-expanding")
    assert se.size_values == (23, 26, 29, 34)
    assert se.sizing["chart"][0]["min"] == 56.5 and se.sizing["chart"][-1]["max"] == 94.2
    assert all(44 <= s.geometry["height_mm"] <= 47 for s in se.sizes)
    for s in se.sizes:  # flared inflow and outflow around a narrower waist
        g = s.geometry
        assert g["waist_diameter_mm"] < min(g["inflow_diameter_mm"], g["outflow_diameter_mm"])
    laa = get_device("laa-plug")
    assert (min(laa.size_values), max(laa.size_values)) == (20, 35)
    for row in laa.sizing["chart"]:  # sized for 10-30% compression of the plug
        assert 100 * (1 - row["max"] / row["size"]) == pytest.approx(10, abs=0.2)
        assert 100 * (1 - row["min"] / row["size"]) == pytest.approx(30, abs=0.2)
    asd = get_device("asd-double-disc")
    assert (min(asd.size_values), max(asd.size_values)) == (4, 38)
    for s in asd.sizes:
        g = s.geometry
        assert g["left_disc_diameter_mm"] - g["waist_diameter_mm"] in (12, 14, 16)
        assert g["right_disc_diameter_mm"] - g["waist_diameter_mm"] in (8, 10)
    mitral = get_device("thv-mitral")
    neo = mitral.rule("neo_lvot_area_mm2")
    assert neo.fail_below == 170 and neo.evaluate(160) == "fail" and neo.evaluate(250) == "pass"
    for dev in ("thv-balloon", "thv-self-expanding"):
        assert get_device(dev).rule("coronary_distance_left_mm").evaluate(3.5) == "fail"


@pytest.mark.parametrize("dev", sorted(IDS))
def test_chart_never_fails_its_own_sizing_rule(dev):
    """At both ends of every chart row, the nominal device is not a 'fail' of the
    family's sizing rule: chart and fit rules tell the same story."""
    fam = get_device(dev)
    by = fam.sizing["by"]
    metric = next(r.metric for r in fam.fit_rules if r.metric in (
        "oversizing_area_percent", "oversizing_perimeter_percent", "compression_percent"))
    for row in fam.sizing["chart"]:
        for value in (row["min"], row["max"]):
            got = sizing.oversizing(fam, row["size"], {by: value})[metric]
            assert got is not None
            assert fam.rule(metric).evaluate(got) != "fail", (row, value, got)


def test_no_trade_names():
    for fam in load_catalogue().values():
        for text in (fam.id, fam.family, fam.description):
            low = text.lower()
            assert not [name for name in TRADE_NAMES if name in low], text


def test_fit_rule_bounds():
    rule = FitRule("oversizing_area_percent", fail_below=-10, caution_below=-5,
                   caution_above=20, fail_above=30, why="w")
    got = [rule.evaluate(v) for v in (-11, -7, 0, -5, 20, 25, 31)]
    assert got == ["fail", "caution", "pass", "pass", "pass", "caution", "fail"]
    assert rule.evaluate(None) == "caution" and rule.evaluate(float("nan")) == "caution"
    one_sided = FitRule("neo_lvot_area_mm2", fail_below=170, why="w")
    assert one_sided.evaluate(169) == "fail" and one_sided.evaluate(1e6) == "pass"


def test_sizes_and_lookup():
    fam = get_device("THV-Balloon")
    assert fam.size("26").nominal_diameter_mm == 26.0 and fam.size(26.0).label == "26"
    with pytest.raises(InputError, match="20, 23, 26, 29"):
        fam.size(27)
    with pytest.raises(InputError, match="thv-self-expanding"):
        get_device("tavi-valve")
    data = json.loads(json.dumps(fam.to_json()))
    assert data["sizes"] == [20, 23, 26, 29] and data["id"] == "thv-balloon"
    assert data["size_details"][2]["geometry"]["height_mm"] == 20.0


def _set(path, value):
    def change(d):
        *head, last = path
        for key in head:
            d = d[key]
        if value is _DELETE:
            del d[last]
        else:
            d[last] = value
    return change


_DELETE = object()


def _swap_chart(d):
    chart = d["sizing"]["chart"]
    chart[0], chart[1] = chart[1], chart[0]


CORRUPTIONS = [  # (change, words the message must contain)
    (_set(["family"], _DELETE), ["field 'family'", "missing"]),
    (_set(["colour"], "red"), ["field 'colour'", "unknown"]),
    (_set(["schema"], 2), ["'schema'"]),
    (_set(["id"], "other-valve"), ["'id'", "file name"]),
    (_set(["position"], "tricuspid"), ["'position'", "tricuspid"]),
    (_set(["sizes", 1, "min_diameter_mm"], 30.0), ["sizes[1]", "min_diameter_mm"]),
    (_set(["sizes", 0, "nominal_diameter_mm"], -20), ["sizes[0].nominal_diameter_mm", "positive"]),
    (_set(["sizes", 0, "size"], "big"), ["sizes[0].size", "number"]),
    (_set(["sizes", 2, "geometry", "height_mm"], _DELETE), ["sizes[2].geometry", "height_mm"]),
    (_set(["sizes", 0, "geometry", "rows"], 2.5), ["sizes[0].geometry.rows"]),
    (_set(["sizing", "by"], "annulus_volume_ml"), ["sizing.by", "annulus_volume_ml"]),
    (_set(["sizing", "chart", 2, "size"], 27), ["sizing.chart[2].size", "27"]),
    (_set(["sizing", "chart", 1, "min"], 500), ["sizing.chart[1].min", "above max"]),
    (_swap_chart, ["sizing.chart[1]", "ordered"]),
    (_set(["mechanics", "radial_stiffness"], 1.5), ["mechanics.radial_stiffness"]),
    (_set(["placement", "anchor"], "tricuspid_annulus"), ["placement.anchor"]),
    (_set(["placement", "sealing_zone_mm"], [0, 40]), ["placement.sealing_zone_mm"]),
    (_set(["fit_rules", 0, "metric"], "wobble"), ["fit_rules[0].metric", "wobble"]),
    (_set(["fit_rules", 0, "source"], "s99"), ["fit_rules[0].source", "s99"]),
    (_set(["fit_rules", 1, "fail_above"], 0.5), ["fit_rules[1]", "fail_below <="]),
    (_set(["fit_rules", 0, "why"], ""), ["fit_rules[0].why"]),
    (_set(["sources", 0, "url"], "doi:10.1/x"), ["sources[0].url"]),
]


@pytest.mark.parametrize("change,words", CORRUPTIONS)
def test_corrupted_file_names_file_and_field(tmp_path, change, words):
    data = copy.deepcopy(json.loads((FOLDER / "thv-balloon.json").read_text()))
    change(data)
    bad = tmp_path / "thv-balloon.json"
    bad.write_text(json.dumps(data))
    with pytest.raises(CatalogueError) as info:
        load_family(bad)
    message = str(info.value)
    assert "thv-balloon.json" in message
    for word in words:
        assert word in message, message
    assert isinstance(info.value, InputError) and info.value.exit_code == 2


def test_bad_json_and_folder(tmp_path):
    (tmp_path / "laa-plug.json").write_text('{"schema": 1,\n "id": ')
    with pytest.raises(CatalogueError, match=r"laa-plug\.json.*not valid JSON \(line 2"):
        load_catalogue(tmp_path)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(CatalogueError, match=r"no \*\.json"):
        load_catalogue(empty)
    with pytest.raises(CatalogueError, match="does not exist"):
        load_catalogue(tmp_path / "missing")


def test_valid_copy_loads_from_another_folder(tmp_path):
    for name in ("thv-balloon.json", "laa-plug.json"):
        (tmp_path / name).write_text((FOLDER / name).read_text())
    catalogue = load_catalogue(tmp_path)
    assert set(catalogue) == {"thv-balloon", "laa-plug"}
    assert math.isclose(catalogue["laa-plug"].size(27).min_diameter_mm, 18.9)
