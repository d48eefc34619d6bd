"""Pixel access for one frame: stored values from the file, then Hounsfield units.

Uncompressed little/big-endian pixel data is read straight from its byte
offset in the file (found while parsing the header), without parsing the
dataset again. Compressed transfer syntaxes go through pydicom's decoders
(pylibjpeg, openjpeg, RLE, JPEG-LS plugins).
"""

from __future__ import annotations

import numpy as np

from ..errors import CorruptDataError, UnsupportedDataError
from .headers import NATIVE_SYNTAXES, PixelFormat, SliceRecord

INT16_MIN, INT16_MAX = -32768, 32767


def syntax_name(uid: str) -> str:
    try:
        from pydicom.uid import UID

        name = UID(uid).name
        return f"'{name}'" if name and name != uid else uid
    except Exception:  # noqa: BLE001 - any odd UID: show the raw string
        return uid


def format_problem(fmt: PixelFormat) -> str | None:
    """Why frames in this format cannot be read (None if they can), without reading pixels."""
    if fmt.damaged:
        return "truncated or damaged pixel data (the file ends inside the image)"
    if fmt.bits_allocated not in (8, 16, 32):
        return f"{fmt.bits_allocated}-bit pixels are not supported"
    if fmt.transfer_syntax in NATIVE_SYNTAXES:
        expected = fmt.frame_bytes * fmt.n_frames
        if fmt.length is not None and fmt.length < expected:
            return f"truncated pixel data ({fmt.length} of {expected} bytes)"
        if fmt.offset is not None and fmt.offset + expected > fmt.file_size:
            have = max(fmt.file_size - fmt.offset, 0)
            return f"truncated pixel data ({have} of {expected} bytes in the file)"
        return None
    try:
        from pydicom.pixels import get_decoder

        if not get_decoder(fmt.transfer_syntax).is_available:
            raise NotImplementedError
    except (NotImplementedError, ValueError, KeyError):
        return (f"it uses the transfer syntax {syntax_name(fmt.transfer_syntax)}, which HeartTwin "
                "cannot decode; re-export it uncompressed or as JPEG lossless / JPEG 2000 / RLE")
    if fmt.length is not None and fmt.offset is None and fmt.length > fmt.file_size:
        return "truncated pixel data (the file is shorter than its header says)"
    return None


def problem_error(problem: str):
    """The typed error matching a :func:`format_problem` text."""
    return UnsupportedDataError if "transfer syntax" in problem or "not supported" in problem else CorruptDataError


def _dtype(fmt: PixelFormat) -> np.dtype:
    order = NATIVE_SYNTAXES.get(fmt.transfer_syntax, "<")
    kind = "i" if fmt.signed else "u"
    return np.dtype(f"{order}{kind}{fmt.bits_allocated // 8}")


def read_stored(rec: SliceRecord) -> np.ndarray:
    """Stored pixel values of one frame, shape (rows, cols), masked to BitsStored."""
    fmt = rec.fmt
    frame = rec.frame or 0
    if fmt.byte_order is not None:
        nbytes = fmt.frame_bytes
        with open(rec.path, "rb") as f:
            f.seek(fmt.offset + frame * nbytes)
            buf = f.read(nbytes)
        if len(buf) < nbytes:
            raise CorruptDataError(f"truncated pixel data ({len(buf)} of {nbytes} bytes)")
        arr = np.frombuffer(buf, dtype=_dtype(fmt)).reshape(fmt.rows, fmt.cols)
    else:
        arr = _decode(rec)
    return mask_bits(arr, fmt)


def _decode(rec: SliceRecord) -> np.ndarray:
    from pydicom.pixels import pixel_array

    try:
        arr = pixel_array(rec.path, index=rec.frame, raw=True)
    except (NotImplementedError, RuntimeError) as err:
        if "decod" in str(err).lower() and "plugin" in str(err).lower():
            raise UnsupportedDataError(f"no decoder for {syntax_name(rec.fmt.transfer_syntax)}") from None
        raise CorruptDataError("the compressed pixel data could not be decoded (damaged or truncated)") from None
    except (ValueError, EOFError, OSError, IndexError, AttributeError, TypeError, KeyError):
        raise CorruptDataError("the pixel data could not be decoded (damaged or truncated)") from None
    if arr.shape != (rec.fmt.rows, rec.fmt.cols):
        raise CorruptDataError(
            f"decoded image is {arr.shape[-1]} x {arr.shape[0]} pixels but the header says "
            f"{rec.fmt.cols} x {rec.fmt.rows}"
        )
    return arr


def mask_bits(arr: np.ndarray, fmt: PixelFormat) -> np.ndarray:
    """Clear bits above BitsStored (old scanners put overlays there) and sign-extend."""
    bits = fmt.bits_stored
    total = arr.dtype.itemsize * 8
    if bits >= total or bits <= 0:
        return arr
    if not arr.dtype.isnative:
        arr = arr.astype(arr.dtype.newbyteorder("="))
    if fmt.signed:
        shift = total - bits
        lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
        if int(arr.min()) >= lo and int(arr.max()) <= hi:
            return arr
        return (arr << shift) >> shift  # arithmetic shift restores the sign
    limit = (1 << bits) - 1
    if int(arr.max()) <= limit:
        return arr
    return arr & np.array(limit, dtype=arr.dtype)


def stored_range(fmt: PixelFormat) -> tuple[int, int]:
    bits = min(fmt.bits_stored, fmt.bits_allocated) or fmt.bits_allocated
    if fmt.signed:
        return -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    return 0, (1 << bits) - 1


def hu_range(rec: SliceRecord) -> tuple[float, float]:
    """Smallest and largest HU the declared stored range can produce."""
    lo, hi = stored_range(rec.fmt)
    a, b = rec.slope * lo + rec.intercept, rec.slope * hi + rec.intercept
    return min(a, b), max(a, b)


def is_integral(rec: SliceRecord) -> bool:
    return float(rec.slope).is_integer() and float(rec.intercept).is_integer()


class RangeOverflow(Exception):
    """A slice's HU values do not fit the int16 output (caller upcasts to float32)."""


def to_hu(stored: np.ndarray, rec: SliceRecord, out: np.ndarray, check: bool) -> None:
    """Write HU = stored * slope + intercept into ``out`` (a 2D view of the volume)."""
    slope, intercept = rec.slope, rec.intercept
    if out.dtype == np.int16:
        if slope == 1 and intercept == 0 and stored.dtype == np.int16:
            out[...] = stored
            return
        tmp = stored.astype(np.int32)
        if slope != 1:
            tmp *= int(slope)
        if intercept != 0:
            tmp += int(intercept)
        if check and (int(tmp.min()) < INT16_MIN or int(tmp.max()) > INT16_MAX):
            raise RangeOverflow
        out[...] = tmp
    else:
        np.multiply(stored, np.float32(slope), out=out, casting="unsafe")
        if intercept != 0:
            out += np.float32(intercept)


def same_content(a: SliceRecord, b: SliceRecord) -> bool:
    """True when two frames hold identical HU images (used for duplicate files)."""
    try:
        pa, pb = read_stored(a), read_stored(b)
    except Exception:  # noqa: BLE001 - unreadable: treat as different (reported on load)
        return False
    if pa.shape != pb.shape:
        return False
    ha = pa.astype(np.float64) * a.slope + a.intercept
    hb = pb.astype(np.float64) * b.slope + b.intercept
    return bool(np.array_equal(ha, hb))
