"""write_ct_series: round trip through SimpleITK and pydicom, RLE Lossless, dciodvfy validity."""

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pydicom
import pytest
import SimpleITK as sitk
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, RLELossless

from hearttwin.core.imaging.dicom_write import new_study, write_ct_series
from hearttwin.core.imaging.volume import Volume


@pytest.fixture(scope="module")
def volume():
    rng = np.random.default_rng(0)
    arr = rng.integers(-1024, 3000, size=(6, 20, 24)).astype(np.int16)
    arr[0, 0, 0], arr[0, 0, 1] = -2000, 4000  # outside 12 bits: clipped
    return Volume(arr, spacing=(0.7, 0.8, 1.25), origin=(-12.5, 30.0, -101.0))


@pytest.fixture(scope="module")
def written(volume, tmp_path_factory):
    out = tmp_path_factory.mktemp("series")
    paths = write_ct_series(volume, out, rng=np.random.default_rng(3), series_number=4,
                            series_description="test")
    return out, paths


def test_round_trip_simpleitk(volume, written):
    out, paths = written
    reader = sitk.ImageSeriesReader()
    names = reader.GetGDCMSeriesFileNames(str(out))
    assert len(names) == volume.array.shape[0]
    reader.SetFileNames(names)
    img = reader.Execute()
    back = sitk.GetArrayFromImage(img)
    expected = np.clip(volume.array, -1024, 3071)
    np.testing.assert_array_equal(back, expected)
    np.testing.assert_allclose(img.GetSpacing(), volume.spacing, atol=1e-4)
    np.testing.assert_allclose(img.GetOrigin(), volume.origin, atol=1e-4)
    np.testing.assert_allclose(np.reshape(img.GetDirection(), (3, 3)), volume.direction, atol=1e-6)


def test_pydicom_headers(volume, written):
    out, paths = written
    names = [p.name for p in paths]
    assert names != sorted(names)  # random names, not slice order
    uids = set()
    for p in paths:
        ds = pydicom.dcmread(p)
        assert ds.SOPClassUID == CTImageStorage
        assert ds.file_meta.TransferSyntaxUID == ExplicitVRLittleEndian
        assert (ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation) == (16, 12, 11, 0)
        assert ds.RescaleIntercept == -1024 and ds.RescaleSlope == 1
        assert ds.Manufacturer == "HeartTwin phantom"
        assert list(ds.ImageType) == ["ORIGINAL", "PRIMARY", "AXIAL"]
        assert float(ds.SliceThickness) == pytest.approx(1.25)
        uids.add(ds.SOPInstanceUID)
    assert len(uids) == len(paths)


def test_phases_share_one_series(tmp_path):
    vol = Volume(np.zeros((3, 8, 8), np.int16), spacing=(1, 1, 2))
    study = new_study("PHANTOM^SEED1", "P1")
    files = []
    for i, phase in enumerate((0.0, 0.4)):
        files += write_ct_series(vol, tmp_path, study=study, instance_offset=3 * i,
                                 phase={"phase": phase, "index": i + 1, "rr_ms": 1000.0})
    headers = [pydicom.dcmread(f) for f in files]
    assert len({h.SeriesInstanceUID for h in headers}) == 1
    assert sorted({float(h.TriggerTime) for h in headers}) == [0.0, 400.0]
    assert sorted({h.TemporalPositionIndex for h in headers}) == [1, 2]
    assert sorted({float(h.NominalPercentageOfCardiacPhase) for h in headers}) == [0.0, 40.0]
    assert sorted(int(h.InstanceNumber) for h in headers) == list(range(1, 7))


def test_rle_lossless_keeps_pixels_uids_and_geometry(tmp_path):
    """--rle writes the same instances (names, UIDs, pixels) in less space, and both pydicom
    and SimpleITK's GDCM reader decode them."""
    arr = np.full((5, 32, 40), -1000, np.int16)  # air around a noisy 300 HU block, as in CT
    arr[:, 8:24, 10:30] = 300 + np.random.default_rng(1).integers(-40, 40, (5, 16, 20))
    volume = Volume(arr, spacing=(0.7, 0.8, 1.25), origin=(-12.5, 30.0, -101.0))

    def write(folder, rle):
        return write_ct_series(volume, tmp_path / folder, rng=np.random.default_rng(3),
                               study=new_study(entropy="rle-test", date="20240102"), rle=rle)

    plain, rle = write("plain", False), write("rle", True)
    assert [p.name for p in rle] == [p.name for p in plain]
    for a_path, b_path in zip(plain, rle):
        a, b = pydicom.dcmread(a_path), pydicom.dcmread(b_path)
        assert b.file_meta.TransferSyntaxUID == RLELossless
        assert b.SOPInstanceUID == a.SOPInstanceUID == b.file_meta.MediaStorageSOPInstanceUID
        np.testing.assert_array_equal(b.pixel_array, a.pixel_array)
    assert sum(p.stat().st_size for p in rle) < sum(p.stat().st_size for p in plain)
    reader = sitk.ImageSeriesReader()
    reader.SetFileNames(reader.GetGDCMSeriesFileNames(str(tmp_path / "rle")))
    img = reader.Execute()
    np.testing.assert_array_equal(sitk.GetArrayFromImage(img), np.clip(volume.array, -1024, 3071))
    np.testing.assert_allclose(img.GetOrigin(), volume.origin, atol=1e-4)


@pytest.mark.skipif(shutil.which("dciodvfy") is None and not Path("/usr/bin/dciodvfy").exists(),
                    reason="dciodvfy (dicom3tools) not installed")
def test_dciodvfy_reports_no_errors(written):
    out, paths = written
    for p in paths[:3]:
        res = subprocess.run(["dciodvfy", str(p)], capture_output=True, text=True)
        text = res.stdout + res.stderr
        assert "Error" not in text, text
