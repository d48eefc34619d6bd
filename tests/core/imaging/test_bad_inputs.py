"""Every kind of bad input gets a specific, actionable typed error or warning."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest
from pydicom import dcmread
from pydicom.encaps import encapsulate
from pydicom.uid import (BasicTextSRStorage, MPEG2MPML, RTStructureSetStorage,
                         SecondaryCaptureImageStorage, SegmentationStorage)

import dicom_factory as f
from hearttwin.core.errors import (CorruptDataError, GeometryError, NoImageDataError, NotDicomError,
                                   SeriesSelectionError, UnsupportedDataError)
from hearttwin.core.imaging import Limits, load_volume, scan


def test_single_non_dicom_file(tmp_path):
    p = tmp_path / "notes.txt"
    p.write_text("hello " * 100)
    with pytest.raises(NotDicomError, match="not DICOM"):
        load_volume(p)


def test_folder_of_non_dicom_files(tmp_path):
    (tmp_path / "a.jpg").write_bytes(b"\xff\xd8\xff" + b"0" * 500)
    (tmp_path / "readme").write_text("x")
    with pytest.raises(NotDicomError, match=r"No DICOM files found \(2 files checked"):
        scan(tmp_path)


def test_empty_folder(tmp_path):
    with pytest.raises(NoImageDataError, match="empty"):
        load_volume(tmp_path)


def test_nonexistent_path(tmp_path):
    with pytest.raises(NoImageDataError, match="does not exist"):
        scan(tmp_path / "nope")


def test_non_image_objects_skipped_not_stacked(tmp_path):
    vol = f.phantom((6, 8, 8))
    paths = f.ct_series(vol, tmp_path)
    uid = dcmread(paths[0]).SeriesInstanceUID
    f.write(f.non_image("RTSTRUCT", RTStructureSetStorage, uid), tmp_path / "rt")
    f.write(f.non_image("SR", BasicTextSRStorage), tmp_path / "sr")
    seg = f.ct_slice(vol[0], (-10, -20, 30), series_uid=uid)
    seg.Modality, seg.SOPClassUID = "SEG", SegmentationStorage
    f.write(seg, tmp_path / "seg")
    sc = f.ct_slice(vol[0], (-10, -20, 31), series_uid=uid)
    sc.SOPClassUID = SecondaryCaptureImageStorage
    f.write(sc, tmp_path / "sc")
    (tmp_path / "DICOMDIR").write_bytes(b"\0" * 128 + b"DICM")
    result = scan(tmp_path)
    assert len(result.series) == 1 and result.series[0].slices == 6
    whats = {s["what"]: s for s in result.skipped}
    for what in ("RT structure set", "structured report", "DICOM SEG segmentation", "secondary capture images"):
        assert whats[what]["files"] == 1
    np.testing.assert_array_equal(load_volume(tmp_path).array, vol)


def test_truncated_pixel_data(tmp_path):
    paths = f.ct_series(f.phantom((5, 16, 16)), tmp_path, names="sequential")
    data = paths[2].read_bytes()
    paths[2].write_bytes(data[:-100])
    with pytest.raises(CorruptDataError, match=r"Series 3 .*slice at z=32\.5 mm.*truncated pixel data"):
        load_volume(tmp_path)


def test_truncated_compressed_pixel_data(tmp_path):
    from pydicom.uid import RLELossless

    paths = f.ct_series(f.phantom((4, 16, 16)), tmp_path, names="sequential", compress=RLELossless)
    data = paths[1].read_bytes()
    paths[1].write_bytes(data[:-200])
    with pytest.raises(CorruptDataError, match=r"Series 3 .*slice at z=31\.2 mm.*truncated or damaged pixel data"):
        load_volume(tmp_path)


def test_missing_slice(tmp_path):
    vol = f.phantom((8, 8, 8))
    positions = f.slice_positions(8, origin=(0, 0, 0), spacing_z=2.5)
    del positions[5]
    f.ct_series(vol[:7], tmp_path, positions=positions)
    with pytest.raises(GeometryError, match=r"Series 3 .*missing slice between z=10\.0 and z=15\.0 mm"):
        load_volume(tmp_path)
    assert any("missing slice" in w for w in scan(tmp_path).series[0].warnings)


def test_irregular_spacing(tmp_path):
    positions = f.slice_positions(6, origin=(0, 0, 0), spacing_z=2.0)
    positions[3] = (0.0, 0.0, 7.0)  # 6.0 expected
    f.ct_series(f.phantom((6, 8, 8)), tmp_path, positions=positions)
    with pytest.raises(GeometryError, match=r"irregular slice spacing: 3\.00 mm between z=4\.0 and z=7\.0"):
        load_volume(tmp_path)


def test_slight_spacing_jitter_warns(tmp_path):
    positions = f.slice_positions(6, origin=(0, 0, 0), spacing_z=2.0)
    positions[3] = (0.0, 0.0, 6.05)
    f.ct_series(f.phantom((6, 8, 8)), tmp_path, positions=positions)
    v = load_volume(tmp_path)
    assert any("slightly irregular" in w for w in v.meta["warnings"])
    assert v.spacing[2] == pytest.approx(2.0)


def test_duplicate_identical_slice_dropped_with_warning(tmp_path):
    vol = f.phantom((5, 8, 8))
    paths = f.ct_series(vol, tmp_path, names="sequential")
    ds = dcmread(paths[2])
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = "1.2.826.0.1.3680043.8.498.99"
    f.write(ds, tmp_path / "copy_of_slice")
    v = load_volume(tmp_path)
    np.testing.assert_array_equal(v.array, vol)
    assert any("duplicate slice" in w and "z=32.5 mm" in w for w in v.meta["warnings"])


def test_conflicting_duplicate_without_phase_tags(tmp_path):
    vol = f.phantom((5, 8, 8))
    paths = f.ct_series(vol, tmp_path, names="sequential")
    other = f.ct_slice(vol[0] + 5, dcmread(paths[2]).ImagePositionPatient,
                       series_uid=dcmread(paths[0]).SeriesInstanceUID)
    f.write(other, tmp_path / "other")
    with pytest.raises(GeometryError, match=r"two different images at z=32\.5 mm and no cardiac phase tags"):
        load_volume(tmp_path)


def test_gantry_tilt_resampled(tmp_path):
    tilt = np.deg2rad(15.0)
    col = (0.0, np.cos(tilt), -np.sin(tilt))  # tilted image plane
    row = (1.0, 0.0, 0.0)
    nz, step = 6, 2.0
    vol = np.full((nz, 20, 10), -1000, dtype=np.int16)
    # a bright line along x at LPS y=10, z=2k in every slice: in the tilted plane it sits at
    # a row that depends on the slice; positions move along z only (table feed)
    positions = [(0.0, 0.0, step * k) for k in range(nz)]
    normal = np.cross(row, col)
    for k in range(nz):
        # pixel row j is at LPS p_k + j*1.0*col; choose j with y = 10 -> j = 10 / cos(tilt)
        j = int(round(10 / np.cos(tilt)))
        vol[k, j, :] = 1000
    f.ct_series(vol, tmp_path, row=row, col=col, positions=positions, spacing=(1.0, 1.0, 1.0))
    v = load_volume(tmp_path)
    assert any("gantry tilt of 15.0 degrees" in w for w in v.meta["warnings"])
    np.testing.assert_allclose(v.direction[:, 2], normal, atol=1e-6)
    assert v.spacing[2] == pytest.approx(step * np.cos(tilt), abs=1e-4)
    # after resampling, a voxel's LPS point agrees with the source slice header
    k = 4
    src_point = np.array(positions[k]) + int(round(10 / np.cos(tilt))) * np.array(col) + 3 * np.array(row)
    ijk = np.rint(v.lps_to_index(src_point)).astype(int)
    assert v.array[ijk[2], ijk[1], ijk[0]] > 500


def test_missing_position(tmp_path):
    f.ct_series(f.phantom((4, 8, 8)), tmp_path,
                per_slice=lambda k, ds: (delattr(ds, "ImagePositionPatient") if k == 1 else None) or ds)
    with pytest.raises(GeometryError, match=r"Series 3 .*1 of 4 slices have no position/orientation"):
        load_volume(tmp_path)


def test_missing_pixel_spacing(tmp_path):
    f.ct_series(f.phantom((4, 8, 8)), tmp_path, per_slice=lambda k, ds: delattr(ds, "PixelSpacing") or ds)
    with pytest.raises(GeometryError, match=r"no pixel spacing"):
        load_volume(tmp_path)


def test_inconsistent_rows_columns_split(tmp_path):
    uid = "1.2.826.0.1.3680043.8.498.5"
    vol = f.phantom((10, 8, 8))
    f.ct_series(vol, tmp_path / "a", series_uid=uid)
    f.ct_series(f.phantom((2, 6, 6)), tmp_path / "b", series_uid=uid, origin=(0, 0, 100))
    result = scan(tmp_path)
    assert [s.size for s in result.series] == [[8, 8, 10], [6, 6, 2]]
    assert all("cannot be stacked together" in w for s in result.series for w in s.warnings[:1])
    np.testing.assert_array_equal(load_volume(tmp_path).array, vol)


def test_inconsistent_orientation_split(tmp_path):
    uid = "1.2.826.0.1.3680043.8.498.6"
    f.ct_series(f.phantom((10, 8, 8)), tmp_path / "a", series_uid=uid)
    f.ct_series(f.phantom((3, 8, 8)), tmp_path / "b", series_uid=uid, row=(0, 1, 0), col=(0, 0, -1))
    result = scan(tmp_path)
    assert sorted(s.slices for s in result.series) == [3, 10]
    assert result.selected.slices == 10


def test_implausible_declared_size_rejected_before_allocation(tmp_path):
    f.ct_series(f.phantom((3, 8, 8)), tmp_path, per_slice=lambda k, ds: setattr(ds, "Rows", 60000) or ds)
    with pytest.raises(CorruptDataError, match=r"implausible image size of 8 x 60000"):
        load_volume(tmp_path)


def test_declared_size_larger_than_pixel_data(tmp_path):
    f.ct_series(f.phantom((3, 8, 8)), tmp_path, per_slice=lambda k, ds: setattr(ds, "Rows", 512) or ds)
    with pytest.raises(CorruptDataError, match=r"truncated pixel data \(128 of 8192 bytes\)"):
        load_volume(tmp_path)


def test_memory_limit(tmp_path):
    f.ct_series(f.phantom((4, 32, 32)), tmp_path)
    with pytest.raises(UnsupportedDataError, match=r"more than the limit .*HEARTTWIN_MAX_VOLUME_MB"):
        load_volume(tmp_path, limits=Limits(max_volume_bytes=1000))


def test_unsupported_transfer_syntax(tmp_path):
    def mpeg(k, ds):
        ds.file_meta.TransferSyntaxUID = MPEG2MPML
        ds.PixelData = encapsulate([b"\x00\x00\x01\xb3" + b"\0" * 60])
        return ds

    f.ct_series(f.phantom((3, 8, 8)), tmp_path, per_slice=mpeg)
    with pytest.raises(UnsupportedDataError, match=r"transfer syntax 'MPEG2 Main Profile / Main Level'"):
        load_volume(tmp_path)


def test_unknown_series_and_phase(tmp_path):
    f.ct_series(f.phantom((3, 8, 8)), tmp_path)
    with pytest.raises(SeriesSelectionError, match=r"no series 9 here \(available: 3"):
        load_volume(tmp_path, series=9)
    with pytest.raises(SeriesSelectionError, match="phase 2 does not exist"):
        load_volume(tmp_path, phase=2)


def test_localizer_requested_explicitly(tmp_path):
    f.ct_series(f.phantom((1, 8, 8)), tmp_path, image_type=("ORIGINAL", "PRIMARY", "LOCALIZER"))
    with pytest.raises(SeriesSelectionError, match="localizer"):
        load_volume(tmp_path, series=3)


def _run_as_nobody(paths: list[str], warm: str):
    """Scan ``paths`` in a subprocess that drops root privileges to user nobody.

    The interpreter lives under /root (not reachable by nobody), so the child
    starts as root, imports everything and scans a readable folder once (so no
    lazy import happens later), then switches user for good and scans.
    """
    if os.geteuid() != 0:
        pytest.skip("needs root to switch to user nobody")
    import pwd

    try:
        nobody = pwd.getpwnam("nobody")
    except KeyError:
        pytest.skip("no user nobody")
    code = (
        "import os, sys\n"
        "from hearttwin.core.imaging import scan, load_volume\n"
        "from hearttwin.core.errors import HeartTwinError\n"
        f"load_volume({warm!r})\n"
        f"os.setgid({nobody.pw_gid}); os.setuid({nobody.pw_uid})\n"
        "assert os.geteuid() != 0\n"
        "for p in sys.argv[1:]:\n"
        "    try:\n"
        "        scan(p)\n"
        "        print('NO ERROR')\n"
        "    except HeartTwinError as e:\n"
        "        print(type(e).__name__, e)\n"
    )
    return subprocess.run([sys.executable, "-c", code, *paths], capture_output=True, text=True, timeout=120)


def test_unreadable_files_and_folder(tmp_path_factory):
    base = Path(tempfile.mkdtemp(prefix="ht-perm-", dir="/tmp"))
    try:
        os.chmod(base, 0o755)
        series = base / "series"
        f.ct_series(f.phantom((4, 8, 8)), series)
        os.chmod(series, 0o755)
        for p in series.iterdir():
            os.chmod(p, 0o600)  # owned by root: unreadable for nobody
        locked = base / "locked"
        locked.mkdir()
        os.chmod(locked, 0o700)
        warm = base / "warm"
        f.ct_series(f.phantom((2, 8, 8)), warm)
        out = _run_as_nobody([str(series), str(locked)], str(warm))
        if "Operation not permitted" in out.stderr:
            pytest.skip("cannot switch user in this sandbox")
        lines = out.stdout.splitlines()
        assert out.returncode == 0, out.stderr
        assert lines[0].startswith("NoImageDataError None of the 4 files can be read (permission denied)")
        assert lines[1].startswith("NoImageDataError The folder given cannot be read (permission denied)")
    finally:
        shutil.rmtree(base, ignore_errors=True)
