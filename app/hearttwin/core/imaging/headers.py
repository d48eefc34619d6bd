"""Read the header of one DICOM file, fast, into plain records (no pixel data).

Each image frame becomes a :class:`SliceRecord` with everything grouping,
geometry and pixel reading need. Pixel data is never loaded here: the file is
parsed with deferred reading so large values (pixel data, private blobs) are
skipped and, for uncompressed files, the byte offset of the pixel data is kept
so the loader can read it straight into its output array.

Values that identify the patient are never read into the records.
"""

from __future__ import annotations

import os
import stat
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field

import pydicom
from pydicom import config as dicom_config
from pydicom.errors import InvalidDicomError

PIXEL_DATA = 0x7FE00010
FLOAT_PIXEL_DATA = (0x7FE00008, 0x7FE00009)
DEFER_BYTES = 2048

#: transfer syntaxes whose pixel data is stored uncompressed (byte order below)
NATIVE_SYNTAXES = {
    "1.2.840.10008.1.2": "<",  # implicit VR little endian
    "1.2.840.10008.1.2.1": "<",  # explicit VR little endian
    "1.2.840.10008.1.2.2": ">",  # explicit VR big endian (retired)
}
DEFLATED = "1.2.840.10008.1.2.1.99"

#: SOP classes / modalities that are never image volumes: what to call them
NON_IMAGE_MODALITIES = {
    "SEG": "DICOM SEG segmentation",
    "RTSTRUCT": "RT structure set",
    "RTPLAN": "RT plan",
    "RTDOSE": "RT dose grid",
    "RTRECORD": "RT treatment record",
    "SR": "structured report",
    "PR": "presentation state",
    "KO": "key object selection",
    "REG": "registration object",
    "DOC": "encapsulated document",
}
SECONDARY_CAPTURE_PREFIX = "1.2.840.10008.5.1.4.1.1.7"
DICOMDIR_CLASS = "1.2.840.10008.1.3.10"


@dataclass
class PixelFormat:
    """How one file stores its pixels (shared by all frames of the file)."""

    transfer_syntax: str
    rows: int
    cols: int
    bits_allocated: int
    bits_stored: int
    signed: bool
    samples: int
    photometric: str
    n_frames: int
    #: byte offset of the pixel data value in the file (uncompressed only)
    offset: int | None
    #: declared length of the pixel data element (None if undefined/encapsulated)
    length: int | None
    file_size: int
    #: the pixel data element could not be parsed (truncated/damaged file)
    damaged: bool = False

    @property
    def byte_order(self) -> str | None:
        """'<' or '>' when pixels can be read directly from the file, else None."""
        return NATIVE_SYNTAXES.get(self.transfer_syntax) if self.offset is not None else None

    @property
    def frame_bytes(self) -> int:
        return self.rows * self.cols * self.samples * self.bits_allocated // 8


@dataclass
class SliceRecord:
    """One image frame: where it is, what it is, and how to read it."""

    path: str
    frame: int | None  # None: the file's only frame
    fmt: PixelFormat
    series_uid: str
    series_number: int | None
    description: str
    modality: str
    sop_class: str
    sop_instance: str
    image_type: tuple[str, ...]
    acquisition_number: int | None
    position: tuple[float, float, float] | None
    orientation: tuple[float, ...] | None
    pixel_spacing: tuple[float, float] | None  # (row spacing, column spacing)
    slice_thickness: float | None
    slope: float = 1.0
    intercept: float = 0.0
    trigger_time: float | None = None
    temporal_index: int | None = None
    cardiac_percent: float | None = None
    extra: dict = field(default_factory=dict)


@dataclass
class FileHeader:
    """What one file turned out to be: image frames, or a reason to skip it."""

    records: list[SliceRecord]
    skipped: str | None = None  # e.g. "RT structure set", "non-DICOM file"
    problem: str | None = None  # a user-readable note on why it was skipped


@contextmanager
def _lenient_reading():
    """PACS data often has slightly invalid values; read them without warnings.

    pydicom's validation warnings may quote element values (patient names
    included), so they must not reach logs.
    """
    old = dicom_config.settings.reading_validation_mode
    dicom_config.settings.reading_validation_mode = dicom_config.IGNORE
    try:
        with warnings.catch_warnings():  # pydicom warnings name the file (paths may name the patient)
            warnings.simplefilter("ignore")
            yield
    finally:
        dicom_config.settings.reading_validation_mode = old


