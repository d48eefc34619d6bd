"""Report building blocks: anonymisation scrub, identifiers, plots."""

import io

import numpy as np
import pytest

from hearttwin.report.content import REMOVED, Paragraph, Report, Section, Table, scrub
from hearttwin.report.identifiers import display_name, read_identifiers, secret_strings
from hearttwin.report.plots import fit_by_level, loops_of, metric_vs_phase, pv_loops


def _report(*texts):
    return Report("t", "s", None, [Section("a", "A", [Paragraph(t) for t in texts] +
                                           [Table(["k", "v"], [["Name", texts[0]]])])])


def test_scrub_removes_every_form_but_not_inside_words():
    ids = {"patient_name": "LI^WEI", "birth_date": "19600304", "patient_id": "P-77"}
    secrets = secret_strings(ids)
    assert {"LI", "WEI", "LI, WEI", "1960-03-04", "04/03/1960", "P-77"} <= set(secrets)
    r = _report("Patient LI, WEI (P-77), born 1960-03-04", "Limitations: none; Weight 70")
    assert scrub(r, secrets) >= 4
    text = "\n".join(r.texts())
    assert "WEI" not in text and "P-77" not in text and "1960" not in text
    assert "Limitations" in text and "Weight" in text and REMOVED in text
    assert display_name("DOE^JANE^Q") == "DOE, JANE Q"


def test_read_identifiers_from_a_dicom_folder(tmp_path):
    from hearttwin.core.imaging.dicom_write import new_study, write_ct_series
    from hearttwin.core.imaging.volume import Volume

    study = new_study("ZORRO^ALBA", "ID-4471", date="20230105")
    study["AccessionNumber"] = "ACC-9"
    vol = Volume(np.zeros((3, 8, 8), np.int16), (1.0, 1.0, 2.0), (0.0, 0.0, 0.0), np.eye(3))
    write_ct_series(vol, tmp_path / "ct", study=study)
    (tmp_path / "ct" / "notes.txt").write_text("not dicom")
    ids = read_identifiers(tmp_path / "ct")
    assert ids["patient_name"] == "ZORRO^ALBA" and ids["patient_id"] == "ID-4471"
    assert ids["accession_number"] == "ACC-9" and ids["study_date"] == "20230105"
    assert read_identifiers(tmp_path / "missing") == {}


def _png_shape(data):
    from matplotlib.image import imread

    return imread(io.BytesIO(data), format="png").shape


def test_plots():
    phases = [{"phase": p, "metrics": {"apposition_percent": 90 + 5 * np.sin(6.28 * p), "max_gap_mm": 1.0},
               "levels": [{"z_mm": z, "apposition_percent": 80.0, "max_gap_mm": 1.0,
                           "max_penetration_mm": 0.5} for z in (0.0, 1.0, 2.0)]} for p in np.arange(0, 1, 0.1)]
    plan = {"phases": phases, "verdicts": [{"rule": "apposition_percent", "bounds": {"caution_below": 90.0}}]}
    assert _png_shape(metric_vs_phase(plan))[0] > 100
    assert metric_vs_phase({"phases": phases[:1]}) is None  # one phase: no curve to draw
    assert _png_shape(fit_by_level(plan))[1] > 300
    loop = {"pv_loops": {"lv": {"volume_ml": [120, 120, 50, 50, 120], "pressure_mmhg": [8, 120, 110, 5, 8]}}}
    assert set(loops_of({"before": loop, "after": loop})) == {"before", "after"}
    assert set(loops_of(loop)) == {"simulated"}
    assert pv_loops(None) is None and pv_loops({"lv": {}}) is None
    assert _png_shape(pv_loops({"before": loop, "after": loop}))[0] > 100


def test_table_checks_its_shape():
    with pytest.raises(ValueError):
        Table(["a", "b"], [["1"]])
    with pytest.raises(ValueError):
        Table(["a"], [["1"]], status=["pass", "fail"])
