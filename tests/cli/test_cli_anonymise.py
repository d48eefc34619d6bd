"""`hearttwin anonymise`: a de-identified copy that `info` still reads as the same volume."""

import json

import numpy as np
import pydicom

import dicom_factory as f
from hearttwin.cli import main
from hearttwin.core.imaging import load_volume


def test_anonymised_series_loads_identically(tmp_path, capsys):
    src = tmp_path / "export"
    vol = f.phantom((6, 10, 12))
    f.ct_series(vol, src, series_number=5, description="CTA heart")
    f.ct_series(f.phantom((3, 10, 12), seed=2), src / "scout", series_number=1,
                description="Topogram", image_type=("ORIGINAL", "PRIMARY", "LOCALIZER"))
    out = tmp_path / "anon"
    assert main(["anonymise", str(src), "-o", str(out), "--json", "-q"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["files"] == 6 and summary["series"] == "5"
    for path in out.iterdir():
        raw = path.read_bytes()
        for text in (f.PATIENT_NAME, f.PATIENT_ID, f.BIRTH_DATE, f.ACCESSION, f.INSTITUTION):
            assert text.encode() not in raw
        assert pydicom.dcmread(path).PatientIdentityRemoved == "YES"
    before, after = load_volume(src), load_volume(out)
    np.testing.assert_array_equal(before.array, after.array)
    assert before.origin == after.origin and before.spacing == after.spacing


def test_refuses_non_empty_output(tmp_path, capsys):
    f.ct_series(f.phantom((3, 4, 4)), tmp_path / "src")
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    assert main(["anonymise", str(tmp_path / "src"), "-o", str(out), "-q"]) == 2
    assert "is not empty" in capsys.readouterr().err
    assert (out / "keep.txt").read_text() == "mine"


def test_needs_output(tmp_path, capsys):
    f.ct_series(f.phantom((3, 4, 4)), tmp_path / "src")
    assert main(["anonymise", str(tmp_path / "src"), "-q"]) == 2
    assert "-o/--output" in capsys.readouterr().err
