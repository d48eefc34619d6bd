"""``hearttwin plan``: DESIGN.md JSON keys, the readable plan, pose options, bad input."""

import json

import numpy as np
import pytest

from hearttwin.cli import main
from hearttwin.core.phantom.generate import generate_phantom
from hearttwin.core.phantom.params import PhantomParams


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    import SimpleITK as sitk

    d = tmp_path_factory.mktemp("plan")
    p = generate_phantom(PhantomParams.sample(2, "small")).phases[0]
    sitk.WriteImage(p.labels.to_sitk(), str(d / "labels.nrrd"))
    sitk.WriteImage(p.image.to_sitk(), str(d / "ct.nrrd"))
    return d / "ct.nrrd", d / "labels.nrrd"


def test_plan_json_and_pose_file_round_trip(files, tmp_path, capsys):
    ct, labels = files
    out = tmp_path / "plan.json"
    args = ["plan", str(ct), "--labels", str(labels), "--device", "thv-balloon", "--static",
            "--json", "-q"]
    assert main(args + ["-o", str(out)]) == 0
    res = json.loads(capsys.readouterr().out)
    assert res == json.loads(out.read_text())
    assert res["device"]["id"] == "thv-balloon" and res["device"]["size"] == res["recommended_size"]
    metrics = res["phases"][0]["metrics"]
    for key in ("oversizing_area_percent", "oversizing_perimeter_percent", "apposition_percent",
                "max_gap_mm", "gap_area_mm2", "max_penetration_mm", "coronary_distance_left_mm",
                "coronary_distance_right_mm", "implant_depth_mm"):
        assert key in metrics
    assert res["overall"] in ("pass", "caution", "fail")
    # the saved plan's pose, moved 2 mm along the device axis, planned again
    pose = np.asarray(res["pose_lps"])
    pose[:3, 3] += 2.0 * pose[:3, 2]
    (tmp_path / "pose.json").write_text(json.dumps({"pose_lps": pose.tolist()}))
    assert main(args + ["--pose", str(tmp_path / "pose.json")]) == 0
    moved = json.loads(capsys.readouterr().out)
    assert moved["placement"]["depth_mm"] == pytest.approx(res["placement"]["depth_mm"] - 2.0, abs=0.01)


def test_plan_table_with_tilt(files, capsys):
    ct, labels = files
    assert main(["plan", str(ct), "--labels", str(labels), "--device", "thv-self-expanding",
                 "--size", "29", "--rotate", "6", "--static", "-q"]) == 0
    out = capsys.readouterr().out
    assert "Verdicts" in out and "Overall" in out
    assert "size 29" in out and "6.0 deg off the anchor axis" in out


@pytest.mark.parametrize("extra, message", [
    (["--device", "no-such-valve"], "no-such-valve"),
    (["--device", "thv-balloon", "--size", "27"], "27"),
    (["--device", "thv-balloon", "--move", "1,2"], "--move"),
])
def test_bad_input_is_one_line_and_exit_2(files, capsys, extra, message):
    ct, labels = files
    assert main(["plan", str(ct), "--labels", str(labels), "-q"] + extra) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]


def test_plan_saves_a_case_that_measure_and_plan_reopen(files, tmp_path, capsys):
    from hearttwin.core import casefile

    ct, labels = files
    case_path = tmp_path / "planned.htwin"
    assert main(["plan", str(ct), "--labels", str(labels), "--device", "thv-balloon", "--size",
                 "26", "--static", "-q", "-o", str(case_path)]) == 0
    case = casefile.load(case_path)
    assert case.devices[0]["id"] == "thv-balloon" and case.devices[0]["size"] == 26
    assert case.labels is not None and case.image is not None
    assert case.measurements["annulus"]["area_mm2"] > 0
    capsys.readouterr()
    assert main(["plan", str(case_path), "--device", "thv-balloon", "--size", "26", "--static",
                 "--json", "-q"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert np.allclose(again["pose_lps"], case.devices[0]["pose_lps"], atol=1e-4)
