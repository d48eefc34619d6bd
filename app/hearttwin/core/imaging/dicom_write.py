"""Write a Volume as a CT Image Storage series (one file per slice).

Used for the synthetic phantom and for exporting. Files are explicit VR
little endian, or RLE Lossless on request (about half the size, the same
pixels), 16-bit allocated / 12 bits stored, unsigned, with rescale
intercept -1024: HU outside [-1024, 3071] are clipped to that range (the
count is logged). Several phases of one
acquisition go into one series: they share the SeriesInstanceUID and the
slice positions and differ in TriggerTime, NominalPercentageOfCardiacPhase
and TemporalPositionIndex. File names are random, so readers must sort by
geometry, not by name.
"""

from __future__ import annotations

import datetime as _dt
import logging
from pathlib import Path

import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, RLELossless, generate_uid

from .. import jobs
from .volume import Volume

log = logging.getLogger(__name__)

HU_MIN, HU_MAX = -1024, 3071  # 12 bits stored, intercept -1024
IMPLEMENTATION_UID = "1.2.826.0.1.3680043.8.498.1"  # pydicom's root + fixed suffix
IMPLEMENTATION_VERSION = "HEARTTWIN_01"


def _study_defaults(study: dict | None) -> dict:
    now = _dt.datetime.now()
    out = {
        "StudyInstanceUID": generate_uid(),
        "FrameOfReferenceUID": generate_uid(),
        "SeriesInstanceUID": generate_uid(),
        "StudyDate": now.strftime("%Y%m%d"),
        "StudyTime": now.strftime("%H%M%S"),
        "PatientName": "PHANTOM^SYNTHETIC",
        "PatientID": "PHANTOM",
        "StudyID": "1",
        "AccessionNumber": "",
    }
    out.update(study or {})
    return out


def new_study(patient_name: str = "PHANTOM^SYNTHETIC", patient_id: str = "PHANTOM", *,
              entropy: str | None = None, date: str | None = None) -> dict:
    """UIDs and study-level values to share across calls (e.g. the phases of a series).

    Parameters
    ----------
    patient_name, patient_id : str
        Synthetic identification (never real patient data).
    entropy : str, optional
        Makes every UID (study, series, frame of reference and, in
        :func:`write_ct_series`, each SOP instance) a deterministic function
        of this string, so a seeded phantom is byte-for-byte reproducible.
    date : str, optional
        StudyDate (YYYYMMDD); today by default (with ``entropy``, 20250101).
    """
    values = {"PatientName": patient_name, "PatientID": patient_id}
    if entropy is not None:
        for key in ("StudyInstanceUID", "SeriesInstanceUID", "FrameOfReferenceUID"):
            values[key] = generate_uid(entropy_srcs=[entropy, key])
        values["entropy"] = entropy
        values["StudyDate"], values["StudyTime"] = date or "20250101", "120000"
    elif date is not None:
        values["StudyDate"] = date
    return _study_defaults(values)


def _base_dataset(volume: Volume, study: dict, series_number: int, description: str,
                  acquisition: dict) -> Dataset:
    ds = Dataset()
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
    ds.SOPClassUID = CTImageStorage
    ds.StudyDate = ds.SeriesDate = ds.ContentDate = ds.AcquisitionDate = study["StudyDate"]
    ds.StudyTime = ds.SeriesTime = ds.ContentTime = ds.AcquisitionTime = study["StudyTime"]
    ds.AccessionNumber = study["AccessionNumber"]
    ds.Modality = "CT"
    ds.Manufacturer = "HeartTwin phantom"
    ds.InstitutionName = "Synthetic"
    ds.ReferringPhysicianName = ""
    ds.StationName = "HEARTTWIN"
    ds.StudyDescription = "Synthetic cardiac CT phantom"
    ds.SeriesDescription = description
    ds.ManufacturerModelName = "HeartTwin XCAT-style generator"
    ds.PatientName = study["PatientName"]
    ds.PatientID = study["PatientID"]
    ds.PatientBirthDate = ""
    ds.PatientSex = "O"
    ds.PatientAge = "060Y"
    ds.BodyPartExamined = "HEART"
    ds.ContrastBolusAgent = "Iodinated contrast (simulated)"
    ds.ScanOptions = "HELICAL"
    ds.SliceThickness = f"{volume.spacing[2]:.6g}"
    ds.KVP = str(acquisition.get("kvp", 100))
    ds.SpacingBetweenSlices = f"{volume.spacing[2]:.6g}"
    ds.DataCollectionDiameter = "500"
    ds.SoftwareVersions = IMPLEMENTATION_VERSION
    ds.ReconstructionDiameter = f"{volume.spacing[0] * volume.size[0]:.6g}"
    ds.DistanceSourceToDetector = "1085.6"
    ds.DistanceSourceToPatient = "595"
    ds.GantryDetectorTilt = "0"
    ds.TableHeight = "150"
    ds.RotationDirection = "CW"
    ds.ExposureTime = "280"
    ds.XRayTubeCurrent = str(acquisition.get("ma", 350))
    ds.Exposure = "98"
    ds.FilterType = "BODY"
    ds.GeneratorPower = "35"
    ds.FocalSpots = "1.2"
    ds.ConvolutionKernel = acquisition.get("kernel", "CARDIAC_SOFT")
    ds.PatientPosition = "FFS"
    ds.StudyInstanceUID = study["StudyInstanceUID"]
    ds.SeriesInstanceUID = study["SeriesInstanceUID"]
    ds.StudyID = study["StudyID"]
    ds.SeriesNumber = str(series_number)
    ds.AcquisitionNumber = "1"
    ds.FrameOfReferenceUID = study["FrameOfReferenceUID"]
    ds.PositionReferenceIndicator = ""
    row, col = volume.direction[:, 0], volume.direction[:, 1]
    ds.ImageOrientationPatient = [f"{v:.6g}" for v in (*row, *col)]
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows, ds.Columns = volume.size[1], volume.size[0]
    ds.PixelSpacing = [f"{volume.spacing[1]:.6g}", f"{volume.spacing[0]:.6g}"]  # row, column
    ds.BitsAllocated = 16
    ds.BitsStored = 12
    ds.HighBit = 11
    ds.PixelRepresentation = 0
    ds.WindowCenter = "300"
    ds.WindowWidth = "1000"
    ds.RescaleIntercept = str(HU_MIN)
    ds.RescaleSlope = "1"
    ds.RescaleType = "HU"
    ds.WindowCenterWidthExplanation = "CARDIAC"
    return ds


