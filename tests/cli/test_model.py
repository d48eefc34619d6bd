"""`hearttwin model`: files per structure, --json keys, exit 2 on bad input."""

import json

import numpy as np
import pytest
import SimpleITK as sitk

from hearttwin.cli import main


@pytest.fixture(scope="module")
def label_map(tmp_path_factory):
    a = np.zeros((30, 32, 34), np.uint8)
    z, y, x = np.indices(a.shape)
    a[((x - 12) ** 2 + (y - 15) ** 2 + (z - 14) ** 2) <= 64] = 1             # LV
    a[(((x - 24) ** 2 + (y - 15) ** 2) <= 16) & (z > 4) & (z < 26)] = 6      # AO
    path = tmp_path_factory.mktemp("labels") / "labels.nrrd"
    img = sitk.GetImageFromArray(a)
    img.SetSpacing((0.9, 0.9, 1.2))
    img.SetOrigin((-20.0, 10.0, 50.0))
    sitk.WriteImage(img, str(path))
    return path


def test_model_writes_one_file_per_structure_with_json(label_map, tmp_path, capsys):
    out = tmp_path / "models"
    assert main(["model", str(label_map), "-o", str(out), "--json", "-q"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert sorted(p.name for p in out.iterdir()) == ["AO.stl", "LV.stl"]
    assert set(summary["structures"]) == {"LV", "AO"}
    assert summary["space"] == "LPS" and summary["format"] == "stl"
    for key, s in summary["structures"].items():
        for field in ("file", "triangles", "volume_ml", "voxel_volume_ml", "area_mm2",
                      "watertight", "manifold"):
            assert field in s
        assert s["watertight"] and s["manifold"]
        assert abs(s["volume_ml"] / s["voxel_volume_ml"] - 1) < 0.02
        assert (out / f"{key}.stl").stat().st_size == 84 + 50 * s["triangles"]


def test_model_options(label_map, tmp_path, capsys):
    out = tmp_path / "print"
    code = main(["model", str(label_map), "-o", str(out), "--labels", "lv", "--format", "ply",
                 "--print-ready", "--wall", "1.5", "--cut-plane=-9.2,23.5,66.8,0,0,1",
                 "--target-triangles", "2000", "--ras", "--json", "-q"])
    assert code == 0
    summary = json.loads(capsys.readouterr().out)
    assert list(summary["structures"]) == ["LV"] and summary["space"] == "RAS"
    lv = summary["structures"]["LV"]
    assert lv["watertight"] and lv["manifold"] and lv["volume_ml"] < 0.5 * lv["voxel_volume_ml"]
    assert b"RAS" in (out / "LV.ply").read_bytes()[:300]


def test_human_output(label_map, tmp_path, capsys):
    assert main(["model", str(label_map), "-o", str(tmp_path / "m"), "--labels", "6", "-q"]) == 0
    text = capsys.readouterr().out
    assert "AO" in text and "watertight" in text


@pytest.mark.parametrize("extra, message", [
    (["--labels", "LVX"], "Unknown structure"),
    (["--labels", "RV,LA"], "None of the requested"),
    (["--wall", "2"], "--print-ready"),
    (["--print-ready", "--cut-plane", "1,2,3"], "six numbers"),
])
def test_bad_options_exit_2(label_map, tmp_path, capsys, extra, message):
    assert main(["model", str(label_map), "-o", str(tmp_path / "x"), "-q", *extra]) == 2
    assert message in capsys.readouterr().err


def test_bad_inputs_exit_2(tmp_path, capsys):
    assert main(["model", str(tmp_path / "missing.nrrd"), "-o", str(tmp_path / "x"), "-q"]) == 2
    ct = tmp_path / "ct.nrrd"
    sitk.WriteImage(sitk.GetImageFromArray(np.full((8, 8, 8), -1000, np.int16)), str(ct))
    assert main(["model", str(ct), "-o", str(tmp_path / "x"), "-q"]) == 2
    assert "not a label map" in capsys.readouterr().err
    empty = tmp_path / "empty.nrrd"
    sitk.WriteImage(sitk.GetImageFromArray(np.zeros((8, 8, 8), np.uint8)), str(empty))
    assert main(["model", str(empty), "-o", str(tmp_path / "x"), "-q"]) == 2
    assert "no labels" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:  # usage error from argparse
        main(["model", "-o", str(tmp_path / "x")])
    assert exc.value.code == 2
