"""``hearttwin simulate``: JSON contract, personalisation options, label-map input, errors."""

import json

import pytest

from hearttwin.cli import main


def _json(capsys, argv):
    assert main(["simulate", "--json", "-q"] + argv) == 0
    return json.loads(capsys.readouterr().out)


def test_default_adult_json_keys(capsys):
    res = _json(capsys, [])
    assert {"heart_rate_bpm", "lv", "rv", "aortic_pressure_mmhg", "pulmonary_pressure_mmhg",
            "cardiac_output_l_min"} <= set(res)
    for side in ("lv", "rv"):
        assert {"edv_ml", "esv_ml", "sv_ml", "ef_percent"} <= set(res[side])
        c = res[side]
        assert c["sv_ml"] == pytest.approx(c["edv_ml"] - c["esv_ml"], abs=0.02)
    for key in ("aortic_pressure_mmhg", "pulmonary_pressure_mmhg"):
        p = res[key]
        assert p["systolic"] > p["mean"] > p["diastolic"] > 0
    assert 120 <= res["lv"]["edv_ml"] <= 140 and 4.5 <= res["cardiac_output_l_min"] <= 6
    assert res["steady_state_reached"] and res["beats_to_steady_state"] >= 2
    assert "pv_loops" not in res and res["warnings"] == []


def test_loops_flag_adds_pv_loops(capsys):
    res = _json(capsys, ["--loops", "--steps", "120"])
    loop = res["pv_loops"]["lv"]
    assert len(loop["volume_ml"]) == 121 == len(loop["pressure_mmhg"])
    assert max(loop["volume_ml"]) == pytest.approx(res["lv"]["edv_ml"], abs=0.01)
    assert len(res["waveforms"]["aortic_flow_ml_s"]) == 120


def test_personalised_from_options(capsys):
    res = _json(capsys, ["--heart-rate", "82", "--systolic", "145", "--diastolic", "88",
                         "--lv-edv", "175"])
    assert res["heart_rate_bpm"] == pytest.approx(82)
    assert res["lv"]["edv_ml"] == pytest.approx(175, rel=0.01)
    assert res["aortic_pressure_mmhg"]["diastolic"] == pytest.approx(88, rel=0.01)
    assert res["personalisation"]["converged"]
    assert res["personalisation"]["targets"]["lv_edv_ml"] == 175


def test_valve_and_shunt_options(capsys):
    res = _json(capsys, ["--aortic-eoa", "70", "--asd-area", "150"])
    assert res["valves"]["aortic"]["mean_gradient_mmhg"] > 40
    assert res["qp_qs"] > 1.3


def test_human_readable_output(capsys):
    assert main(["simulate", "-q", "--heart-rate", "60"]) == 0
    out = capsys.readouterr().out
    assert "EF" in out and "Cardiac output" in out and "60 bpm" in out


def test_label_map_gives_chamber_volumes(tmp_path, capsys):
    import SimpleITK as sitk

    from hearttwin.core.anatomy.chambers import measure_chambers
    from hearttwin.core.phantom.generate import generate_phantom
    from hearttwin.core.phantom.params import PhantomParams

    labels = generate_phantom(PhantomParams.sample(5, "small")).phases[0].labels
    sitk.WriteImage(labels.to_sitk(), str(tmp_path / "labels.nrrd"))
    truth, _ = measure_chambers(labels)
    res = _json(capsys, [str(tmp_path / "labels.nrrd")])
    targets = res["personalisation"]["targets"]
    assert targets["lv_edv_ml"] == pytest.approx(truth["LV"]["volume_ml"], abs=0.01)
    assert res["lv"]["edv_ml"] == pytest.approx(truth["LV"]["volume_ml"], rel=0.015)
    assert res["rv"]["edv_ml"] == pytest.approx(truth["RV"]["volume_ml"], rel=0.015)
    assert any("end-diastolic" in w for w in res["warnings"])


@pytest.mark.parametrize("argv", [["--heart-rate", "400"], ["--aortic-eoa", "0"],
                                  ["--lv-edv", "100", "--lv-esv", "150"],
                                  ["--systolic", "70", "--diastolic", "90"]])
def test_bad_input_exits_2(capsys, argv):
    assert main(["simulate", "-q"] + argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("hearttwin simulate:") and len(err.strip().splitlines()) == 1


def test_missing_path_exits_2(tmp_path, capsys):
    assert main(["simulate", "-q", str(tmp_path / "nope.nrrd")]) == 2


def test_output_file_has_the_loops(tmp_path, capsys):
    out = tmp_path / "sim.json"
    res = _json(capsys, ["-o", str(out)])
    assert "pv_loops" not in res
    saved = json.loads(out.read_text())
    assert saved["lv"] == res["lv"] and len(saved["pv_loops"]["rv"]["volume_ml"]) > 60


def test_labels_without_path_exits_2(tmp_path, capsys):
    assert main(["simulate", "-q", "--labels", str(tmp_path / "x.nrrd")]) == 2
