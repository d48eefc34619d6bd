"""Round trips: files written with known geometry and HU load back exactly."""

from __future__ import annotations

import numpy as np
import pytest
import SimpleITK as sitk
from pydicom.uid import JPEG2000Lossless, JPEGLSLossless, RLELossless

import dicom_factory as f
from hearttwin.core.imaging import load_phases, load_volume, scan
from hearttwin.core.jobs import CancelToken
from hearttwin.core.errors import CancelledError


def _assert_geometry(vol, origin, spacing, direction):
    np.testing.assert_allclose(vol.origin, origin, atol=1e-4)
    np.testing.assert_allclose(vol.spacing, spacing, atol=1e-4)
    np.testing.assert_allclose(vol.direction, direction, atol=1e-6)


def test_axial_shuffled_names_nested_folders(tmp_path):
    vol = f.phantom()
    f.ct_series(vol, tmp_path, names="random", nested=True)
    v = load_volume(tmp_path)
    assert v.array.dtype == np.int16
    np.testing.assert_array_equal(v.array, vol)
    _assert_geometry(v, (-10, -20, 30), (0.7, 0.7, 1.25), np.eye(3))
    assert v.meta["series_number"] == 3 and v.meta["modality"] == "CT"


def test_sorted_by_position_not_instance_number_or_name(tmp_path):
    vol = f.phantom()
    # names and InstanceNumber both run opposite to the slice position
    f.ct_series(vol, tmp_path, names="sequential",
                per_slice=lambda k, ds: setattr(ds, "InstanceNumber", 1 + k) or ds)
    paths = sorted(tmp_path.iterdir())
    for p in paths[:4]:  # rename to reverse the alphabetical order
        p.rename(p.with_name("Z" + p.name))
    np.testing.assert_array_equal(load_volume(tmp_path).array, vol)


def test_oblique_orientation_geometry(tmp_path):
    a = np.deg2rad(25)
    row = (np.cos(a), np.sin(a), 0.0)
    col = (-np.sin(a) * np.cos(0.4), np.cos(a) * np.cos(0.4), np.sin(0.4))
    vol = f.phantom((9, 16, 18))
    f.ct_series(vol, tmp_path, row=row, col=col, spacing=(0.8, 0.6, 2.0), origin=(5.0, -7.0, 100.0))
    v = load_volume(tmp_path)
    normal = np.cross(row, col)
    _assert_geometry(v, (5, -7, 100), (0.8, 0.6, 2.0), np.column_stack([row, col, normal]))
    np.testing.assert_array_equal(v.array, vol)
    # an index maps to the LPS point the slice header gives
    np.testing.assert_allclose(v.index_to_lps([0, 0, 4]), np.array((5, -7, 100)) + 8.0 * normal, atol=1e-6)


def test_non_unit_direction_flipped_axes(tmp_path):
    """Feet-first-like orientation: row points right-to-left, columns upward."""
    vol = f.phantom((6, 10, 12))
    row, col = (-1.0, 0.0, 0.0), (0.0, -1.0, 0.0)  # normal = +z
    f.ct_series(vol, tmp_path, row=row, col=col)
    v = load_volume(tmp_path)
    _assert_geometry(v, (-10, -20, 30), (0.7, 0.7, 1.25), np.column_stack([row, col, (0, 0, 1)]))
    np.testing.assert_array_equal(v.array, vol)


