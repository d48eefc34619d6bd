"""Saving and loading .htwin case files: round trip, manifest, backups, failures, moved CT."""

import errno
import hashlib
import json
import os
import shutil
import zipfile

import numpy as np
import pytest

import dicom_factory as f
from hearttwin import __version__
from hearttwin.core import casefile, jobs
from hearttwin.core.case import Case, case_from_image
from hearttwin.core.case_image import ImageNotFoundError
from hearttwin.core.errors import CorruptDataError, InputError
from hearttwin.core.imaging.volume import Volume
from hearttwin.core.mesh.vtk_bridge import points, poly_from_arrays, triangles

DIRECTION = np.array([[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])  # rotated axes


def _full_case(embed=True) -> Case:
    rng = np.random.default_rng(1)
    image = Volume(rng.integers(-1024, 2000, (6, 7, 9)).astype(np.int16), (0.6, 0.7, 1.25),
                   (-12.5, 40.0, 101.0), DIRECTION, meta={"modality": "CT", "series_label": "3"})
    labels = Volume(rng.integers(0, 8, (6, 7, 9)).astype(np.uint8), image.spacing, image.origin, DIRECTION,
                    meta={"segments": {12: {"name": "Calcium", "colour": [250, 250, 210]}}})
    case = Case(image=image, embed_image=embed)
    case.set_labels(labels, step="segment_auto", params={"preset": "default"})
    tet = poly_from_arrays(np.array([[0, 0, 0], [10, 0, 0], [0, 10, 0], [0, 0, 10]], float),
                           np.array([[0, 1, 2], [0, 1, 3], [0, 2, 3], [1, 2, 3]]))
    case.set_meshes({"LV": tet, "Aorta root": tet})
    case.set_landmarks({"apex": np.array([1.0, 2.0, 3.0]), "coronary_ostia": {"left": [4, 5, 6]}})
    case.set_measurements({"annulus": {"area_mm2": 452.4, "eccentricity": np.float32(0.25)}})
    pose = np.eye(4)
    pose[:3, 3] = [1.0, -2.5, 99.0]
    case.place_device("balloon-expandable-thv", 26, pose)
    case.set_simulation({"heart_rate_bpm": 72}, {"lv": {"ef_percent": 58.1}})
    return case


def test_round_trip_keeps_everything(tmp_path):
    case = _full_case()
    path = casefile.save(case, tmp_path / "plan.htwin")
    assert not case.dirty and case.path == path
    back = casefile.load(path)
    assert not back.dirty and back.warnings == [] and back.case_id == case.case_id
    for a, b in ((back.image, case.image), (back.labels, case.labels)):
        assert a.array.dtype == b.array.dtype and np.array_equal(a.array, b.array)
        assert np.allclose(a.spacing, b.spacing) and np.allclose(a.origin, b.origin)
        assert np.allclose(a.direction, DIRECTION)
    assert back.labels.meta["segments"][12]["name"] == "Calcium"
    assert back.image.meta["modality"] == "CT"
    assert set(back.meshes) == {"LV", "Aorta root"}
    assert np.allclose(points(back.meshes["LV"]), points(case.meshes["LV"]))
    assert np.array_equal(triangles(back.meshes["Aorta root"]), triangles(case.meshes["LV"]))
    assert back.landmarks == {"apex": [1.0, 2.0, 3.0], "coronary_ostia": {"left": [4, 5, 6]}}
    assert back.measurements["annulus"]["eccentricity"] == pytest.approx(0.25)
    assert back.devices[0]["pose_lps"][2][3] == 99.0 and back.devices[0]["size"] == 26
    assert back.simulation == {"params": {"heart_rate_bpm": 72}, "results": {"lv": {"ef_percent": 58.1}}}
    assert back.history.to_list() == case.history.to_list()


def test_manifest_lists_every_member_with_its_hash_and_no_patient_data(tmp_path):
    path = casefile.save(_full_case(), tmp_path / "plan.htwin")
    with zipfile.ZipFile(path) as zf:
        manifest = json.loads(zf.read("manifest.json"))
        names = set(zf.namelist()) - {"manifest.json"}
        assert set(manifest["members"]) == names
        for name in names:
            data = zf.read(name)
            assert manifest["members"][name] == {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
    assert manifest["format"] == "hearttwin-case" and manifest["format_version"] == "1.0"
    assert manifest["app_version"] == __version__
    assert set(manifest) == {"format", "format_version", "app_version", "saved_utc", "members"}
    assert {"case.json", "labels.nrrd", "image.nrrd"} <= names and len([n for n in names if n.startswith("meshes/")]) == 2


def test_image_not_embedded_unless_asked(tmp_path):
    vol = f.phantom((5, 8, 8))
    f.ct_series(vol, tmp_path / "ct")
    case = case_from_image(tmp_path / "ct")
    path = casefile.save(case, tmp_path / "plan.htwin")
    with zipfile.ZipFile(path) as zf:
        assert "image.nrrd" not in zf.namelist()
        ref = json.loads(zf.read("case.json"))["image"]
    assert ref["path_relative"] == "ct"
    case.embed_image = True
    casefile.save(case, path)
    with zipfile.ZipFile(path) as zf:
        assert "image.nrrd" in zf.namelist()


def test_an_in_memory_image_without_a_series_is_always_embedded(tmp_path):
    case = _full_case(embed=False)  # no image reference: the image would otherwise be lost
    back = casefile.load(casefile.save(case, tmp_path / "p.htwin"))
    assert np.array_equal(back.image.array, case.image.array)


def test_save_keeps_the_previous_file_as_bak(tmp_path):
    path = tmp_path / "plan.htwin"
    case = _full_case()
    casefile.save(case, path)
    first = path.read_bytes()
    assert not casefile.backup_path(path).exists()
    case.set_measurements({"annulus": {"area_mm2": 500.0}})
    casefile.save(case, path)
    assert casefile.backup_path(path).read_bytes() == first
    assert casefile.load(casefile.backup_path(path).rename(tmp_path / "old.htwin")).measurements[
        "annulus"]["area_mm2"] == 452.4
    assert casefile.load(path).measurements["annulus"]["area_mm2"] == 500.0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["old.htwin", "plan.htwin"]  # no temp files left


@pytest.mark.parametrize("code, words", [(errno.ENOSPC, "disk is full"), (errno.EACCES, "no permission")])
def test_failed_save_leaves_the_previous_file_and_no_debris(tmp_path, monkeypatch, code, words):
    path = tmp_path / "plan.htwin"
    case = _full_case()
    casefile.save(case, path)
    before = path.read_bytes()
    case.touch()

    def failing_fsync(fd):
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(os, "fsync", failing_fsync)
    with pytest.raises(casefile.SaveError, match=words) as err:
        casefile.save(case, path)
    assert "unchanged" in str(err.value) and str(tmp_path) not in str(err.value)
    assert path.read_bytes() == before and case.dirty
    left = {p.name for p in tmp_path.iterdir()}
    assert left <= {"plan.htwin", "plan.htwin.bak"}  # no temporary file left behind
    assert "plan.htwin.bak" not in left or casefile.backup_path(path).read_bytes() == before


def test_save_removes_only_old_temporary_files_of_killed_saves(tmp_path):
    old = tmp_path / ".hearttwin-abc123.htwin"
    old_bak = tmp_path / ".plan.htwin.bak.tmp"
    fresh = tmp_path / ".hearttwin-def456.htwin"  # maybe another HeartTwin saving right now
    mine = tmp_path / ".hearttwin-notes.txt"
    for p in (old, old_bak, fresh, mine):
        p.write_bytes(b"partial")
    two_hours_ago = os.path.getmtime(fresh) - 7200
    for p in (old, old_bak, mine):
        os.utime(p, (two_hours_ago, two_hours_ago))
    casefile.save(_full_case(), tmp_path / "plan.htwin")
    assert sorted(p.name for p in tmp_path.iterdir()) == [".hearttwin-def456.htwin", ".hearttwin-notes.txt",
                                                          "plan.htwin"]


def test_save_rejects_bad_names_and_folders(tmp_path):
    with pytest.raises(InputError, match=".htwin"):
        casefile.save(Case(), tmp_path / "plan.zip")
    with pytest.raises(InputError, match="does not exist"):
        casefile.save(Case(), tmp_path / "missing" / "plan.htwin")


def test_save_and_load_report_progress_and_can_be_cancelled(tmp_path):
    token = jobs.CancelToken()
    path = casefile.save(_full_case(), tmp_path / "p.htwin", token)
    assert token.updates >= 5 and token.message == "Saved"
    token = jobs.CancelToken()
    casefile.load(path, token)
    assert token.updates >= 4
    token = jobs.CancelToken()
    token.cancel()
    with pytest.raises(jobs.CancelledError):
        casefile.save(_full_case(), tmp_path / "q.htwin", token)
    assert not (tmp_path / "q.htwin").exists() and sorted(p.name for p in tmp_path.iterdir()) == ["p.htwin"]


def test_not_a_case_file(tmp_path):
    p = tmp_path / "x.htwin"
    p.write_bytes(b"hello")
    with pytest.raises(CorruptDataError, match="not a HeartTwin case file"):
        casefile.load(p)
    with zipfile.ZipFile(p, "w") as zf:
        zf.writestr("readme.txt", "hi")
    with pytest.raises(CorruptDataError, match="no manifest"):
        casefile.load(p)
    with pytest.raises(InputError, match="does not exist"):
        casefile.load(tmp_path / "nothing.htwin")


def test_truncated_file_mentions_the_backup(tmp_path):
    path = tmp_path / "plan.htwin"
    case = _full_case()
    casefile.save(case, path)
    casefile.save(case, path)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(CorruptDataError, match=r"\.bak"):
        casefile.load(path)


# -- the referenced CT: relative path, moved folder, locate ------------------------------------
@pytest.fixture
def referenced(tmp_path):
    vol = f.phantom((5, 8, 8))
    ct = tmp_path / "study" / "DICOM-Zyxwvut"
    f.ct_series(vol, ct, series_uid="1.2.826.0.1.77")
    f.ct_series(f.phantom((5, 8, 8), seed=3), tmp_path / "study" / "other", series_uid="1.2.826.0.1.78")
    case = case_from_image(ct)
    case.set_labels(Volume((vol > 0).astype(np.uint8), case.image.spacing, case.image.origin))
    path = casefile.save(case, tmp_path / "study" / "plan.htwin")
    return vol, ct, path


def test_relative_path_survives_moving_the_whole_study(tmp_path, referenced):
    vol, ct, path = referenced
    moved = shutil.move(str(tmp_path / "study"), str(tmp_path / "elsewhere"))
    back = casefile.load(os.path.join(moved, "plan.htwin"))  # the absolute path is gone, relative works
    assert np.array_equal(back.image.array, vol) and not back.dirty


def test_absolute_path_is_the_fallback(tmp_path, referenced):
    vol, ct, path = referenced
    path.rename(tmp_path / "plan.htwin")  # case moved, CT stayed
    back = casefile.load(tmp_path / "plan.htwin")
    assert np.array_equal(back.image.array, vol)


def test_missing_ct_raises_a_locate_error_then_locate_works(tmp_path, referenced):
    vol, ct, path = referenced
    new_home = tmp_path / "archive" / "restored"
    shutil.move(str(ct), str(new_home))
    with pytest.raises(ImageNotFoundError) as err:
        casefile.load(path)
    assert isinstance(err.value, InputError) and err.value.expected_folder == "DICOM-Zyxwvut"
    assert "Zyxwvut" not in str(err.value) and "Locate" in str(err.value)
    with pytest.raises(ImageNotFoundError, match="does not hold this case's CT"):
        casefile.load(path, locate=tmp_path / "study" / "other")
    back = casefile.load(path, locate=new_home)
    assert np.array_equal(back.image.array, vol)
    assert back.dirty and any("new place" in w for w in back.warnings)
    casefile.save(back, path)  # the new place is remembered
    again = casefile.load(path)
    assert np.array_equal(again.image.array, vol)
    assert again.image_ref.path_relative == "../archive/restored"


def test_load_without_the_image_keeps_only_the_reference(tmp_path, referenced):
    vol, ct, path = referenced
    shutil.rmtree(ct)
    back = casefile.load(path, load_image=False)
    assert back.image is None and back.image_ref.name == "DICOM-Zyxwvut" and back.labels is not None
