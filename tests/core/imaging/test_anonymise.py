"""Anonymised export: nothing identifying survives, relationships and pixels do."""


import numpy as np
import pydicom
import pytest
import SimpleITK as sitk
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, generate_uid

from hearttwin.core.errors import NotDicomError
from hearttwin.core.imaging.anonymise import Anonymiser, anonymise_files

PHI = [
    "Doe^Jane", "JANE", "MRN0042317", "19570312", "ACC99812", "Saint Example Hospital",
    "Dr^Who", "Cardio Ward 3", "CT-STATION-7", "SN123456", "Mother^Maiden", "private secret",
    "20240117", "Night shift Smith",
]


def _slice(i, study, series, frame, rng):
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = CTImageStorage
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.SourceApplicationEntityTitle = "CT-STATION-7"
    ds.SOPClassUID = CTImageStorage
    ds.SOPInstanceUID = generate_uid()
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.FrameOfReferenceUID = study, series, frame
    ds.PatientName = "Doe^Jane"
    ds.PatientID = "MRN0042317"
    ds.PatientBirthDate = "19570312"
    ds.PatientSex = "F"
    ds.PatientAge = "067Y"
    ds.PatientMotherBirthName = "Mother^Maiden"
    ds.OtherPatientIDs = "MRN0042317"
    ds.AccessionNumber = "ACC99812"
    ds.StudyDate = ds.SeriesDate = ds.AcquisitionDate = ds.ContentDate = "20240117"
    ds.StudyTime = ds.SeriesTime = "101500"
    ds.StudyID = "ACC99812"
    ds.InstitutionName = "Saint Example Hospital"
    ds.InstitutionalDepartmentName = "Cardio Ward 3"
    ds.StationName = "CT-STATION-7"
    ds.DeviceSerialNumber = "SN123456"
    ds.ReferringPhysicianName = "Dr^Who"
    ds.OperatorsName = "Night shift Smith"
    ds.Modality = "CT"
    ds.Manufacturer = "Example"
    ds.SeriesNumber = 3
    ds.InstanceNumber = i + 1
    ds.ImagePositionPatient = [0.0, 0.0, float(i)]
    ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    ds.PixelSpacing = [0.5, 0.5]
    ds.SliceThickness = 1.0
    ds.RescaleIntercept, ds.RescaleSlope = -1024, 1
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.Rows = ds.Columns = 8
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
    # identifying data hidden in a nested sequence and in a private block
    ref = Dataset()
    ref.ReferencedSOPClassUID = CTImageStorage
    ref.ReferencedSOPInstanceUID = "1.2.826.0.1.3680043.99.4242.9"
    ref.PerformingPhysicianName = "Dr^Who"
    ref.StudyDate = "20240117"
    ds.SourceImageSequence = [ref]
    block = ds.private_block(0x0029, "EXAMPLE PRIVATE", create=True)
    block.add_new(0x10, "LO", "private secret")
    ds.PixelData = rng.integers(0, 4095, size=(8, 8), dtype=np.uint16).tobytes()
    return ds


@pytest.fixture
def series(tmp_path):
    rng = np.random.default_rng(1)
    study, series_uid, frame = generate_uid(), generate_uid(), generate_uid()
    src = tmp_path / "Doe_Jane_MRN0042317"
    src.mkdir()
    files = []
    for i in range(4):
        ds = _slice(i, study, series_uid, frame, rng)
        path = src / f"slice{i}.dcm"
        ds.save_as(path, enforce_file_format=True)
        files.append(path)
    return files


def test_no_identifying_bytes_survive(series, tmp_path):
    out = tmp_path / "out"
    result = anonymise_files(series, out)
    assert [p.name for p in result.files] == ["IM00001.dcm", "IM00002.dcm", "IM00003.dcm", "IM00004.dcm"]
    originals = [pydicom.dcmread(p) for p in series]
    uids = {str(originals[0].StudyInstanceUID), str(originals[0].SeriesInstanceUID),
            str(originals[0].FrameOfReferenceUID)} | {str(o.SOPInstanceUID) for o in originals}
    for path in result.files:
        raw = path.read_bytes()
        for text in PHI + sorted(uids):
            assert text.encode() not in raw, f"{text!r} survived in {path.name}"
        assert "Doe" not in str(path) and "MRN" not in str(path)


