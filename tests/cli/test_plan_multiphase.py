"""``hearttwin plan`` on a multi-phase CT: the motion comes from registering the phases.

A 4-phase phantom (small preset) is written as a real DICOM series (phase tags
included), read back by the CLI, and planned with the balloon-expandable valve.
The phantom's truth says how the anatomy really moves between the phases: the
chambers contract and fill (LV 131 -> 74 mL) while the aortic root stays where
it is. The registered motion must follow that, phase by phase.
"""

import json

import numpy as np
import pytest

from hearttwin.cli import main
from hearttwin.core.devices.plan import plan_static
from hearttwin.core.imaging import load_phases
from hearttwin.core.phantom.output import write_phantom
from hearttwin.core.phantom.params import PhantomParams
from hearttwin.core.segmentation.export import read_labels

N_PHASES = 4


@pytest.fixture(scope="module")
def phantom(tmp_path_factory):
    out = tmp_path_factory.mktemp("multiphase")
    write_phantom(PhantomParams.sample(7, "small", phases=N_PHASES, calcium=False), out)
    return out, json.loads((out / "truth.json").read_text())


@pytest.fixture(scope="module")
def registered(phantom):
    out, _ = phantom
    # an explicit --phases does not apply to a registered motion: a warning says so
    assert main(["plan", str(out / "dicom"), "--labels", str(out / "labels.nrrd"),
                 "--device", "thv-balloon", "--phases", "10", "--json", "-q",
                 "-o", str(out / "plan.json")]) == 0
    return json.loads((out / "plan.json").read_text())


def test_motion_is_registered_at_the_acquired_phases(registered, phantom):
    _, truth = phantom
    res = registered
    assert res["motion"]["method"] == "registration"
    assert res["motion"]["phases"] == N_PHASES
    # the phases' places in the cycle come from the DICOM cardiac-phase tags
    assert [r["phase"] for r in res["phases"]] == pytest.approx(truth["phases"])
    assert truth["phases"] == pytest.approx([0.0, 0.25, 0.5, 0.75])
    assert any("--phases 10 is not used" in w for w in res["warnings"])


def test_chamber_volumes_follow_the_phases(registered, phantom):
    _, truth = phantom
    vols = registered["motion"]["chamber_volumes_ml"]
    for key in ("LV", "RV", "LA", "RA"):
        want = np.array([p["volumes_ml"][key] for p in truth["per_phase"]])
        got = np.array(vols[key])
        assert np.all(np.abs(got / want - 1) < 0.06), (key, got, want)
        assert np.argmin(got) == np.argmin(want) and np.argmax(got) == np.argmax(want), key
    lv = np.array(vols["LV"])
    assert lv.max() / lv.min() > 1.5  # the ventricle really empties between the phases


def test_per_phase_fit_matches_each_phases_own_anatomy(registered, phantom):
    """The fit at phase k through the registered motion vs. a static fit (same device pose)
    against phase k's true label map."""
    out, _ = phantom
    res = registered
    images = load_phases(out / "dicom")
    annulus, oversizing = [], []
    for k, row in enumerate(res["phases"]):
        labels_k = read_labels(str(out / f"labels_phase{k:02d}.nrrd"))
        static = plan_static(labels_k, device_id="thv-balloon", size=res["device"]["size"],
                             image=images[k], pose=res["pose_lps"])
        want, got = static["phases"][0]["metrics"], row["metrics"]
        assert got["oversizing_area_percent"] == pytest.approx(want["oversizing_area_percent"],
                                                               abs=5.0), k
        assert got["implant_depth_mm"] == pytest.approx(want["implant_depth_mm"], abs=1.0), k
        for side in ("left", "right"):
            key = f"coronary_distance_{side}_mm"
            assert got[key] == pytest.approx(want[key], abs=1.0), (k, key)
        annulus.append(got["annulus_area_mm2"])
        oversizing.append(got["oversizing_area_percent"])
    # the metrics do change from phase to phase (they are not the CT phase's copied)...
    assert len(set(oversizing)) > 1
    # ...but only a little at the root, which does not move in this phantom, and the
    # reference phase is the CT as measured
    assert max(annulus) / min(annulus) < 1.05
    assert res["phases"][0]["metrics"]["annulus_area_mm2"] == pytest.approx(annulus[0])


def test_model_motion_flag(phantom, capsys):
    out, truth = phantom
    assert main(["plan", str(out / "dicom"), "--labels", str(out / "labels.nrrd"),
                 "--device", "thv-balloon", "--model-motion", "--phases", "4", "--json",
                 "-q"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert res["motion"]["method"] == "model"
    assert len(res["phases"]) == 4
    # the model follows the 0D circulation, not the acquired phases: its LV curve is not the
    # phantom's (which the registered motion matches within 6 %)
    lv = np.array(res["motion"]["chamber_volumes_ml"]["LV"])
    want = np.array([p["volumes_ml"]["LV"] for p in truth["per_phase"]])
    assert np.max(np.abs(lv / want - 1)) > 0.06


def test_a_folding_registration_falls_back_to_the_model(phantom, capsys, monkeypatch):
    from hearttwin.core.simulation.motion import HeartMotion, grid_around_heart

    def folding(images, labels, phases=None, **kwargs):
        grid = grid_around_heart(labels, 6.0, 10.0)
        nodes = grid.nodes_lps()
        fields = np.zeros((len(images), 3) + grid.shape, np.float32)
        flip = np.diag([1.0, -1.0, 1.0])  # a mirrored phase: negative Jacobian
        fields[1] = np.moveaxis((nodes - nodes.mean(axis=(0, 1, 2))) @ (flip - np.eye(3)).T, -1, 0)
        return HeartMotion(labels=labels, grid=grid, fields=fields, phases=np.asarray(phases),
                           method="registration")

    monkeypatch.setattr(HeartMotion, "from_phases", staticmethod(folding))
    out, _ = phantom
    assert main(["plan", str(out / "dicom"), "--labels", str(out / "labels.nrrd"),
                 "--device", "thv-balloon", "--phases", "4", "--json", "-q"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert res["motion"]["method"] == "model" and len(res["phases"]) == 4
    assert any("did not register into a fold-free motion" in w for w in res["warnings"])