def _file_meta(sop_uid: str) -> FileMetaDataset:
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = CTImageStorage
    meta.MediaStorageSOPInstanceUID = sop_uid
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.ImplementationClassUID = IMPLEMENTATION_UID
    meta.ImplementationVersionName = IMPLEMENTATION_VERSION
    return meta


def write_ct_series(volume: Volume, out_dir, *, rng: np.random.Generator | None = None,
                    series_number: int = 1, series_description: str = "Cardiac CTA",
                    study: dict | None = None, phase: dict | None = None,
                    instance_offset: int = 0, acquisition: dict | None = None,
                    rle: bool = False, progress=None) -> list[Path]:
    """Write ``volume`` (HU) as CT Image Storage files, one per slice.

    Parameters
    ----------
    volume : Volume
        HU image; arrays (z, y, x); any direction with orthonormal columns.
    out_dir : path
        Folder for the files (created if needed).
    rng : numpy.random.Generator, optional
        Source of the random file names (deterministic names for a seeded rng).
    series_number, series_description : int, str
        Series identification.
    study : dict, optional
        Shared values from :func:`new_study` (UIDs, patient name and ID, date)
        so several calls build one study / one series (phases).
    phase : dict, optional
        ``{"phase": 0..1, "index": 1-based temporal position, "rr_ms": RR
        interval}``: writes TriggerTime, NominalPercentageOfCardiacPhase and
        TemporalPositionIndex (dciodvfy notes them as standard-extended).
    instance_offset : int
        Added to InstanceNumber (phases after the first continue numbering).
    acquisition : dict, optional
        ``kvp``, ``ma``, ``kernel`` overrides.
    rle : bool
        Store the pixel data RLE Lossless (PS3.5 annex G) instead of uncompressed:
        the same pixels in about half the space, decoded by every DICOM reader.
    progress : jobs.Progress, optional
        Reported per slice; cancelling raises CancelledError.

    Returns
    -------
    list of Path
        The written files in slice order.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = rng if rng is not None else np.random.default_rng()
    study = _study_defaults(study)
    arr = np.asarray(volume.array)
    clipped = int(np.count_nonzero((arr < HU_MIN) | (arr > HU_MAX)))
    if clipped:
        log.info("%d voxels outside the 12-bit HU range [%d, %d] were clipped",
                 clipped, HU_MIN, HU_MAX)
    stored = (np.clip(np.rint(arr), HU_MIN, HU_MAX) - HU_MIN).astype(np.uint16)
    base = _base_dataset(volume, study, series_number, series_description, acquisition or {})
    normal = volume.direction[:, 2]
    nz = arr.shape[0]
    paths = []
    for k in range(nz):
        jobs.report(progress, k, nz, "Writing DICOM series")
        ds = base.copy()
        number = instance_offset + k + 1
        entropy = study.get("entropy")
        sop = (generate_uid(entropy_srcs=[entropy, str(study["SeriesInstanceUID"]), str(number)])
               if entropy else generate_uid())
        ds.SOPInstanceUID = sop
        ds.InstanceNumber = str(number)
        pos = volume.index_to_lps([0.0, 0.0, float(k)])
        ds.ImagePositionPatient = [f"{v:.6f}" for v in pos]
        ds.SliceLocation = f"{float(np.dot(pos, normal)):.6f}"
        if phase is not None:
            rr = float(phase.get("rr_ms", 1000.0))
            ds.TriggerTime = f"{phase['phase'] * rr:.1f}"
            ds.NominalPercentageOfCardiacPhase = round(float(phase["phase"]) * 100.0, 3)
            ds.TemporalPositionIndex = int(phase.get("index", 1))
        ds.PixelData = np.ascontiguousarray(stored[k]).tobytes()
        ds.file_meta = _file_meta(sop)
        if rle:
            ds.compress(RLELossless, generate_instance_uid=False)  # the first write, not a copy
        name = f"{rng.integers(0, 2**63):016x}.dcm"
        path = out_dir / name
        pydicom.dcmwrite(path, ds, enforce_file_format=True)
        paths.append(path)
    jobs.report(progress, nz, nz, "DICOM series written")
    return paths