def looks_like_dicom(prefix: bytes) -> bool:
    """Part-10 files have 'DICM' at 128; raw ACR-NEMA-style files start with a group 0008 tag."""
    if len(prefix) >= 132 and prefix[128:132] == b"DICM":
        return True
    return len(prefix) >= 8 and prefix[:2] in (b"\x08\x00", b"\x02\x00") and prefix[3:4] == b"\x00"


def read_header(path: str) -> FileHeader:
    """Parse one file's header. Never raises for bad content (returns a skip reason);
    raises ``PermissionError`` when the file cannot be opened."""
    st = os.stat(path)
    if not stat.S_ISREG(st.st_mode):  # FIFOs and devices would block forever
        return FileHeader([], "special files", "not a regular file")
    with open(path, "rb") as f:
        prefix = f.read(132)
    if not looks_like_dicom(prefix):
        return FileHeader([], "non-DICOM files", "not DICOM")
    try:
        with _lenient_reading():
            ds = pydicom.dcmread(path, defer_size=DEFER_BYTES, force=prefix[128:132] != b"DICM")
    except (InvalidDicomError, EOFError, ValueError, KeyError, TypeError, OverflowError) as err:
        damaged = _header_without_pixels(path, prefix, st.st_size)
        return damaged or FileHeader([], "unreadable DICOM files", f"damaged header ({type(err).__name__})")
    if PIXEL_DATA not in ds and not any(t in ds for t in FLOAT_PIXEL_DATA):
        # pydicom may give up (and return what it has, even nothing) when the file ends
        # inside the pixel data: re-read the header alone to report the damage
        damaged = _header_without_pixels(path, prefix, st.st_size)
        if damaged is not None:
            return damaged
    try:
        with _lenient_reading():
            header = _records_from_dataset(ds, path, st.st_size)
        return header
    except (ValueError, TypeError, KeyError, AttributeError, EOFError, OverflowError) as err:
        return FileHeader([], "unreadable DICOM files", f"damaged header ({type(err).__name__})")


def _header_without_pixels(path: str, prefix: bytes, file_size: int) -> FileHeader | None:
    """A file whose header parses but whose (encapsulated) pixel data is cut short.

    Its frames are kept, marked damaged, so the series reports *where* the
    damage is instead of silently losing a slice.
    """
    try:
        with _lenient_reading():
            ds = pydicom.dcmread(path, stop_before_pixels=True, force=prefix[128:132] != b"DICM")
            if "Rows" not in ds:
                return None
            ds.PixelData = b""  # placeholder so the file is treated as an image
            header = _records_from_dataset(ds, path, file_size)
    except (InvalidDicomError, EOFError, ValueError, KeyError, TypeError, OverflowError, AttributeError):
        return None
    for r in header.records:
        r.fmt.damaged = True
    return header


