"""`hearttwin segment`: label map files that real readers open, aligned with the CT."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import highdicom as hd
import nrrd
import numpy as np
import pydicom
import pytest
import SimpleITK as sitk

from hearttwin.core.segmentation.labels import structures


def hearttwin(*args):
    return subprocess.run([sys.executable, "-m", "hearttwin", *map(str, args)], capture_output=True, text=True)


@pytest.fixture(scope="module")
def case(tmp_path_factory):
    out = tmp_path_factory.mktemp("seg") / "case"
    r = hearttwin("phantom", out, "--seed", 4, "--preset", "small", "-q")
    assert r.returncode == 0, r.stderr
    return out


@pytest.fixture(scope="module")
def segmented(case, tmp_path_factory):
    out = tmp_path_factory.mktemp("out")
    r = hearttwin("segment", case / "dicom", "-o", out / "heart.nrrd", "--json", "-q")
    assert r.returncode == 0, r.stderr
    return out, json.loads(r.stdout)


def test_json_keys_and_volumes(case, segmented):
    out, data = segmented
    assert set(data) >= {"structures", "myocardial_mass_g", "warnings", "seconds"}
    truth = json.loads((case / "truth.json").read_text())
    for s in structures():
        entry = data["structures"][s.key]
        assert entry["label"] == s.label
        expected = truth["structures"][s.key]["volume_ml"]
        assert entry["volume_ml"] == pytest.approx(expected, rel=0.15), s.key
    assert data["myocardial_mass_g"] == pytest.approx(data["structures"]["MYO"]["volume_ml"] * 1.05)
    assert data["seconds"] > 0


def test_label_map_aligned_with_ct_in_simpleitk_and_pynrrd(case, segmented):
    out, _ = segmented
    ct = sitk.ReadImage(str(case / "labels.nrrd"))  # same grid as the CT series
    labels = sitk.ReadImage(str(out / "heart.nrrd"))
    assert labels.GetSize() == ct.GetSize()
    np.testing.assert_allclose(labels.GetOrigin(), ct.GetOrigin(), atol=1e-3)
    np.testing.assert_allclose(labels.GetSpacing(), ct.GetSpacing(), atol=1e-4)
    arr, header = nrrd.read(str(out / "heart.nrrd"))
    assert header["space"] == "left-posterior-superior"
    np.testing.assert_array_equal(arr.transpose(2, 1, 0), sitk.GetArrayFromImage(labels))
    truth = sitk.GetArrayFromImage(ct)
    got = sitk.GetArrayFromImage(labels)
    lv_dice = 2 * np.sum((got == 1) & (truth == 1)) / (np.sum(got == 1) + np.sum(truth == 1))
    assert lv_dice > 0.9


def test_seg_nrrd_has_segment_names_and_colours(segmented):
    out, _ = segmented
    _, header = nrrd.read(str(out / "heart.seg.nrrd"))
    names = {header[f"Segment{i}_Name"] for i in range(7)}
    assert names == {s.name for s in structures()}
    values = {int(header[f"Segment{i}_LabelValue"]) for i in range(7)}
    assert values == set(range(1, 8))


def test_dicom_seg_references_the_series_and_passes_dciodvfy(case, segmented):
    out, _ = segmented
    seg = hd.seg.segread(out / "heart.dcm")
    assert len(seg.SegmentSequence) == 7
    source = pydicom.dcmread(next((case / "dicom").iterdir()), stop_before_pixels=True)
    assert seg.ReferencedSeriesSequence[0].SeriesInstanceUID == source.SeriesInstanceUID
    assert seg.SegmentSequence[0].SegmentAlgorithmType == "AUTOMATIC"
    exe = shutil.which("dciodvfy")
    if exe is None:
        pytest.skip("dciodvfy not installed (scripts/setup.sh --test installs it)")
    r = subprocess.run([exe, str(out / "heart.dcm")], capture_output=True, text=True)
    errors = [line for line in (r.stdout + r.stderr).splitlines() if line.startswith("Error")]
    assert errors == []


def test_seeded_mode_from_a_seeds_file(case, tmp_path):
    from scipy import ndimage

    from hearttwin.core.imaging import load_volume

    truth = load_volume(case / "labels.nrrd")
    seeds = {}
    for s in structures():
        mask = truth.array == s.label
        depth = ndimage.distance_transform_edt(mask)
        z, y, x = np.unravel_index(np.argmax(depth), mask.shape)  # deepest point, as a user clicks
        seeds[s.key] = [truth.index_to_lps([x, y, z]).tolist()]
    (tmp_path / "seeds.json").write_text(json.dumps(seeds))
    r = hearttwin("segment", case / "dicom", "-o", tmp_path / "s.nii.gz", "--also", "none",
                  "--seeds", tmp_path / "seeds.json", "--json", "-q")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["method"] != "auto" and data["missing"] == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.nii.gz", "seeds.json"]
    got = sitk.GetArrayFromImage(sitk.ReadImage(str(tmp_path / "s.nii.gz")))
    lv_dice = 2 * np.sum((got == 1) & (truth.array == 1)) / (np.sum(got == 1) + np.sum(truth.array == 1))
    assert lv_dice > 0.85


@pytest.mark.parametrize("content, message", [
    ("{not json", "is not valid JSON (line 1, column 2)"),
    ('{"XX": [[0, 0, 0]]}', "Unknown structure 'XX'"),
    ('{"LV": [[0, 0]]}', "is not an [x, y, z] point"),
    ('[]', "must be an object"),
])
def test_bad_seeds_file_exit_2(case, tmp_path, content, message):
    seeds = tmp_path / "seeds.json"
    seeds.write_text(content)
    r = hearttwin("segment", case / "dicom", "-o", tmp_path / "x.nrrd", "--seeds", seeds, "-q")
    assert r.returncode == 2
    assert message in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "x.nrrd").exists()


def test_bad_output_exit_2(case, tmp_path):
    r = hearttwin("segment", case / "dicom", "-o", tmp_path / "x.png", "-q")
    assert r.returncode == 2 and "Cannot tell the output format of x.png" in r.stderr
    r = hearttwin("segment", case / "dicom", "-o", tmp_path / "missing" / "x.nrrd", "-q")
    assert r.returncode == 2 and "does not exist" in r.stderr
