"""The Case model: change tracking, provenance, device validation, opening an image."""

import numpy as np
import pytest

import dicom_factory as f
from hearttwin.core.case import Case, case_from_image, check_device
from hearttwin.core.case_image import uid_hash
from hearttwin.core.errors import InputError
from hearttwin.core.imaging.volume import Volume


def _labels(shape=(4, 5, 6), value=1):
    arr = np.zeros(shape, np.uint8)
    arr[1:3, 1:4, 2:5] = value
    return Volume(arr, (1.0, 1.0, 2.0))


def test_new_case_is_clean_and_every_setter_makes_it_dirty():
    setters = [
        lambda c: c.set_labels(_labels()),
        lambda c: c.set_landmarks({"apex": [1, 2, 3]}),
        lambda c: c.set_measurements({"annulus": {"area_mm2": 400.0}}),
        lambda c: c.place_device("thv", 26, np.eye(4)),
        lambda c: c.set_simulation({"heart_rate_bpm": 60}, {"ef_percent": 55.0}),
        lambda c: c.set_meshes({}),
        lambda c: c.record("paint", {"label": 1}),
        lambda c: c.touch(),
    ]
    for setter in setters:
        case = Case()
        assert not case.dirty and case.revision == 0
        setter(case)
        assert case.dirty and case.revision == 1
        case.mark_saved("x.htwin")
        assert not case.dirty and case.path.name == "x.htwin"


def test_mark_saved_at_an_older_revision_keeps_later_changes_dirty():
    case = Case()
    case.touch()
    written = case.revision
    case.touch()  # changed while the save ran in a worker
    case.mark_saved(revision=written)
    assert case.dirty


def test_subscribers_hear_what_changed_and_can_unsubscribe():
    case, heard = Case(), []

    def listener(c, what):
        heard.append((c.revision, what))

    case.subscribe(listener)
    case.set_labels(_labels())
    case.place_device("occluder", 24, np.eye(4))
    case.unsubscribe(listener)
    case.touch()
    assert heard == [(1, "labels"), (2, "devices")]


def test_steps_are_recorded_with_parameters():
    case = Case()
    case.set_labels(_labels(), step="segment_auto", params={"preset": "default"})
    case.set_labels(_labels(value=2))  # no step name: an edit recorded elsewhere
    pose = np.eye(4)
    pose[:3, 3] = [1.5, -2.0, 30.0]
    i = case.place_device("thv", 26, pose)
    case.update_device(i, size=29)
    case.remove_device(i)
    names = [s.name for s in case.history]
    assert names == ["segment_auto", "place_device", "move_device", "remove_device"]
    assert case.history[0].params == {"preset": "default"}
    assert case.history[1].params["pose_lps"][0][3] == 1.5 and case.history[1].params["size"] == 26
    assert case.history[2].params == {"index": 0, "size": 29}
    assert case.devices == []


def test_set_labels_drops_meshes_and_casts_to_uint8():
    case = Case(meshes={"LV": object()})
    lab = _labels()
    lab.array = lab.array.astype(np.int32) * 7
    case.set_labels(lab)
    assert case.meshes == {} and case.labels.array.dtype == np.uint8 and case.labels.array.max() == 7
    with pytest.raises(InputError, match="0-255"):
        case.set_labels(Volume(np.full((2, 2, 2), 300, np.int32), (1, 1, 1)))


def test_device_validation():
    pose = np.eye(4)
    pose[:3, 3] = [1, 2, 3]
    d = check_device({"id": "thv", "size": np.float64(26.0), "pose_lps": pose})
    assert d == {"id": "thv", "size": 26.0, "pose_lps": pose.tolist()}
    with pytest.raises(InputError, match="4x4"):
        check_device({"id": "thv", "size": 26, "pose_lps": np.eye(3)})
    bad = np.eye(4)
    bad[3, 0] = 1
    with pytest.raises(InputError, match="rigid"):
        check_device({"id": "thv", "size": 26, "pose_lps": bad})
    with pytest.raises(InputError):
        check_device({"size": 26})
    case = Case()
    with pytest.raises(InputError, match="device number 3"):
        case.update_device(2, size=20)


def test_case_from_dicom_folder_references_the_series_without_patient_data(tmp_path):
    vol = f.phantom((6, 8, 10))
    folder = tmp_path / "ct"
    f.ct_series(vol, folder, series_uid="1.2.826.0.1.999.5")
    case = case_from_image(folder)
    ref = case.image_ref
    assert np.array_equal(case.image.array, vol)
    assert ref.kind == "dicom" and ref.name == "ct" and ref.path_absolute == str(folder.resolve())
    assert ref.size == [10, 8, 6] and ref.spacing_mm == [0.7, 0.7, 1.25]
    assert ref.series_uid_sha256 == uid_hash("1.2.826.0.1.999.5")
    text = repr(ref.to_dict())
    assert "1.2.826.0.1.999.5" not in text and f.PATIENT_NAME not in text and f.PATIENT_ID not in text
    assert [s.name for s in case.history] == ["open_image"] and not case.dirty
