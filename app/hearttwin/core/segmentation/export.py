"""Write and read label maps: NRRD, Slicer .seg.nrrd, NIfTI and DICOM SEG.

``write_labels(labels, path)`` picks the format from the file name's suffix:

=============  ====================================================================
``.nrrd``      uint8 label map, gzip, ``space: left-posterior-superior``
``.seg.nrrd``  3D Slicer segmentation (one binary-labelmap layer, names, colours,
               terminology) so Slicer opens it as a Segmentation
``.nii``       NIfTI through SimpleITK (which writes LPS geometry as NIfTI's RAS)
``.nii.gz``    the same, gzip-compressed
``.dcm``       DICOM Segmentation (binary) referencing the source CT series; needs
               ``source_files`` and a label map on exactly the source slice grid
=============  ====================================================================

Files are written atomically: to a temporary file in the target folder, then
renamed over the target with ``os.replace``, so a crash never leaves a
half-written label map under the real name. ``read_labels`` reads .nrrd,
.seg.nrrd and NIfTI back into a uint8 :class:`Volume` (LPS), so editing can
resume from a file. Messages never contain paths (a folder may be named after
the patient) nor any patient data.

Segment names and colours come from the label table (resources/labels.json)
for labels 1..7; user segments (10 and up) take theirs from
``labels.meta["segments"] = {label: {"name": ..., "colour": (r, g, b)}}``
when present.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import jobs
from ..atomic import atomic_path as _atomic_path
from ..errors import CorruptDataError, InputError, NotDicomError
from ..imaging.volume import Volume
from . import labels as label_table

#: suffix -> format name, longest suffixes first
FORMATS = {".seg.nrrd": "seg.nrrd", ".nii.gz": "nifti", ".nrrd": "nrrd", ".nii": "nifti", ".dcm": "dicom-seg"}

#: SNOMED CT codes (scheme, value, meaning) for the heart structures. Source: the DICOM
#: context groups as shipped in pydicom.sr (CID 7150 Segmentation Property Categories;
#: CID 7151 Segmentation Property Types / CID 3010 Cardiovascular Anatomic Structures for
#: the chambers and vessels; CID 12305 Basic Echo Anatomic Sites for the LV myocardium).
ANATOMICAL_STRUCTURE = ("SCT", "91723000", "Anatomical Structure")
TISSUE = ("SCT", "85756007", "Tissue")
PROPERTY_TYPES = {
    1: ("SCT", "87878005", "Left ventricle"),
    2: ("SCT", "53085002", "Right ventricle"),
    3: ("SCT", "82471001", "Left atrium"),
    4: ("SCT", "73829009", "Right atrium"),
    5: ("SCT", "49848007", "Left Ventricle Myocardium"),
    6: ("SCT", "15825003", "Aorta"),
    7: ("SCT", "81040000", "Pulmonary artery"),
}

# distinct colours for user segments without one (cycled)
_USER_COLOURS = [(128, 174, 128), (241, 214, 145), (177, 122, 101), (111, 184, 210), (216, 101, 79),
                 (250, 250, 225), (144, 238, 144), (183, 214, 211), (252, 211, 45), (180, 140, 200)]


@dataclass(frozen=True)
class Segment:
    label: int
    name: str
    colour: tuple[int, int, int]  # 0-255
    category: tuple[str, str, str]
    type: tuple[str, str, str]


def segments(labels: Volume) -> list[Segment]:
    """The segments present in the label map, in label order, with names, colours and codes."""
    present = np.flatnonzero(np.bincount(labels.array.ravel(), minlength=256))
    user = {int(k): v for k, v in (labels.meta.get("segments") or {}).items()}
    out = []
    for value in (int(v) for v in present if v != 0):
        if value in PROPERTY_TYPES:
            s = label_table.by_label(value)
            out.append(Segment(value, s.name, tuple(s.colour), ANATOMICAL_STRUCTURE, PROPERTY_TYPES[value]))
        else:
            info = user.get(value, {})
            colour = tuple(int(c) for c in info.get("colour", _USER_COLOURS[value % len(_USER_COLOURS)]))
            out.append(Segment(value, str(info.get("name", f"Segment {value}")), colour, TISSUE, TISSUE))
    return out


def file_format(path) -> str:
    name = Path(path).name.lower()
    for suffix, fmt in FORMATS.items():
        if name.endswith(suffix):
            return fmt
    raise InputError(
        "Label maps can be saved as .nrrd, .seg.nrrd, .nii, .nii.gz or .dcm (DICOM SEG); "
        f"the file name ends in {Path(path).suffix or 'no suffix'!r}."
    )


def _suffix(path) -> str:
    name = Path(path).name.lower()
    return next(s for s in FORMATS if name.endswith(s))


@contextmanager
def atomic_path(path):
    """Yield a temporary path beside ``path`` (same suffix); rename it over ``path`` on success."""
    path = Path(path)
    if not path.parent.is_dir():
        raise InputError("The folder to save the label map in does not exist.")
    with _atomic_path(path, suffix=_suffix(path)) as tmp:
        yield tmp


def _check_labels(labels: Volume) -> None:
    arr = labels.array
    if arr.ndim != 3 or arr.dtype != np.uint8:
        raise InputError(f"A label map must be a 3D uint8 array; got {arr.ndim}D {arr.dtype}.")


def write_labels(labels: Volume, path, *, source_files=None, progress=None,
                 algorithm_type: str = "MANUAL") -> Path:
    """Write a label map; the format follows the suffix (see the module docstring).

    ``source_files`` (the source CT series' DICOM files) and ``algorithm_type``
    ("AUTOMATIC", "SEMIAUTOMATIC" or "MANUAL") are used by DICOM SEG only.
    Returns the path written.
    """
    _check_labels(labels)
    fmt = file_format(path)
    path = Path(path)
    jobs.report(progress, 0, 1, f"Saving label map ({fmt})")
    with atomic_path(path) as tmp:
        if fmt == "nrrd":
            from .export_nrrd import write_nrrd

            write_nrrd(labels, tmp)
        elif fmt == "seg.nrrd":
            from .export_nrrd import write_seg_nrrd

            write_seg_nrrd(labels, tmp)
        elif fmt == "nifti":
            _write_nifti(labels, tmp)
        else:
            from .export_dicom_seg import write_dicom_seg

            write_dicom_seg(labels, tmp, source_files, algorithm_type=algorithm_type, progress=progress)
    jobs.report(progress, 1, 1, "Label map saved")
    return path


def _write_nifti(labels: Volume, tmp: Path) -> None:
    import SimpleITK as sitk

    writer = sitk.ImageFileWriter()
    writer.SetFileName(str(tmp))
    writer.SetUseCompression(tmp.name.lower().endswith(".gz"))
    writer.Execute(labels.to_sitk())


def read_labels(path) -> Volume:
    """Read a label map (.nrrd, .seg.nrrd, .nii, .nii.gz) as a uint8 Volume in LPS."""
    path = Path(path)
    fmt = file_format(path)
    if fmt == "dicom-seg":
        raise InputError("Reading label maps back from DICOM SEG is not supported; use .nrrd or .seg.nrrd.")
    if not path.is_file():
        raise InputError("The label map file does not exist.")
    if fmt in ("nrrd", "seg.nrrd"):
        from .export_nrrd import read_nrrd

        return read_nrrd(path)
    import SimpleITK as sitk

    try:
        img = sitk.ReadImage(str(path))
    except RuntimeError:
        raise NotDicomError("The NIfTI label map cannot be read: it is damaged or not NIfTI.") from None
    if img.GetDimension() != 3 or img.GetNumberOfComponentsPerPixel() != 1:
        raise InputError("The NIfTI label map must be a 3D image with one value per voxel.")
    vol = Volume.from_sitk(img, meta={"source": "NIfTI"})
    vol.array = as_label_array(vol.array)
    return vol


def as_label_array(array: np.ndarray) -> np.ndarray:
    """``array`` as uint8 labels; refuses fractional or out-of-range values."""
    array = np.asarray(array)
    if array.dtype == np.uint8:
        return array
    if array.size:
        lo, hi = array.min(), array.max()
        if lo < 0 or hi > 255:
            raise CorruptDataError(f"The label map holds values from {lo} to {hi}; labels must be 0..255.")
        if not np.issubdtype(array.dtype, np.integer) and not np.array_equal(array, np.round(array)):
            raise CorruptDataError("The label map holds fractional values; it is not a label map.")
    return array.astype(np.uint8)
