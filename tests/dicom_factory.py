"""Build DICOM test data with pydicom: CT slice series and enhanced multi-frame CT.

Everything about the files is controllable (positions, orientation, rescale,
tags, file names, folder layout, transfer syntax) so each test states the
exact situation it checks. No test data is downloaded.
"""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import (CTImageStorage, EnhancedCTImageStorage, ExplicitVRLittleEndian,
                         generate_uid)

PATIENT_NAME = "Zyxwvut^Quentinella"
PATIENT_ID = "PID-987654321"
BIRTH_DATE = "19420817"
ACCESSION = "ACC-55512345"
INSTITUTION = "Saint Hypothetical Hospital"


def phantom(shape=(12, 24, 20), seed=0) -> np.ndarray:
    """A small HU volume (z, y, x) with distinct values everywhere."""
    rng = np.random.default_rng(seed)
    vol = rng.integers(-1000, 1500, size=shape).astype(np.int16)
    vol[:, 0, 0] = np.arange(shape[0]) * 10  # each slice recognisable
    return vol


def _patient(ds: Dataset) -> None:
    ds.PatientName = PATIENT_NAME
    ds.PatientID = PATIENT_ID
    ds.PatientBirthDate = BIRTH_DATE
    ds.AccessionNumber = ACCESSION
    ds.InstitutionName = INSTITUTION


def _meta(sop_class, sop_uid, ts=ExplicitVRLittleEndian) -> FileMetaDataset:
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop_class
    meta.MediaStorageSOPInstanceUID = sop_uid
    meta.TransferSyntaxUID = ts
    return meta


def _stored(hu: np.ndarray, slope: float, intercept: float, signed: bool) -> np.ndarray:
    stored = np.rint((hu.astype(np.float64) - intercept) / slope)
    return stored.astype(np.int16 if signed else np.uint16)


def ct_slice(hu2d, position, *, row=(1, 0, 0), col=(0, 1, 0), pixel_spacing=(0.7, 0.7),
             slope=1.0, intercept=-1024.0, series_uid="1.2.3", series_number=3,
             description="CTA 0.6 ARTERIAL", modality="CT", image_type=("ORIGINAL", "PRIMARY", "AXIAL"),
             instance=1, thickness=1.0, signed=None, study_uid="1.2.3.4", for_uid="1.2.3.5",
             **tags) -> Dataset:
    """One classic CT Image Storage slice with the given HU pixels and geometry."""
    sop_uid = generate_uid()
    ds = Dataset()
    ds.file_meta = _meta(CTImageStorage, sop_uid)
    ds.SOPClassUID = CTImageStorage
    ds.SOPInstanceUID = sop_uid
    ds.StudyInstanceUID = study_uid
    ds.SeriesInstanceUID = series_uid
    ds.FrameOfReferenceUID = for_uid
    _patient(ds)
    ds.StudyDate = "20240102"
    ds.Modality = modality
    ds.SeriesNumber = series_number
    ds.SeriesDescription = description
    ds.ImageType = list(image_type)
    ds.InstanceNumber = instance
    ds.AcquisitionNumber = 1
    ds.ImagePositionPatient = [float(v) for v in position]
    ds.ImageOrientationPatient = [float(v) for v in (*row, *col)]
    ds.PixelSpacing = [float(v) for v in pixel_spacing]
    ds.SliceThickness = thickness
    ds.RescaleSlope = slope
    ds.RescaleIntercept = intercept
    ds.RescaleType = "HU"
    if signed is None:
        signed = bool(((np.asarray(hu) - intercept) / slope).min() < 0) if (hu := hu2d) is not None else False
    stored = _stored(np.asarray(hu2d), slope, intercept, signed)
    ds.Rows, ds.Columns = stored.shape
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated = 16
    ds.BitsStored = 16 if signed else 12
    ds.HighBit = ds.BitsStored - 1
    ds.PixelRepresentation = 1 if signed else 0
    ds.PixelData = stored.tobytes()
    for key, value in tags.items():
        setattr(ds, key, value)
    return ds


def slice_positions(nz, origin=(-10.0, -20.0, 30.0), spacing_z=1.25, row=(1, 0, 0), col=(0, 1, 0)):
    normal = np.cross(row, col)
    return [tuple(np.asarray(origin, float) + k * spacing_z * normal) for k in range(nz)]


