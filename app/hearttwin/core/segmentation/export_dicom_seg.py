"""DICOM Segmentation (binary) of a label map, referencing its source CT series, via highdicom.

The label map must lie on the source series' own grid (same slice positions,
orientation, pixel spacing, rows and columns): each SEG frame is then exactly
one source slice. One segment per label present, coded with SNOMED CT
(see :data:`.export.PROPERTY_TYPES`), algorithm identification "HeartTwin"
with the application version.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .. import jobs
from ..errors import InputError, NotDicomError, UnsupportedDataError
from ..imaging.volume import Volume
from .export import segments

ALGORITHM_TYPES = ("AUTOMATIC", "SEMIAUTOMATIC", "MANUAL")
# tolerance for "same grid": fraction of a voxel, and for unit vectors
_INDEX_TOL = 0.05
_VECTOR_TOL = 1e-3
_TYPE2_COPIED = ("PatientName", "PatientID", "PatientBirthDate", "PatientSex", "StudyDate", "StudyTime",
                 "ReferringPhysicianName", "StudyID", "AccessionNumber")


def _read_sources(source_files, progress) -> list:
    import pydicom
    from pydicom.errors import InvalidDicomError

    if not source_files:
        raise InputError("A DICOM SEG needs the source CT series it segments; none was given.")
    datasets = []
    files = list(source_files)
    for n, f in enumerate(files):
        jobs.report(progress, n, len(files) + 2, "Reading source slice headers")
        try:
            datasets.append(pydicom.dcmread(str(f), stop_before_pixels=True))
        except (InvalidDicomError, OSError):
            raise NotDicomError(f"Source file {n + 1} of {len(files)} of the CT series cannot be read as DICOM.") from None
    if any(int(getattr(ds, "NumberOfFrames", 1) or 1) > 1 for ds in datasets):
        raise UnsupportedDataError(
            "DICOM SEG export from an enhanced multi-frame CT is not supported yet; "
            "save the label map as .seg.nrrd or .nrrd instead."
        )
    for ds in datasets:
        # highdicom copies these patient/study attributes (Type 2: may be empty, must exist)
        for keyword in _TYPE2_COPIED:
            if keyword not in ds:
                setattr(ds, keyword, "")
    if len({ds.SeriesInstanceUID for ds in datasets}) != 1:
        raise InputError("The source files of a DICOM SEG must all belong to one CT series.")
    return datasets


def _slice_index(labels: Volume, ds, n: int) -> int:
    """The label map's k of source slice ``ds``, or InputError when the grids differ."""
    def fail(what: str) -> InputError:
        return InputError(
            f"The label map is not on the source CT grid ({what} of source slice {n + 1}); "
            "DICOM SEG needs the labels on the series' own slices: resample the labels to the CT first."
        )
    try:
        iop = np.asarray(ds.ImageOrientationPatient, dtype=float)
        ipp = np.asarray(ds.ImagePositionPatient, dtype=float)
        row_spacing, col_spacing = (float(v) for v in ds.PixelSpacing)
        rows, cols = int(ds.Rows), int(ds.Columns)
    except (AttributeError, TypeError, ValueError):
        raise fail("missing position, orientation or spacing") from None
    nz, ny, nx = labels.array.shape
    if (rows, cols) != (ny, nx):
        raise fail(f"size {cols}x{rows} against {nx}x{ny}")
    if not (np.allclose(iop[:3], labels.direction[:, 0], atol=_VECTOR_TOL)
            and np.allclose(iop[3:], labels.direction[:, 1], atol=_VECTOR_TOL)):
        raise fail("orientation")
    # PixelSpacing is (between rows = along j, between columns = along i)
    if not np.allclose([col_spacing, row_spacing], labels.spacing[:2], rtol=1e-3, atol=1e-4):
        raise fail("pixel spacing")
    ijk = labels.lps_to_index(ipp)
    k = int(round(ijk[2]))
    if np.max(np.abs(ijk[:2])) > _INDEX_TOL or abs(ijk[2] - k) > _INDEX_TOL or not 0 <= k < nz:
        raise fail("position")
    return k


def write_dicom_seg(labels: Volume, path: Path, source_files, *, algorithm_type: str = "MANUAL",
                    progress=None) -> None:
    import highdicom as hd
    from pydicom.sr.codedict import codes
    from pydicom.sr.coding import Code
    from pydicom.uid import generate_uid

    from ... import __version__

    algorithm_type = str(algorithm_type).upper()
    if algorithm_type not in ALGORITHM_TYPES:
        raise InputError(f"The segmentation algorithm type must be one of {', '.join(ALGORITHM_TYPES)}.")
    segs = segments(labels)
    if not segs:
        raise InputError("The label map is empty: there is nothing to save as DICOM SEG.")
    datasets = _read_sources(source_files, progress)
    ks = [_slice_index(labels, ds, n) for n, ds in enumerate(datasets)]
    covered = np.zeros(labels.array.shape[0], bool)
    covered[ks] = True
    if len(set(ks)) != len(ks):
        raise InputError("Two source CT slices lie at the same position; the series is not one volume.")
    if labels.array[~covered].any():
        raise InputError("Some labelled slices of the label map have no source CT slice; "
                         "the label map does not match the source series.")

    # segment numbers must run 1..n: map label values onto them
    lut = np.zeros(256, np.uint8)
    for number, seg in enumerate(segs, start=1):
        lut[seg.label] = number
    frames = lut[labels.array[ks]]

    # DICOM forbids the algorithm name/identification on MANUAL segments (Type 1C, dciodvfy
    # reports it as an error); HeartTwin is then named by Manufacturer and SoftwareVersions
    algorithm = None
    if algorithm_type != "MANUAL":
        algorithm = hd.AlgorithmIdentificationSequence(
            name="HeartTwin", family=codes.cid7162.MorphologicalOperations, version=str(__version__))
    descriptions = [
        hd.seg.SegmentDescription(
            segment_number=number,
            segment_label=seg.name[:64],
            segmented_property_category=Code(seg.category[1], seg.category[0], seg.category[2]),
            segmented_property_type=Code(seg.type[1], seg.type[0], seg.type[2]),
            algorithm_type=algorithm_type,
            algorithm_identification=algorithm,
            tracking_uid=generate_uid(),
            tracking_id=f"HeartTwin label {seg.label}",
            display_color=hd.color.CIELabColor.from_rgb(*seg.colour),
        )
        for number, seg in enumerate(segs, start=1)
    ]
    jobs.report(progress, len(datasets), len(datasets) + 2, "Building DICOM SEG")
    seg = hd.seg.Segmentation(
        source_images=datasets,
        pixel_array=frames,
        segmentation_type=hd.seg.SegmentationTypeValues.BINARY,
        segment_descriptions=descriptions,
        series_instance_uid=generate_uid(),
        series_number=_series_number(datasets),
        sop_instance_uid=generate_uid(),
        instance_number=1,
        manufacturer="HeartTwin",
        manufacturer_model_name="HeartTwin",
        software_versions=str(__version__),
        device_serial_number="none",
        content_label="HEART",
        content_description="Heart structures (HeartTwin)",
        series_description="HeartTwin heart segmentation",
        omit_empty_frames=True,
    )
    jobs.report(progress, len(datasets) + 1, len(datasets) + 2, "Writing DICOM SEG")
    seg.save_as(str(path))


def _series_number(datasets) -> int:
    # a number near the source's that will not collide with it (SEG series conventionally 1xxx)
    try:
        return 1000 + int(datasets[0].SeriesNumber) % 1000
    except (AttributeError, TypeError, ValueError):
        return 1000
