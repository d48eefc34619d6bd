"""NRRD, NIfTI and MetaImage volumes through SimpleITK, kept in LPS.

SimpleITK converts NIfTI's RAS convention to LPS on reading, so origin and
direction come out in the DICOM patient frame like everything else. The
header is read first (``ReadImageInformation``) so the size limits apply
before any pixels are loaded. A 4D file is treated as cardiac phases along
its 4th axis.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .. import jobs
from ..errors import CorruptDataError, NotDicomError, SeriesSelectionError, UnsupportedDataError
from .limits import Limits, check_volume
from .volume import Volume

SUFFIXES = {".nrrd": "NRRD", ".nhdr": "NRRD", ".nii": "NIfTI", ".nii.gz": "NIfTI",
            ".mha": "MetaImage", ".mhd": "MetaImage"}


def file_format(path) -> str | None:
    name = Path(path).name.lower()
    for suffix, fmt in SUFFIXES.items():
        if name.endswith(suffix):
            return fmt
    return None


def is_volume_file(path) -> bool:
    return file_format(path) is not None


def _reader(path):
    import SimpleITK as sitk

    reader = sitk.ImageFileReader()
    reader.SetFileName(str(path))
    try:
        reader.ReadImageInformation()
    except RuntimeError:
        raise NotDicomError(
            f"The {file_format(path)} file cannot be read: its header is damaged or it is not a "
            f"{file_format(path)} file."
        ) from None
    return reader


def scan_file(path, info_cls, result_cls, limits: Limits):
    """A one-series ScanResult describing a volume file (header only)."""
    fmt = file_format(path)
    reader = _reader(path)
    dim = reader.GetDimension()
    if dim not in (3, 4) or reader.GetNumberOfComponents() != 1:
        raise UnsupportedDataError(
            f"The {fmt} file holds a {dim}D image with {reader.GetNumberOfComponents()} component(s) "
            "per voxel; HeartTwin needs a 3D (or 4D multi-phase) scalar volume."
        )
    size = list(reader.GetSize())
    phases = size[3] if dim == 4 else 1
    spacing = list(reader.GetSpacing())[:3]
    origin = list(reader.GetOrigin())[:3]
    direction = np.array(reader.GetDirection()).reshape(dim, dim)[:3, :3]
    name = f"The {fmt} volume"
    check_volume(name, (size[2], size[1], size[0]), 4, limits)
    warnings = []
    if any(s <= 0 for s in spacing):
        raise CorruptDataError(f"{name} has a non-positive voxel spacing {spacing}; its header is damaged.")
    info = info_cls(
        index=0, label="1", number=None, description=f"{fmt} volume", modality="",
        slices=size[2], size=size[:3], spacing_mm=[float(v) for v in spacing],
        origin_lps=[float(v) for v in origin], direction=[float(v) for v in direction.ravel()],
        phases=phases, warnings=warnings, source=fmt, path=str(path),
    )
    info.selected = True
    info.reason = f"chosen: the only volume in the {fmt} file"
    return result_cls([info], [], 0)


def load(info, phase: int, progress, limits: Limits) -> Volume:
    """Read the volume (or one phase of a 4D file) into int16 when it fits, else float32."""
    import SimpleITK as sitk

    if not 0 <= phase < info.phases:
        raise SeriesSelectionError(
            f"The {info.source} volume has {info.phases} phase(s); phase {phase} does not exist."
        )
    jobs.report(progress, 0, 2, f"Reading {info.source} volume")
    reader = _reader(info.path)
    if reader.GetDimension() == 4:  # one phase, as a 3D image (the reader extracts it)
        reader.SetExtractSize(list(reader.GetSize())[:3] + [0])
        reader.SetExtractIndex([0, 0, 0, phase])
    try:
        img = reader.Execute()
    except RuntimeError:
        raise CorruptDataError(
            f"The {info.source} file cannot be read completely: it is truncated or damaged."
        ) from None
    jobs.report(progress, 1, 2, f"Converting {info.source} volume")
    array = sitk.GetArrayViewFromImage(img)
    if np.issubdtype(array.dtype, np.integer):
        lo, hi = (int(array.min()), int(array.max())) if array.size else (0, 0)
        dtype = np.int16 if lo >= -32768 and hi <= 32767 else np.float32
    else:
        dtype = np.float32
    out = np.asarray(array, dtype=dtype).copy() if array.dtype != dtype else np.array(array)
    vol = Volume(out, img.GetSpacing(), img.GetOrigin(), np.array(img.GetDirection()).reshape(3, 3),
                 meta={"modality": info.modality, "series_number": None, "series_label": info.label,
                       "description": info.description, "phase": phase, "phases": info.phases,
                       "warnings": list(info.warnings), "source": info.source})
    jobs.report(progress, 2, 2, "Volume read")
    return vol
