"""Load a series (or all its cardiac phases) into :class:`Volume` objects in HU.

The output array is allocated once, after every size check, and filled slice
by slice (several files read in parallel threads), so peak memory stays close
to the volume itself. The output is int16 when every slice's rescale is
integral and the values fit, float32 otherwise.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from .. import jobs
from ..errors import CorruptDataError, HeartTwinError, SeriesSelectionError
from .geometry import Geometry, fmt_pos
from .limits import Limits, check_volume
from .pixels import INT16_MAX, INT16_MIN, RangeOverflow, hu_range, is_integral, read_stored, to_hu
from .scanning import ScanResult, SeriesInfo, scan
from .volume import Volume
from . import volume_files

#: parallel file readers (I/O and numpy release the GIL)
READ_THREADS = max(1, min(4, (os.cpu_count() or 2)))


def _resolve(source, series, progress, limits: Limits) -> SeriesInfo:
    if isinstance(source, SeriesInfo):
        info = source
    elif isinstance(source, ScanResult):
        info = source.choose(series)
    else:
        info = scan(source, jobs.SubProgress(progress, 0, 20, 100) if progress else None, limits).choose(series)
    if info.is_localizer:
        raise SeriesSelectionError(f"{info.name} is a localizer (scout) image, not a 3D volume; choose another series.")
    if info.error is not None:
        raise info.error
    return info


def load_volume(source, series=None, phase: int = 0, progress=None, limits: Limits | None = None) -> Volume:
    """Load one series (the best CT series by default) as a Volume in HU, LPS geometry.

    Parameters
    ----------
    source : str, Path, ScanResult or SeriesInfo
        A folder, DICOM file or NRRD/NIfTI/MHA file; or the result of :func:`scan`
        (then ``series`` picks within it); or one of its series.
    series : int or str, optional
        Series label/number ("3", "3.2") or "#I" for the I-th listed series.
    phase : int
        Cardiac phase index (0 = first in time order) for multi-phase series.
    progress : jobs.Progress, optional
    limits : Limits, optional

    Raises
    ------
    InputError subclasses with a message naming the series and slice position.
    """
    limits = limits or Limits.from_env()
    info = _resolve(source, series, progress, limits)
    if info.path is not None:
        return volume_files.load(info, phase, progress, limits)
    return _load_phase(info, phase, progress, limits)


def load_phases(source, series=None, progress=None, limits: Limits | None = None) -> list[Volume]:
    """Every cardiac phase of a series, in time order (one Volume for a single-phase series)."""
    limits = limits or Limits.from_env()
    info = _resolve(source, series, progress, limits)
    out = []
    for p in range(info.phases):
        sub = jobs.SubProgress(progress, 20 + 80 * p / info.phases, 20 + 80 * (p + 1) / info.phases, 100) \
            if progress else None
        if info.path is not None:
            out.append(volume_files.load(info, p, sub, limits))
        else:
            out.append(_load_phase(info, p, sub, limits))
    return out


def _load_phase(info: SeriesInfo, phase: int, progress, limits: Limits) -> Volume:
    if not 0 <= phase < info.phases:
        raise SeriesSelectionError(
            f"{info.name} has {info.phases} cardiac phase(s) (0 to {info.phases - 1}); phase {phase} does not exist."
        )
    geo = info.geometries[phase]
    if not isinstance(geo, Geometry):
        raise geo
    group = info.group
    recs = [group.phases[phase][i] for i in geo.order]
    fmt = recs[0].fmt
    shape = (len(recs), fmt.rows, fmt.cols)
    integral = all(is_integral(r) for r in recs)
    ranges = [hu_range(r) for r in recs]
    fits = min(lo for lo, _ in ranges) >= INT16_MIN and max(hi for _, hi in ranges) <= INT16_MAX
    dtype = np.int16 if integral else np.float32
    check_volume(info.name, shape, np.dtype(dtype).itemsize, limits)
    axial = abs(geo.direction[2, 2]) > 0.9
    try:
        array = _fill(info, recs, geo, shape, dtype, not fits, progress, axial)
    except RangeOverflow:  # values beyond int16 after rescale: use float32 instead
        check_volume(info.name, shape, 4, limits)
        array = _fill(info, recs, geo, shape, np.float32, False, progress, axial)
    if geo.shifts is not None:
        _untilt(array, geo)
    meta = {
        "modality": info.modality, "series_number": info.number, "series_label": info.label,
        "description": info.description, "phase": phase, "phases": info.phases,
        "phase_label": group.phase_labels[phase] if info.phases > 1 else "",
        "warnings": list(info.warnings), "source": "dicom", "image_type": info.image_type,
        "gantry_tilt_deg": geo.tilt_deg,
    }
    return Volume(array=array, spacing=geo.spacing, origin=geo.origin, direction=geo.direction, meta=meta)


def _fill(info, recs, geo, shape, dtype, check, progress, axial) -> np.ndarray:
    out = np.empty(shape, dtype=dtype)

    def work(k: int) -> None:
        try:
            stored = read_stored(recs[k])
        except HeartTwinError as err:
            raise type(err)(
                f"{info.name}: the slice at {fmt_pos(geo.positions[k], axial)} cannot be read: {err}. "
                "The file is damaged or was not copied completely; export or copy the series again."
            ) from None
        except OSError as err:
            raise CorruptDataError(
                f"{info.name}: the slice at {fmt_pos(geo.positions[k], axial)} cannot be read "
                f"({err.strerror or type(err).__name__})."
            ) from None
        to_hu(stored, recs[k], out[k], check)

    n = shape[0]
    chunk = 16
    with ThreadPoolExecutor(max_workers=READ_THREADS) as pool:
        for start in range(0, n, chunk):
            jobs.report(progress, start, n, f"Reading slices ({start}/{n})")
            list(pool.map(work, range(start, min(start + chunk, n))))
    jobs.report(progress, n, n, "Slices read")
    return out


def _untilt(array: np.ndarray, geo: Geometry) -> None:
    """Shift each slice in-plane so a gantry-tilted stack sits on a straight grid."""
    from scipy import ndimage

    fill = float(array.min())
    for k, (dx, dy) in enumerate(geo.shifts):
        if abs(dx) < 1e-3 and abs(dy) < 1e-3:
            continue
        moved = ndimage.shift(array[k].astype(np.float32), (dy, dx), order=1, mode="constant", cval=fill)
        array[k] = np.rint(moved) if array.dtype == np.int16 else moved
