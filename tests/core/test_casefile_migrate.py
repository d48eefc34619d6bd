"""Format versions: a fixture file per version opens to the same case; newer majors are refused."""

import hashlib
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

from hearttwin.core import casefile, casefile_migrate
from hearttwin.core.casefile_migrate import NewerFormatError, migrate, pose_from_axis
from hearttwin.core.errors import CorruptDataError, UnsupportedDataError

FIXTURES = Path(__file__).parent / "fixtures" / "casefiles"
VERSIONS = ["0.8", "0.9", "1.0"]


def test_there_is_a_fixture_for_every_version_the_reader_knows():
    known = set(casefile_migrate.MIGRATIONS) | {casefile_migrate.CURRENT}
    assert {p.stem.removeprefix("case-v") for p in FIXTURES.glob("case-v*.htwin")} == known
    assert all(p.stat().st_size < 8192 for p in FIXTURES.glob("*.htwin"))


@pytest.mark.parametrize("version", VERSIONS)
def test_every_version_opens_to_the_same_case(version):
    case = casefile.load(FIXTURES / f"case-v{version}.htwin")
    assert case.case_id == "0123456789abcdef0123456789abcdef"
    assert case.labels.array.shape == (8, 8, 8) and np.bincount(case.labels.array.ravel()).tolist()[:2] == [416, 48]
    assert int((case.labels.array == 6).sum()) == 48
    assert case.image.array.dtype == np.int16 and int(case.image.array[0, 0, 0]) == -100
    assert np.allclose(case.image.spacing, (0.8, 0.8, 1.0)) and np.allclose(case.labels.origin, (-10, -20, 30))
    assert case.landmarks == {"annulus_centre": [1.0, 2.0, 3.0]}
    assert case.measurements == {"annulus": {"area_mm2": 452.4, "perimeter_mm": 76.1}}
    (device,) = case.devices
    pose = np.asarray(device["pose_lps"])
    assert device["id"] == "balloon-expandable-thv" and device["size"] == 26
    assert np.allclose(pose[:3, 3], [1, 2, 3]) and np.allclose(pose[:3, 2], [0, 0.6, 0.8])
    assert np.allclose(pose[:3, :3].T @ pose[:3, :3], np.eye(3)) and np.linalg.det(pose[:3, :3]) == pytest.approx(1)
    steps = case.history.to_list()
    assert steps[0]["name"] == "segment_auto" and steps[0]["params"] == {"preset": "default", "smoothing_mm": 0.5}
    if version == "1.0":
        assert len(steps) == 1 and not case.dirty and case.warnings == []
        assert case.simulation["params"] == {"heart_rate_bpm": 70}
    else:  # migrated: recorded in the history, the user is told, saving writes the new format
        assert steps[-1]["name"] == "migrate_case_format"
        assert steps[-1]["params"] == {"from": version, "to": "1.0"}
        assert case.dirty and "older case format" in case.warnings[0]
        assert case.simulation == {"params": {}, "results": {}}


def test_migration_goes_step_by_step(tmp_path):
    doc = json.loads(zipfile.ZipFile(FIXTURES / "case-v0.8.htwin").read("case.json"))
    out, applied, _ = migrate(doc, "0.8")
    assert applied == ["0.9", "1.0"]
    assert "measures" not in out and "steps" not in out and isinstance(out["landmarks"], dict)
    mid, applied, _ = migrate(doc, "0.8", current="0.9")
    assert applied == ["0.9"] and mid["measures"] == doc["measures"] and mid["landmarks"] == {
        "annulus_centre": [1.0, 2.0, 3.0]}


def test_a_migrated_case_saves_in_the_current_format(tmp_path):
    case = casefile.load(FIXTURES / "case-v0.9.htwin")
    path = casefile.save(case, tmp_path / "new.htwin")
    assert casefile.read_manifest(path)["format_version"] == "1.0"
    again = casefile.load(path)
    assert again.devices == case.devices and not again.dirty and again.warnings == []


def test_pose_from_axis_is_a_right_handed_frame():
    for axis in ([0, 0, 1], [1, 0, 0], [0.3, -0.4, 0.866]):
        pose = np.asarray(pose_from_axis([5, 6, 7], axis))
        r = pose[:3, :3]
        assert np.allclose(r.T @ r, np.eye(3)) and np.linalg.det(r) == pytest.approx(1.0)
        assert np.allclose(r[:, 2], np.asarray(axis) / np.linalg.norm(axis)) and np.allclose(pose[:3, 3], [5, 6, 7])


def _rewrite(src: Path, dst: Path, version: str) -> Path:
    """A copy of ``src`` claiming another format version (hashes kept valid)."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        manifest = json.loads(zin.read("manifest.json"))
        manifest["format_version"] = version
        for name in zin.namelist():
            if name != "manifest.json":
                zout.writestr(name, zin.read(name))
        zout.writestr("manifest.json", json.dumps(manifest))
    return dst


def test_newer_major_version_is_refused_with_a_clear_message(tmp_path):
    path = _rewrite(FIXTURES / "case-v1.0.htwin", tmp_path / "future.htwin", "2.0")
    with pytest.raises(NewerFormatError, match=r"newer HeartTwin.*Update HeartTwin") as err:
        casefile.load(path)
    assert "2.0" in str(err.value) and "1.x" in str(err.value)


def test_newer_minor_version_opens_with_a_warning(tmp_path):
    path = _rewrite(FIXTURES / "case-v1.0.htwin", tmp_path / "minor.htwin", "1.3")
    case = casefile.load(path)
    assert case.devices[0]["size"] == 26 and "ignored" in case.warnings[0]


def test_unknown_old_or_garbled_versions(tmp_path):
    with pytest.raises(UnsupportedDataError, match="too old"):
        casefile.load(_rewrite(FIXTURES / "case-v0.8.htwin", tmp_path / "old.htwin", "0.5"))
    with pytest.raises(CorruptDataError, match="version"):
        casefile.load(_rewrite(FIXTURES / "case-v1.0.htwin", tmp_path / "bad.htwin", "one"))


def test_a_damaged_old_document_is_reported_not_crashed(tmp_path):
    src = FIXTURES / "case-v0.9.htwin"
    dst = tmp_path / "broken.htwin"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        manifest = json.loads(zin.read("manifest.json"))
        doc = json.loads(zin.read("case.json"))
        doc["devices"] = [{"size": 26}]  # no device id
        data = json.dumps(doc).encode()
        manifest["members"]["case.json"]["sha256"] = hashlib.sha256(data).hexdigest()
        for name in zin.namelist():
            if name not in ("manifest.json", "case.json"):
                zout.writestr(name, zin.read(name))
        zout.writestr("case.json", data)
        zout.writestr("manifest.json", json.dumps(manifest))
    with pytest.raises(CorruptDataError, match="format 1.0.*damaged"):
        casefile.load(dst)