def test_profile_attributes_and_pixels(series, tmp_path):
    result = anonymise_files(series, tmp_path / "out", anonymiser=Anonymiser(pseudonym="CASE^01"))
    before = [pydicom.dcmread(p) for p in series]
    after = [pydicom.dcmread(p) for p in result.files]
    for a, b in zip(after, before):
        assert a.PatientIdentityRemoved == "YES"
        assert a.DeidentificationMethodCodeSequence[0].CodeValue == "113100"
        assert str(a.PatientName) == "CASE^01"
        assert a.PatientBirthDate == "" and a.StudyDate == "" and a.AccessionNumber == ""
        assert "InstitutionName" not in a and "OperatorsName" not in a and "SeriesDate" not in a
        assert not any(e.tag.is_private for e in a.iterall())
        assert a.file_meta.MediaStorageSOPInstanceUID == a.SOPInstanceUID
        assert "SourceApplicationEntityTitle" not in a.file_meta
        assert a.SOPClassUID == CTImageStorage  # registered UIDs are kept
        assert a.SourceImageSequence[0].ReferencedSOPClassUID == CTImageStorage
        assert "PerformingPhysicianName" not in a.SourceImageSequence[0]
        assert a.PixelData == b.PixelData
        assert a.ImagePositionPatient == b.ImagePositionPatient
    # relationships survive: one study, one series, one frame of reference, distinct instances
    assert len({a.StudyInstanceUID for a in after}) == 1
    assert len({a.SeriesInstanceUID for a in after}) == 1
    assert len({a.SOPInstanceUID for a in after}) == 4
    assert after[0].StudyInstanceUID != before[0].StudyInstanceUID
    # the nested reference maps to the same new UID in every file
    assert len({a.SourceImageSequence[0].ReferencedSOPInstanceUID for a in after}) == 1


def test_output_is_a_readable_volume(series, tmp_path):
    result = anonymise_files(series, tmp_path / "out")
    reader = sitk.ImageSeriesReader()
    reader.SetFileNames([str(p) for p in result.files])
    img = reader.Execute()
    assert img.GetSize() == (8, 8, 4)
    assert img.GetSpacing() == pytest.approx((0.5, 0.5, 1.0))


def test_same_key_same_mapping_other_key_differs():
    a, b, c = Anonymiser(key=b"k" * 32), Anonymiser(key=b"k" * 32), Anonymiser(key=b"x" * 32)
    uid = "1.2.840.99999.1.2.3"
    assert a.new_uid(uid) == b.new_uid(uid) != c.new_uid(uid)
    assert len(a.new_uid(uid)) <= 64 and a.new_uid(uid).startswith("2.25.")
    assert a.patient_id("MRN0042317") == b.patient_id("MRN0042317") != c.patient_id("MRN0042317")
    assert "0042317" not in a.patient_id("MRN0042317")


def test_not_dicom_message_names_no_path(tmp_path):
    bad = tmp_path / "Doe_Jane.txt"
    bad.write_text("hello")
    with pytest.raises(NotDicomError, match=r"File 1 of 1 is not a readable DICOM file") as info:
        anonymise_files([bad], tmp_path / "out")
    assert "Doe" not in str(info.value)


def test_burned_in_annotation_warns(series, tmp_path):
    ds = pydicom.dcmread(series[0])
    ds.BurnedInAnnotation = "YES"
    ds.save_as(series[0], enforce_file_format=True)
    result = anonymise_files(series, tmp_path / "out")
    assert any("burned-in annotation" in w for w in result.warnings)
