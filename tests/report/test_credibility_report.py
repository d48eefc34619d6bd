"""The credibility report: every section, figures from the computed evidence, one self-contained
anonymised HTML file (read back and parsed)."""

import base64
import copy
import re
import struct
from html.parser import HTMLParser

import pytest

from hearttwin.core.simulation import verification as ver
from hearttwin.core.simulation.sensitivity import intervals
from hearttwin.report import scrub, secret_strings
from hearttwin.report.credibility import build_credibility_report, write_credibility_html

METRICS = ("oversizing_area_percent", "max_gap_mm", "coronary_distance_left_mm")


class Tables(HTMLParser):
    """Tables (caption -> rows of cell texts), section ids and image sources of an HTML file."""

    def __init__(self):
        super().__init__()
        self.tables, self.sections, self.images = {}, [], []
        self._rows = self._cell = self._caption = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "table":
            self._rows, self._caption = [], ""
        elif tag == "caption":
            self._cell = []
        elif tag == "tr":
            self._rows.append([])
        elif tag in ("td", "th"):
            self._cell = []
        elif tag == "section":
            self.sections.append(a["id"])
        elif tag == "img":
            self.images.append(a["src"])

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
            self._rows = None


def _fake_plan_figures():
    nominal = {"oversizing_area_percent": 12.5, "max_gap_mm": 0.4, "coronary_distance_left_mm": 4.1}
    runs = {"segmentation": [{"oversizing_area_percent": 11.0, "max_gap_mm": 0.9,
                              "coronary_distance_left_mm": 3.6}],
            "position": [{"oversizing_area_percent": 12.5, "max_gap_mm": 1.7,
                          "coronary_distance_left_mm": 3.1}],
            "compliance": [{"oversizing_area_percent": 9.8, "max_gap_mm": 0.5,
                            "coronary_distance_left_mm": 4.0}],
            "pressure": [{"oversizing_area_percent": 13.9, "max_gap_mm": 0.4,
                          "coronary_distance_left_mm": 4.2}]}
    factors = {f: {"runs": [{"label": f"{f} run", "metrics": r[0]}], "intervals": intervals(nominal, r)}
               for f, r in runs.items()}
    every = [r[0] for r in runs.values()]
    sens = {"device": {"id": "thv-balloon", "family": "Valve", "size": 26}, "n_phases": 20,
            "position_mm": 1.0, "nominal": nominal, "factors": factors,
            "overall": intervals(nominal, every), "seconds": 3.0,
            "annulus_area_mm2": 440.0, "annulus_area_mm2_range": [400.0, 480.0]}
    study = {m: [nominal[m] + d for d in (0.3, 0.1, 0.0)] for m in METRICS}
    fit = {"time_step": {"steps_per_beat": [50, 100, 200], "worst": study,
                         "difference_from_finest": {m: [0.3, 0.1, 0.0] for m in METRICS}},
           "phase_count": {"n_phases": [5, 10, 20], "worst": study,
                           "difference_from_finest": {m: [0.3, 0.1, 0.0] for m in METRICS}}}
    return sens, fit


@pytest.fixture(scope="module")
def figures():
    sens, fit = _fake_plan_figures()
    return {"context_of_use": ver.CONTEXT_OF_USE, "limits": list(ver.LIMITS),
            "code_verification": ver.code_verification(), "validation": ver.validation(),
            "calculation_verification": {"circulation": ver.step_convergence_0d(steps=(50, 100, 200)),
                                         "fit": fit},
            "sensitivity": sens, "seconds": 12.0,
            "plan": {"device": sens["device"], "n_phases": 20}}


def _written(figures, tmp_path, name="c.html", **kw):
    report = build_credibility_report(figures, version="9.9", **kw)
    path = write_credibility_html(report, tmp_path / name)
    text = path.read_text(encoding="utf-8")
    parsed = Tables()
    parsed.feed(text)
    return report, text, parsed


def test_every_section_and_self_contained(figures, tmp_path):
    _, text, parsed = _written(figures, tmp_path)
    assert parsed.sections == ["context", "code_verification", "calculation_verification",
                               "validation", "sensitivity", "provenance"]
    assert not re.search(r"(src|href)=\"(https?:|//|file:)", text) and "<script" not in text
    assert len(parsed.images) == 4  # observed order, two convergence plots, intervals
    for src in parsed.images:
        assert src.startswith("data:image/png;base64,")
        png = base64.b64decode(src.split(",", 1)[1])
        assert png[:8] == b"\x89PNG\r\n\x1a\n"
        width, height = struct.unpack(">II", png[16:24])
        assert width > 300 and height > 150
    assert "Context of use" in text and "does not make or replace a clinical decision" in text


def test_tables_show_the_computed_figures(figures, tmp_path):
    _, text, parsed = _written(figures, tmp_path)
    code = parsed.tables["Code verification"]
    wk = figures["code_verification"]["windkessel_decay"]
    assert f"relative error {wk['relative_error']:.1e}" in code[1][1]
    order = figures["code_verification"]["observed_order"]["order"]
    assert any(row[1] == f"order {order:.2f}" and row[3] == "pass" for row in code[1:])
    val = parsed.tables["Default adult against published normal values"]
    for row, fig in zip(val[1:], figures["validation"]["rows"]):
        assert row[0] == fig["quantity"] and row[1].startswith(f"{fig['value']:.1f}")
        assert row[-1] == "pass"
    sens = parsed.tables["Worst-phase fit metrics: nominal and intervals"]
    assert sens[0][1:] == ["Nominal", "Segmentation +-1 voxel", "Position +-1 mm",
                           "Root compliance", "Blood pressure", "All runs"]
    gap = next(r for r in sens if r[0] == "Largest gap (mm)")
    assert gap[1:] == ["0.40", "[0.40, 0.90]", "[0.40, 1.70]", "[0.40, 0.50]", "[0.40, 0.40]",
                       "[0.40, 1.70]"]
    assert "400-480 mm2" in text  # the annulus measurement's own one-voxel range
    assert "Verification and validation checks passed: 17 of 17." in text


def test_a_failed_check_is_shown_as_failed(figures, tmp_path):
    bad = copy.deepcopy(figures)
    bad["validation"]["rows"][0].update(value=260.0, passed=False)
    bad["code_verification"]["volume_conservation"].update(max_relative_drift=3e-4, passed=False)
    _, text, parsed = _written(bad, tmp_path)
    val = parsed.tables["Default adult against published normal values"]
    assert val[1][1].startswith("260.0") and val[1][-1] == "fail"
    code = parsed.tables["Code verification"]
    row = next(r for r in code if r[0].startswith("Blood volume over 20 beats, normal"))
    assert row[1] == "max relative drift 3.0e-04" and row[3] == "fail"
    assert "checks passed: 15 of 17" in text and "LV end-diastolic volume" in text.split("Failed:")[1]


def test_identifiers_never_reach_the_file(figures, tmp_path):
    report = build_credibility_report(figures, case="DOE^JANE, ID HT-778899")
    n = scrub(report, secret_strings({"patient_name": "DOE^JANE", "patient_id": "HT-778899"}))
    assert n >= 2
    text = write_credibility_html(report, tmp_path / "anon.html").read_text()
    for secret in ("DOE", "JANE", "HT-778899"):
        assert secret not in text
    assert "Anonymised report" in text