def ct_series(volume, folder, *, spacing=(0.7, 0.7, 1.25), origin=(-10.0, -20.0, 30.0),
              row=(1, 0, 0), col=(0, 1, 0), slopes=None, intercepts=None, positions=None,
              names="random", nested=False, seed=0, series_uid=None, per_slice=None,
              compress=None, **kwargs) -> list[Path]:
    """Write ``volume`` (z, y, x HU) as one CT series; returns the file paths (in slice order).

    ``per_slice(k, ds)`` may edit each dataset; ``compress`` is a transfer syntax UID.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    nz = volume.shape[0]
    rnd = random.Random(seed)
    series_uid = series_uid or generate_uid()
    positions = positions or slice_positions(nz, origin, spacing[2], row, col)
    paths = []
    for k in range(nz):
        slope = slopes[k] if slopes is not None else 1.0
        intercept = intercepts[k] if intercepts is not None else -1024.0
        ds = ct_slice(volume[k], positions[k], row=row, col=col, pixel_spacing=(spacing[1], spacing[0]),
                      slope=slope, intercept=intercept, series_uid=series_uid, instance=nz - k, **kwargs)
        if per_slice is not None:
            ds = per_slice(k, ds) or ds
        if compress is not None:
            ds.compress(compress)
        name = f"{rnd.getrandbits(40):010x}" if names == "random" else f"IM{k:04d}"
        sub = folder / f"d{k % 3}" / f"e{k % 2}" if nested else folder
        sub.mkdir(parents=True, exist_ok=True)
        path = sub / name
        ds.save_as(path, enforce_file_format=True)
        paths.append(path)
    return paths


def enhanced_ct(volume, path, *, spacing=(0.7, 0.7, 1.25), origin=(-10.0, -20.0, 30.0),
                row=(1, 0, 0), col=(0, 1, 0), slopes=None, intercepts=None, temporal=None,
                series_number=7, description="Enhanced CTA", shuffle=False, percent=None) -> Path:
    """Write an Enhanced CT Image Storage multi-frame file from a (frames, y, x) HU array.

    ``temporal``/``percent`` give each frame a TemporalPositionIndex / cardiac % (multi-phase).
    """
    nf = volume.shape[0]
    slopes = slopes or [1.0] * nf
    intercepts = intercepts or [-1024.0] * nf
    sop_uid = generate_uid()
    ds = Dataset()
    ds.file_meta = _meta(EnhancedCTImageStorage, sop_uid)
    ds.SOPClassUID = EnhancedCTImageStorage
    ds.SOPInstanceUID = sop_uid
    ds.SeriesInstanceUID = generate_uid()
    ds.StudyInstanceUID = generate_uid()
    _patient(ds)
    ds.Modality = "CT"
    ds.SeriesNumber = series_number
    ds.SeriesDescription = description
    ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL", "NONE"]
    ds.NumberOfFrames = nf
    ds.Rows, ds.Columns = volume.shape[1:]
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 1
    shared = Dataset()
    orient = Dataset()
    orient.ImageOrientationPatient = [float(v) for v in (*row, *col)]
    measures = Dataset()
    measures.PixelSpacing = [spacing[1], spacing[0]]
    measures.SliceThickness = spacing[2]
    shared.PlaneOrientationSequence = Sequence([orient])
    shared.PixelMeasuresSequence = Sequence([measures])
    ds.SharedFunctionalGroupsSequence = Sequence([shared])
    normal = np.cross(row, col)
    frames = []
    order = list(range(nf))
    if shuffle:
        random.Random(1).shuffle(order)
    for f in order:
        k = f if temporal is None else f % (nf // len(set(temporal)))
        item = Dataset()
        pos = Dataset()
        pos.ImagePositionPatient = [float(v) for v in np.asarray(origin) + k * spacing[2] * normal]
        item.PlanePositionSequence = Sequence([pos])
        pvt = Dataset()
        pvt.RescaleSlope, pvt.RescaleIntercept, pvt.RescaleType = slopes[f], intercepts[f], "HU"
        item.PixelValueTransformationSequence = Sequence([pvt])
        content = Dataset()
        if temporal is not None:
            content.TemporalPositionIndex = temporal[f]
        item.FrameContentSequence = Sequence([content])
        if percent is not None:
            sync = Dataset()
            sync.add_new((0x0020, 0x9241), "FL", percent[f])
            item.CardiacSynchronizationSequence = Sequence([sync])
        frames.append(item)
    ds.PerFrameFunctionalGroupsSequence = Sequence(frames)
    stored = np.stack([_stored(volume[f], slopes[f], intercepts[f], True) for f in order])
    ds.PixelData = stored.tobytes()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path, enforce_file_format=True)
    return path


def write(ds: Dataset, path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path, enforce_file_format=True)
    return path


def non_image(modality: str, sop_class: str, series_uid=None) -> Dataset:
    """A pixel-less object (RTSTRUCT, SR, ...) with patient data, for mixing into folders."""
    uid = generate_uid()
    ds = Dataset()
    ds.file_meta = _meta(sop_class, uid)
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = uid
    ds.SeriesInstanceUID = series_uid or generate_uid()
    ds.Modality = modality
    ds.SeriesNumber = 99
    _patient(ds)
    return ds
