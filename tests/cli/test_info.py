"""`hearttwin info`: table, --json keys of DESIGN.md, --series, exit 2 on bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import SimpleITK as sitk

import dicom_factory as f

from hearttwin.cli import main  # noqa: E402

KEYS = {"description", "modality", "slices", "size", "spacing_mm", "origin_lps", "direction",
        "phases", "warnings", "selected"}


def _two_series(root: Path) -> Path:
    f.ct_series(f.phantom((12, 8, 8)), root / "a", spacing=(0.7, 0.7, 0.6), series_number=4,
                description="CTA 0.6")
    f.ct_series(f.phantom((12, 8, 8)), root / "b", spacing=(0.7, 0.7, 3.0), series_number=2,
                description="Ca score")
    return root


def test_json_keys_and_values(tmp_path, capsys):
    _two_series(tmp_path)
    assert main(["info", str(tmp_path), "--json", "-q"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [s["number"] for s in data["series"]] == [2, 4]
    for s in data["series"]:
        assert KEYS <= set(s)
        assert isinstance(s["warnings"], list) and len(s["direction"]) == 9
    chosen = [s for s in data["series"] if s["selected"]]
    assert len(chosen) == 1 and chosen[0]["description"] == "CTA 0.6"
    assert chosen[0]["size"] == [8, 8, 12] and chosen[0]["spacing_mm"] == [0.7, 0.7, 0.6]
    assert chosen[0]["origin_lps"] == [-10.0, -20.0, 30.0]


def test_series_option(tmp_path, capsys):
    _two_series(tmp_path)
    assert main(["info", str(tmp_path), "--json", "-q", "--series", "2"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [s["selected"] for s in data["series"]] == [True, False]


def test_table(tmp_path, capsys):
    _two_series(tmp_path)
    assert main(["info", str(tmp_path), "-q"]) == 0
    out = capsys.readouterr().out
    assert "Using series 4" in out and "Ca score" in out and "0.70 x 0.70 x 0.60" in out


def test_volume_file(tmp_path, capsys):
    img = sitk.GetImageFromArray(f.phantom((3, 4, 5)))
    sitk.WriteImage(img, str(tmp_path / "v.nii.gz"))
    assert main(["info", str(tmp_path / "v.nii.gz"), "--json", "-q"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["series"][0]["size"] == [5, 4, 3] and data["series"][0]["selected"]


def test_dicom_file(tmp_path, capsys):
    paths = f.ct_series(f.phantom((5, 8, 8)), tmp_path)
    assert main(["info", str(paths[0]), "--json", "-q"]) == 0
    assert json.loads(capsys.readouterr().out)["series"][0]["slices"] == 5


def test_bad_input_exit_2_one_line(tmp_path):
    (tmp_path / "x.txt").write_text("not an image")
    for path in (tmp_path / "missing", tmp_path / "x.txt"):
        proc = subprocess.run([sys.executable, "-m", "hearttwin", "info", str(path), "--json", "-q"],
                              capture_output=True, text=True, timeout=60)
        assert proc.returncode == 2
        assert proc.stdout == ""
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("hearttwin info: ")


def test_unknown_series_exit_2(tmp_path, capsys):
    _two_series(tmp_path)
    assert main(["info", str(tmp_path), "-q", "--series", "7"]) == 2
    assert "no series 7 here" in capsys.readouterr().err
