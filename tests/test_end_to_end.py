"""The foundation's promises, end to end through the real command line and readers.

`hearttwin phantom` writes a series that `hearttwin info`, SimpleITK and
dciodvfy read without errors, with the geometry that truth.json states; the
bundled sample case is one CT series with the right geometry; a multi-phase
phantom comes back as its phases, in order.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import SimpleITK as sitk

from hearttwin.core.imaging import load_phases, load_volume

ROOT = Path(__file__).resolve().parents[1]


def hearttwin(*args, check=True):
    r = subprocess.run([sys.executable, "-m", "hearttwin", *map(str, args)], capture_output=True, text=True)
    if check:
        assert r.returncode == 0, r.stderr
    return r


def assert_geometry(series: dict, geometry: dict):
    assert series["size"] == geometry["size"]
    np.testing.assert_allclose(series["spacing_mm"], geometry["spacing_mm"], atol=1e-4)
    np.testing.assert_allclose(series["origin_lps"], geometry["origin_lps"], atol=1e-3)
    np.testing.assert_allclose(series["direction"], geometry["direction"], atol=1e-6)


@pytest.fixture(scope="module")
def phantom_seed7(tmp_path_factory):
    out = tmp_path_factory.mktemp("p") / "p7"
    hearttwin("phantom", out, "--seed", 7, "--preset", "small", "-q")
    return out


def test_phantom_series_reads_back_everywhere(phantom_seed7):
    truth = json.loads((phantom_seed7 / "truth.json").read_text())
    info = json.loads(hearttwin("info", phantom_seed7 / "dicom", "--json", "-q").stdout)
    assert len(info["series"]) == 1
    series = info["series"][0]
    assert series["selected"] and series["modality"] == "CT" and series["phases"] == 1
    assert series["warnings"] == []
    assert_geometry(series, truth["geometry"])

    reader = sitk.ImageSeriesReader()
    names = reader.GetGDCMSeriesFileNames(str(phantom_seed7 / "dicom"))
    reader.SetFileNames(names)
    img = reader.Execute()
    assert list(img.GetSize()) == truth["geometry"]["size"]
    np.testing.assert_allclose(img.GetOrigin(), truth["geometry"]["origin_lps"], atol=1e-3)
    ours = load_volume(phantom_seed7 / "dicom")
    np.testing.assert_array_equal(ours.array, sitk.GetArrayFromImage(img))

    labels = sitk.ReadImage(str(phantom_seed7 / "labels.nrrd"))
    assert labels.GetSize() == img.GetSize()
    np.testing.assert_allclose(labels.GetOrigin(), img.GetOrigin(), atol=1e-3)
    # contrast-filled LV blood is bright in the image the loader returns
    lv = sitk.GetArrayFromImage(labels) == 1
    assert 200 < float(np.median(ours.array[lv])) < 600


def _dciodvfy_or_skip():
    exe = shutil.which("dciodvfy")
    if exe is None:
        if os.environ.get("CI"):
            pytest.fail("dciodvfy (Debian package dicom3tools) is missing: scripts/setup.sh --test installs it")
        pytest.skip("dciodvfy not installed (scripts/setup.sh --test installs it)")
    return exe


def test_phantom_series_passes_dciodvfy(phantom_seed7):
    exe = _dciodvfy_or_skip()
    files = sorted((phantom_seed7 / "dicom").iterdir())
    for path in files[:: max(1, len(files) // 5)]:
        r = subprocess.run([exe, str(path)], capture_output=True, text=True)
        errors = [line for line in (r.stdout + r.stderr).splitlines() if line.startswith("Error")]
        assert errors == [], f"{path.name}: {errors}"


def test_sample_case_is_one_ct_series_with_truth_geometry():
    truth = json.loads((ROOT / "sample_dicom" / "truth.json").read_text())
    info = json.loads(hearttwin("info", ROOT / "sample_dicom", "--json", "-q").stdout)
    assert len(info["series"]) == 1
    series = info["series"][0]
    assert series["selected"] and series["modality"] == "CT" and series["slices"] == truth["dicom"]["files"]
    assert_geometry(series, truth["geometry"])
    # the truth file, label map and README sit beside the series: skipped, not errors
    assert sum(s["files"] for s in info["skipped"]) == 3


def test_sample_case_is_small_and_synthetic():
    size = sum(p.stat().st_size for p in (ROOT / "sample_dicom").rglob("*") if p.is_file())
    assert size < 25 * 2**20
    assert "synthetic" in (ROOT / "sample_dicom" / "README.md").read_text().lower()


def test_start_command_opens_the_sample_case(tmp_path):
    """`hearttwin PATH` (what scripts/start.sh runs) opens the window on the case: with
    HEARTTWIN_EXIT_WHEN_LOADED the window reports the loaded series and quits."""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "HEARTTWIN_EXIT_WHEN_LOADED": "1",
           "HEARTTWIN_DATA_DIR": str(tmp_path)}
    r = subprocess.run([sys.executable, "-m", "hearttwin", str(ROOT / "sample_dicom")],
                       capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 0, r.stderr
    assert "loaded 256 x 256 x 144" in r.stdout


def test_multiphase_phantom_loads_as_ordered_phases(tmp_path):
    out = tmp_path / "cine"
    hearttwin("phantom", out, "--seed", 3, "--preset", "small", "--phases", 4, "--no-calcium", "-q")
    info = json.loads(hearttwin("info", out, "--json", "-q").stdout)
    (series,) = [s for s in info["series"] if s["selected"]]
    assert series["phases"] == 4
    volumes = load_phases(out / "dicom")
    assert len(volumes) == 4
    label_files = sorted(out.glob("labels_phase*.nrrd"))
    assert len(label_files) == 4
    lvs = [sitk.GetArrayFromImage(sitk.ReadImage(str(p))) == 1 for p in label_files]
    # the bright (contrast) voxels of phase k's image match phase k's LV label
    # best: a mix-up of phases, or slices of two phases interleaved, breaks it
    region = np.logical_or.reduce(lvs)
    agreement = np.array([[np.mean((v.array[region] > 250) == lv[region]) for lv in lvs] for v in volumes])
    assert list(np.argmax(agreement, axis=1)) == [0, 1, 2, 3]
    assert np.all(np.diag(agreement) > 0.95)
