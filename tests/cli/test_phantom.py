"""`hearttwin phantom` end to end through a subprocess."""

import json
import subprocess
import sys

import numpy as np
import SimpleITK as sitk


def run(*args):
    return subprocess.run([sys.executable, "-m", "hearttwin", "phantom", *args],
                          capture_output=True, text=True, timeout=120)


def test_phantom_small_json(tmp_path):
    out = tmp_path / "case"
    res = run(str(out), "--preset", "small", "--seed", "4", "--phases", "2", "--json", "-q")
    assert res.returncode == 0, res.stderr
    summary = json.loads(res.stdout)
    for key in ("output", "dicom_dir", "dicom_files", "labels", "truth", "size", "spacing_mm",
                "structures", "annulus", "coronary_ostia", "phases", "lv"):
        assert key in summary
    assert summary["phases"] == [0.0, 0.5]
    nx, ny, nz = summary["size"]
    assert summary["dicom_files"] == 2 * nz == len(list((out / "dicom").glob("*.dcm")))
    for name in ("labels.nrrd", "labels_phase00.nrrd", "labels_phase01.nrrd", "truth.json"):
        assert (out / name).is_file()
    truth = json.loads((out / "truth.json").read_text())
    labels = sitk.ReadImage(str(out / "labels.nrrd"))
    assert labels.GetPixelID() == sitk.sitkUInt8
    arr = sitk.GetArrayFromImage(labels)
    voxel = float(np.prod(labels.GetSpacing()))
    for name, s in truth["structures"].items():
        assert abs(s["volume_ml"] - np.count_nonzero(arr == s["label"]) * voxel / 1000) < 1e-9
    assert truth["myocardial_mass_g"] == truth["structures"]["MYO"]["volume_ml"] * 1.05
    assert truth["seed"] == 4 and truth["parameters"]["seed"] == 4
    assert len(truth["per_phase"]) == 2
    np.testing.assert_allclose(labels.GetOrigin(), truth["geometry"]["origin_lps"])


def test_phantom_refuses_non_empty_folder(tmp_path):
    (tmp_path / "something.txt").write_text("keep me")
    res = run(str(tmp_path), "--preset", "small", "-q")
    assert res.returncode == 2
    assert "not empty" in res.stderr and "--force" in res.stderr
    assert (tmp_path / "something.txt").read_text() == "keep me"


def test_phantom_bad_spacing(tmp_path):
    res = run(str(tmp_path / "x"), "--spacing", "1,2", "-q")
    assert res.returncode == 2
    assert "--spacing" in res.stderr
