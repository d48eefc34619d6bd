"""``hearttwin simulate --credibility -o report.html``: the report written for the sample case
(here a small phantom standing in for it through HEARTTWIN_SAMPLE), read back and checked against
independent runs; bad usage is bad input."""

import contextlib
import io
import json
import re
from html.parser import HTMLParser

import numpy as np
import pydicom
import pytest

from hearttwin.cli import main
from hearttwin.core.anatomy import measure_all
from hearttwin.core.imaging import load_volume
from hearttwin.core.segmentation.export import read_labels
from hearttwin.core.simulation import CirculationParams, simulate, summarise
from hearttwin.core.simulation.cycle import plan_cycle


class Cells(HTMLParser):
    """Table rows (lists of cell texts) keyed by caption."""

    def __init__(self):
        super().__init__()
        self.tables, self._rows, self._cell, self._caption = {}, None, None, ""

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self._rows = []
        elif tag == "tr":
            self._rows.append([])
        elif tag in ("td", "th", "caption"):
            self._cell = []

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)

    def handle_endtag(self, tag):
        if tag == "caption":
            self._caption, self._cell = "".join(self._cell), None
        elif tag in ("td", "th"):
            self._rows[-1].append("".join(self._cell))
            self._cell = None
        elif tag == "table":
            self.tables[self._caption] = self._rows


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sample")
    assert main(["phantom", str(folder), "--preset", "small", "--seed", "2", "--force", "-q"]) == 0
    return folder


@pytest.fixture(scope="module")
def run(sample, tmp_path_factory):
    out = tmp_path_factory.mktemp("report") / "credibility.html"
    stdout = io.StringIO()
    with pytest.MonkeyPatch.context() as mp, contextlib.redirect_stdout(stdout):
        mp.setenv("HEARTTWIN_SAMPLE", str(sample))
        code = main(["simulate", "--credibility", "-o", str(out), "--json", "-q"])
    assert code == 0
    text = out.read_text(encoding="utf-8")
    cells = Cells()
    cells.feed(text)
    return json.loads(stdout.getvalue()), text, cells.tables


def test_json_holds_every_part(run):
    res, _, _ = run
    assert {"context_of_use", "limits", "code_verification", "calculation_verification",
            "validation", "sensitivity", "plan", "seconds", "report"} <= set(res)
    assert res["report"] == "credibility.html"
    assert res["plan"]["device"]["id"] == "thv-balloon"
    cv = res["code_verification"]
    assert cv["volume_conservation"]["max_relative_drift"] < 1e-6
    assert 1.8 < cv["observed_order"]["order"] < 2.3
    assert set(res["sensitivity"]["factors"]) == {"segmentation", "position", "compliance", "pressure"}
    for key, value in res["sensitivity"]["nominal"].items():
        lo, hi = res["sensitivity"]["overall"][key + "_range"]
        assert lo <= value <= hi


def test_html_validation_rows_match_an_independent_simulation(run):
    _, _, tables = run
    s = summarise(simulate(CirculationParams()))
    expected = {"LV end-diastolic volume": s["lv"]["edv_ml"][0],
                "LV ejection fraction": s["lv"]["ef_percent"][0],
                "Aortic systolic pressure": s["aortic_pressure_mmhg"]["systolic"][0],
                "Cardiac output": s["cardiac_output_l_min"][0]}
    rows = {r[0]: r for r in tables["Default adult against published normal values"][1:]}
    for name, value in expected.items():
        shown = float(rows[name][1].split()[0])
        assert shown == pytest.approx(value, abs=0.051), name
        assert rows[name][-1] == "pass"
    assert 55 < expected["LV ejection fraction"] < 70  # and the model is physiological


def test_html_sensitivity_nominal_is_the_plan_over_the_cycle(run, sample):
    res, _, tables = run
    labels = read_labels(sample / "labels.nrrd")
    image = load_volume(sample / "dicom")
    plan = plan_cycle(labels, device_id="thv-balloon", measurements=measure_all(labels, image))
    worst = {k: v["value"] for k, v in plan["worst"].items()}
    rows = tables["Worst-phase fit metrics: nominal and intervals"]
    assert len(rows) > 4
    names = {"Oversizing by area (%)": "oversizing_area_percent",
             "Deepest penetration (mm)": "max_penetration_mm",
             "Valve to left coronary (mm)": "coronary_distance_left_mm"}
    for row in rows[1:]:
        if row[0] in names:
            key = names[row[0]]
            assert float(row[1]) == pytest.approx(worst[key], abs=0.006), key
            lo, hi = (float(x) for x in re.findall(r"-?\d+\.\d+", row[-1]))
            assert [lo, hi] == pytest.approx(res["sensitivity"]["overall"][key + "_range"])
            assert lo <= worst[key] <= hi


def test_html_is_self_contained_and_anonymised(run, sample):
    _, text, tables = run
    ds = pydicom.dcmread(next((sample / "dicom").iterdir()), stop_before_pixels=True)
    for secret in (str(ds.PatientName).split("^")[0], str(ds.PatientID)):
        assert secret and secret.lower() not in text.lower()
    assert "Anonymised report" in text
    assert not re.search(r"(src|href)=\"(https?:|//|file:)", text)
    images = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', text)
    assert len(images) == 4
    code = tables["Code verification"]
    assert len(code) == 8 and all(r[-1] == "pass" for r in code[1:])
    fit_steps = tables["Worst-phase fit metrics against the 0D time steps"]
    assert fit_steps[0][1:5] == ["50 steps/beat", "100 steps/beat", "200 steps/beat", "400 steps/beat"]
    over = next(r for r in fit_steps if r[0] == "Oversizing by area (%)")
    assert np.ptp([float(x) for x in over[1:5]]) < 1.0  # converged within a percentage point


@pytest.mark.parametrize("argv, message", [
    (["--credibility"], "-o REPORT.html"),
    (["--credibility", "-o", "r.pdf"], "HTML"),
    (["--credibility", "-o", "r.html", "--device", "no-such-device"], "no-such-device"),
    (["--device", "thv-balloon"], "--credibility"),
    (["--credibility", "-o", "r.html", "/no/such/case"], "does not exist"),
])
def test_bad_usage_is_bad_input(argv, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["simulate", "-q"] + argv) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "r.html").exists()