def test_per_slice_rescale(tmp_path):
    vol = f.phantom((8, 12, 12))
    slopes = [1, 2, 1, 1, 2, 1, 1, 1]
    intercepts = [-1024, -1000, 0, -2048, -1024, -1024, -512, -1024]
    vol = (vol // 2) * 2  # even values so slope 2 is exact
    f.ct_series(vol, tmp_path, slopes=slopes, intercepts=intercepts, signed=True)
    v = load_volume(tmp_path)
    assert v.array.dtype == np.int16
    np.testing.assert_array_equal(v.array, vol)


def test_fractional_slope_gives_float32(tmp_path):
    vol = f.phantom((4, 8, 8)).astype(np.float32) / 2
    f.ct_series(vol, tmp_path, slopes=[0.5] * 4, intercepts=[-1024.5] * 4, signed=True)
    v = load_volume(tmp_path)
    assert v.array.dtype == np.float32
    np.testing.assert_allclose(v.array, np.rint((vol + 1024.5) * 2) / 2 - 1024.5, atol=1e-3)


def test_uint16_values_beyond_int16_fall_back_to_float32(tmp_path):
    vol = np.full((3, 8, 8), 100, dtype=np.int32)
    vol[1, 2, 3] = 40000  # metal: stored 41024 in an unsigned 16-bit image
    f.ct_series(vol, tmp_path, per_slice=lambda k, ds: setattr(ds, "BitsStored", 16) or ds)
    v = load_volume(tmp_path)
    assert v.array.dtype == np.float32
    assert v.array[1, 2, 3] == 40000 and v.array[0, 0, 0] == 100


def test_high_bits_above_bits_stored_are_masked(tmp_path):
    vol = np.full((3, 8, 8), 0, dtype=np.int16)

    def overlay(k, ds):  # set bit 15 (an old overlay plane) in a 12-bit image
        px = np.frombuffer(ds.PixelData, "<u2").copy()
        px[:5] |= 0x8000
        ds.PixelData = px.tobytes()

    f.ct_series(vol, tmp_path, per_slice=overlay)
    np.testing.assert_array_equal(load_volume(tmp_path).array, vol)


def test_matches_simpleitk_series_reader(tmp_path):
    vol = f.phantom((10, 20, 16), seed=3)
    f.ct_series(vol, tmp_path, row=(0.0, 1.0, 0.0), col=(0.0, 0.0, -1.0), spacing=(0.5, 0.9, 1.5),
                intercepts=[-1024] * 5 + [-1000] * 5, signed=True)
    names = sitk.ImageSeriesReader.GetGDCMSeriesFileNames(str(tmp_path))
    reader = sitk.ImageSeriesReader()
    reader.SetFileNames(names)
    reader.SetOutputPixelType(sitk.sitkInt16)
    ref = reader.Execute()
    v = load_volume(tmp_path)
    np.testing.assert_array_equal(v.array, sitk.GetArrayFromImage(ref))
    np.testing.assert_allclose(v.origin, ref.GetOrigin(), atol=1e-4)
    np.testing.assert_allclose(v.spacing, ref.GetSpacing(), atol=1e-4)
    np.testing.assert_allclose(v.direction.ravel(), ref.GetDirection(), atol=1e-6)


def test_multiphase_split_by_trigger_time_with_jitter(tmp_path):
    nz, phases = 6, 3
    vols = [f.phantom((nz, 8, 8), seed=s) for s in range(phases)]
    uid = "1.2.826.0.1.3680043.8.498.1"
    for p in range(phases):
        def tag(k, ds, p=p):
            ds.TriggerTime = 100.0 * p + 0.7 * k  # per-slice jitter within a phase
            return ds
        f.ct_series(vols[p], tmp_path / f"p{p}", series_uid=uid, per_slice=tag, seed=p)
    info = scan(tmp_path).series[0]
    assert info.phases == 3 and info.slices == nz and info.loadable
    all_phases = load_phases(tmp_path)
    for p in range(phases):
        np.testing.assert_array_equal(all_phases[p].array, vols[p])
    np.testing.assert_array_equal(load_volume(tmp_path, phase=2).array, vols[2])
    assert all_phases[1].meta["phase"] == 1 and all_phases[1].meta["phases"] == 3


def test_multiphase_nominal_percentage(tmp_path):
    vols = [f.phantom((5, 8, 8), seed=s) for s in range(2)]
    uid = "1.2.826.0.1.3680043.8.498.2"
    for p, pct in enumerate((75.0, 40.0)):
        def tag(k, ds, pct=pct):
            ds.add_new((0x0020, 0x9241), "FL", pct)
            return ds
        f.ct_series(vols[p], tmp_path / f"p{p}", series_uid=uid, per_slice=tag, seed=p)
    info = scan(tmp_path).series[0]
    assert info.phases == 2 and info.phase_labels == ["40% of R-R", "75% of R-R"]
    np.testing.assert_array_equal(load_volume(tmp_path, phase=0).array, vols[1])


def test_enhanced_multiframe(tmp_path):
    vol = f.phantom((7, 10, 12))
    intercepts = [-1024.0] * 3 + [-1000.0] * 4
    path = f.enhanced_ct(vol, tmp_path / "enh.dcm", intercepts=intercepts, shuffle=True,
                         row=(0, 1, 0), col=(0, 0, -1), spacing=(0.5, 0.6, 1.0))
    v = load_volume(path)  # a multi-frame file alone
    np.testing.assert_array_equal(v.array, vol)
    _assert_geometry(v, (-10, -20, 30), (0.5, 0.6, 1.0), np.column_stack([(0, 1, 0), (0, 0, -1), (-1, 0, 0)]))
    assert load_volume(tmp_path).array.shape == (7, 10, 12)


def test_enhanced_multiframe_phases(tmp_path):
    vol = f.phantom((8, 6, 6))
    path = f.enhanced_ct(vol, tmp_path / "enh", temporal=[1, 1, 1, 1, 2, 2, 2, 2])
    phases = load_phases(path)
    assert len(phases) == 2
    np.testing.assert_array_equal(phases[0].array, vol[:4])
    np.testing.assert_array_equal(phases[1].array, vol[4:])


@pytest.mark.parametrize("syntax", [JPEGLSLossless, JPEG2000Lossless, RLELossless])
def test_compressed_series(tmp_path, syntax):
    vol = f.phantom((4, 64, 64))  # the J2K encoder needs >= 64 px for its default levels
    f.ct_series(vol, tmp_path, compress=syntax)
    v = load_volume(tmp_path)
    np.testing.assert_array_equal(v.array, vol)


def test_jpeg_lossless_process14_series(tmp_path):
    """JPEG Lossless (process 14), the syntax many CT scanners and PACS exports use.

    pydicom cannot encode it; imagecodecs' lossless JPEG encoder (SOF3,
    predictor 6) writes the frames, which pydicom encapsulates.
    """
    imagecodecs = pytest.importorskip("imagecodecs")
    from pydicom.encaps import encapsulate
    from pydicom.uid import JPEGLossless

    vol = f.phantom((4, 40, 36))

    def to_jpeg(k, ds):
        stored = ds.pixel_array
        frame = imagecodecs.ljpeg_encode(stored, bitspersample=int(ds.BitsStored))
        assert frame[:2] == b"\xff\xd8" and b"\xff\xc3" in frame  # a real SOF3 stream
        ds.PixelData = encapsulate([frame])
        ds["PixelData"].VR = "OB"
        ds.file_meta.TransferSyntaxUID = JPEGLossless
        return ds

    f.ct_series(vol, tmp_path, per_slice=to_jpeg)
    v = load_volume(tmp_path)
    np.testing.assert_array_equal(v.array, vol)


@pytest.mark.parametrize("suffix", [".nrrd", ".nii.gz", ".nii", ".mha"])
def test_volume_files_keep_lps(tmp_path, suffix):
    arr = f.phantom((5, 7, 9))
    img = sitk.GetImageFromArray(arr)
    img.SetSpacing((0.5, 0.75, 2.0))
    img.SetOrigin((10.0, -20.0, 30.0))
    direction = (-1.0, 0, 0, 0, -1.0, 0, 0, 0, 1.0)
    img.SetDirection(direction)
    path = tmp_path / f"vol{suffix}"
    sitk.WriteImage(img, str(path))
    v = load_volume(path)
    np.testing.assert_array_equal(v.array, arr)
    assert v.array.dtype == np.int16
    _assert_geometry(v, (10, -20, 30), (0.5, 0.75, 2.0), np.reshape(direction, (3, 3)))
    info = scan(path).series[0]
    assert info.size == [9, 7, 5] and info.selected


@pytest.mark.parametrize("suffix", [".nrrd", ".nii.gz"])
def test_4d_volume_file_loads_each_phase_in_lps(tmp_path, suffix):
    phases = [f.phantom((4, 6, 5), seed=s) for s in range(3)]
    frames = []
    for arr in phases:
        frame = sitk.GetImageFromArray(arr)
        frame.SetSpacing((0.5, 0.75, 2.0))
        frame.SetOrigin((10.0, -20.0, 30.0))
        frame.SetDirection((-1.0, 0, 0, 0, -1.0, 0, 0, 0, 1.0))
        frames.append(frame)
    path = tmp_path / f"cine{suffix}"
    try:
        cine = sitk.JoinSeries(frames)  # 4D: x, y, z, phase
    except RuntimeError:
        pytest.skip("this SimpleITK makes no 4D images (the slim packaged build); it still reads them")
    sitk.WriteImage(cine, str(path))
    info = scan(path).series[0]
    assert info.phases == 3 and info.size == [5, 6, 4]
    for p in (2, 0):
        v = load_volume(path, phase=p)
        np.testing.assert_array_equal(v.array, phases[p])
        _assert_geometry(v, (10, -20, 30), (0.5, 0.75, 2.0), np.diag([-1.0, -1.0, 1.0]))
    assert [np.array_equal(v.array, a) for v, a in zip(load_phases(path), phases)] == [True] * 3


def test_single_file_loads_its_series_from_the_folder(tmp_path):
    vol = f.phantom((6, 8, 8))
    paths = f.ct_series(vol, tmp_path)
    f.ct_series(f.phantom((4, 8, 8)), tmp_path, series_number=5, seed=9)
    v = load_volume(paths[3])
    np.testing.assert_array_equal(v.array, vol)
    assert v.meta["series_number"] == 3


def test_choose_series_by_number_and_index(tmp_path):
    f.ct_series(f.phantom((20, 8, 8)), tmp_path / "a", spacing=(0.7, 0.7, 0.6), series_number=4)
    f.ct_series(f.phantom((12, 8, 8)), tmp_path / "b", spacing=(0.7, 0.7, 3.0), series_number=2,
                description="Calcium score 3mm")
    result = scan(tmp_path)
    assert result.selected.number == 4
    assert "chosen" in result.selected.reason and "0.60 mm" in result.selected.reason
    other = next(s for s in result.series if s.number == 2)
    assert "thicker slices" in other.reason
    assert load_volume(tmp_path, series=2).array.shape[0] == 12
    assert load_volume(result, series="#0").meta["series_number"] == result.series[0].number


def test_localizer_and_derived_not_chosen_and_not_stacked(tmp_path):
    uid = "1.2.826.0.1.3680043.8.498.3"
    vol = f.phantom((10, 8, 8))
    f.ct_series(vol, tmp_path / "ax", series_uid=uid)
    # a localizer with the same series UID (some scanners do this)
    f.ct_series(f.phantom((1, 8, 8)), tmp_path / "loc", series_uid=uid,
                image_type=("ORIGINAL", "PRIMARY", "LOCALIZER"), row=(1, 0, 0), col=(0, 0, -1))
    result = scan(tmp_path)
    assert len(result.series) == 2
    chosen = result.selected
    assert chosen.slices == 10 and chosen.label == "3.1"
    loc = next(s for s in result.series if s is not chosen)
    assert "localizer" in loc.reason
    np.testing.assert_array_equal(load_volume(tmp_path).array, vol)


def test_progress_and_cancel(tmp_path):
    f.ct_series(f.phantom((6, 8, 8)), tmp_path)
    token = CancelToken()
    load_volume(tmp_path, progress=token)
    assert token.updates > 0
    token.cancel()
    with pytest.raises(CancelledError):
        load_volume(tmp_path, progress=token)