def _records_from_dataset(ds, path: str, file_size: int) -> FileHeader:
    meta = getattr(ds, "file_meta", None)
    sop_class = str(ds.get("SOPClassUID", "") or (meta.get("MediaStorageSOPClassUID", "") if meta else ""))
    if sop_class == DICOMDIR_CLASS or "DirectoryRecordSequence" in ds:
        return FileHeader([], "DICOMDIR index", "an index of the folder, not needed")
    modality = str(ds.get("Modality", "") or "").upper()
    if modality in NON_IMAGE_MODALITIES:
        return FileHeader([], NON_IMAGE_MODALITIES[modality], "not an image series")
    if sop_class.startswith(SECONDARY_CAPTURE_PREFIX):
        return FileHeader([], "secondary capture images", "screen captures, not a CT volume")
    has_float = any(t in ds for t in FLOAT_PIXEL_DATA)
    if PIXEL_DATA not in ds:
        what = "float pixel data images" if has_float else "DICOM objects without pixels"
        return FileHeader([], what, "not an image series HeartTwin can use")
    samples = _int(ds.get("SamplesPerPixel", 1), 1)
    if samples != 1:
        return FileHeader([], "colour images", "colour (photographs/screen captures), not a CT volume")

    fmt = _pixel_format(ds, meta, file_size)
    from .multiframe import is_enhanced, records_from_enhanced  # local: avoids an import cycle

    common = dict(
        path=path,
        fmt=fmt,
        series_uid=str(ds.get("SeriesInstanceUID", "") or ""),
        series_number=_int_or_none(ds.get("SeriesNumber")),
        description=str(ds.get("SeriesDescription", "") or ""),
        modality=modality,
        sop_class=sop_class,
        sop_instance=str(ds.get("SOPInstanceUID", "") or ""),
        image_type=tuple(str(v).upper() for v in _as_list(ds.get("ImageType", ()))),
        acquisition_number=_int_or_none(ds.get("AcquisitionNumber")),
    )
    if is_enhanced(ds):
        return FileHeader(records_from_enhanced(ds, common))
    records = []
    for frame in range(fmt.n_frames) if fmt.n_frames > 1 else [None]:
        records.append(
            SliceRecord(
                frame=frame,
                position=_floats(ds.get("ImagePositionPatient"), 3),
                orientation=_floats(ds.get("ImageOrientationPatient"), 6),
                pixel_spacing=_floats(ds.get("PixelSpacing"), 2),
                slice_thickness=_float_or_none(ds.get("SliceThickness")),
                slope=_float_or_none(ds.get("RescaleSlope")) or 1.0,
                intercept=_float_or_none(ds.get("RescaleIntercept")) or 0.0,
                trigger_time=_float_or_none(ds.get("TriggerTime")),
                temporal_index=_int_or_none(ds.get("TemporalPositionIndex")),
                cardiac_percent=_float_or_none(getattr(ds.get((0x0020, 0x9241)), "value", None)),
                **common,
            )
        )
    return FileHeader(records)


def _pixel_format(ds, meta, file_size: int) -> PixelFormat:
    ts = str(meta.get("TransferSyntaxUID", "") if meta else "") or (
        "1.2.840.10008.1.2" if ds.is_implicit_VR else "1.2.840.10008.1.2.1"
    )
    raw = ds.get_item(PIXEL_DATA, keep_deferred=True)
    offset = length = None
    undefined = 0xFFFFFFFF
    if raw is not None:
        rlen = getattr(raw, "length", None)
        tell = getattr(raw, "value_tell", None)
        if rlen is not None and rlen != undefined:
            length = int(rlen)
            if ts in NATIVE_SYNTAXES and tell is not None:
                offset = int(tell)
    return PixelFormat(
        transfer_syntax=ts,
        rows=_int(ds.get("Rows", 0), 0),
        cols=_int(ds.get("Columns", 0), 0),
        bits_allocated=_int(ds.get("BitsAllocated", 16), 16),
        bits_stored=_int(ds.get("BitsStored", ds.get("BitsAllocated", 16)), 16),
        signed=_int(ds.get("PixelRepresentation", 0), 0) == 1,
        samples=_int(ds.get("SamplesPerPixel", 1), 1),
        photometric=str(ds.get("PhotometricInterpretation", "") or "").upper(),
        n_frames=max(_int(ds.get("NumberOfFrames", 1), 1), 1),
        offset=offset if raw is not None else None,
        length=length,
        file_size=file_size,
    )


# -- tolerant value conversion: PACS headers contain blanks and junk ---------------------------


def _as_list(value) -> list:
    if value is None:
        return []
    if isinstance(value, (str, bytes)):
        return [value]
    try:
        return list(value)
    except TypeError:
        return [value]


def _float_or_none(value) -> float | None:
    if value is None or value == "":
        return None
    if not isinstance(value, (str, bytes, int, float)) and hasattr(value, "__len__"):
        value = value[0] if len(value) else None  # a multi-valued element: take the first
    try:
        out = float(value)
    except (TypeError, ValueError, IndexError):
        return None
    return out if out == out and abs(out) != float("inf") else None


def _floats(value, n: int) -> tuple[float, ...] | None:
    items = _as_list(value)
    if len(items) != n:
        return None
    try:
        out = tuple(float(v) for v in items)
    except (TypeError, ValueError):
        return None
    return out if all(v == v and abs(v) != float("inf") for v in out) else None


def _int_or_none(value) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(float(value))
    except (TypeError, ValueError):
        return None


def _int(value, default: int) -> int:
    out = _int_or_none(value)
    return default if out is None else out


# re-exported helpers for the enhanced multi-frame reader
float_or_none = _float_or_none
floats = _floats
int_or_none = _int_or_none
