"""``hearttwin --self-test``: the whole pipeline on the sample case, and its failure reporting."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from hearttwin import selftest
from hearttwin.core.imaging import load_volume
from hearttwin.core.segmentation.labels import label_volumes_ml
from hearttwin.core.segmentation.result import SegmentationResult

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_dicom"


def _headless_env(**extra):
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env.update(extra)
    return env


def _run(*args, **env):
    return subprocess.run([sys.executable, "-m", "hearttwin", "--self-test", *args], capture_output=True,
                          text=True, env=_headless_env(**env), timeout=600)


def _step_lines(stdout: str) -> dict[str, str]:
    lines = {}
    for line in stdout.splitlines():
        word = line[:4]
        if word in ("PASS", "FAIL", "SKIP"):
            lines[line.split()[1]] = word
    return lines


def test_whole_pipeline_passes_from_source(tmp_path):
    out = tmp_path / "selftest"
    proc = _run("-o", str(out))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert _step_lines(proc.stdout) == {step: "PASS" for step in selftest.STEPS}
    assert f"Self-test passed: {len(selftest.STEPS)}/{len(selftest.STEPS)}" in proc.stdout
    # the outputs are real: one STL per structure, a plan with a verdict, a PDF and an HTML report
    assert sorted(p.name for p in (out / "models").glob("*.stl")) == [f"label_{i}.stl" for i in range(1, 8)]
    plan = json.loads((out / "plan.json").read_text())
    assert plan["device"]["id"] == selftest.DEVICE[0] and plan["overall"] in ("pass", "caution", "fail")
    assert (out / "report.pdf").read_bytes()[:5] == b"%PDF-"
    assert (out / "report.html").stat().st_size > 10_000


def test_unreadable_sample_fails_and_skips_what_depends_on_it(tmp_path):
    (tmp_path / "dicom").mkdir()
    (tmp_path / "dicom" / "slice.dcm").write_bytes(b"not a DICOM file")
    proc = _run("--steps", "segment,simulate", HEARTTWIN_SAMPLE=str(tmp_path))
    assert proc.returncode == 1
    assert _step_lines(proc.stdout) == {"load": "FAIL", "segment": "SKIP", "simulate": "PASS"}
    assert "Self-test FAILED: 1/3" in proc.stdout


def test_unknown_step_is_bad_usage():
    proc = _run("--steps", "load,dance")
    assert proc.returncode == 2
    assert "dance" in proc.stderr


def test_segment_step_compares_volumes_with_the_truth(tmp_path, monkeypatch):
    truth_labels = load_volume(SAMPLE / "labels.nrrd")
    truth_labels.array = np.asarray(truth_labels.array).astype(np.uint8)
    fake = SegmentationResult(labels=truth_labels, warnings=[], missing=[], seconds=0.0, method="auto")
    monkeypatch.setattr("hearttwin.core.segmentation.auto.segment_heart", lambda volume, **kw: fake)
    volumes = label_volumes_ml(truth_labels.array, truth_labels.spacing)
    truth = {"structures": {k: {"volume_ml": v["volume_ml"]} for k, v in volumes.items()}}
    (tmp_path / "truth.json").write_text(json.dumps(truth))
    ctx = selftest.Context(sample=tmp_path, out=tmp_path, results={"image": truth_labels})
    assert "within 0% of the truth" in selftest.step_segment(ctx)

    truth["structures"]["LV"]["volume_ml"] *= 2  # the segmentation is now half the true LV
    (tmp_path / "truth.json").write_text(json.dumps(truth))
    with pytest.raises(selftest.StepFailed, match="LV volume .* 50% off"):
        selftest.step_segment(ctx)


def test_failed_step_is_reported_and_later_steps_still_run(monkeypatch, capsys):
    def broken(ctx):
        raise selftest.StepFailed("the probe went wrong")

    monkeypatch.setitem(selftest.RUNNERS, "simulate", broken)
    monkeypatch.setitem(selftest.RUNNERS, "window", lambda ctx: "fine")
    passed = selftest.run_steps(selftest.Context(sample=SAMPLE, out=Path(".")), ["simulate", "window"], sys.stdout)
    assert passed == {"simulate": False, "window": True}
    out = capsys.readouterr().out
    assert "FAIL  simulate" in out and "the probe went wrong" in out and "PASS  window" in out
