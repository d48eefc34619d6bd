"""Image import: DICOM folders/files and NRRD/NIfTI/MHA volumes -> :class:`Volume` (LPS, HU).

Public API
----------
scan(path, progress=None) -> ScanResult
    Every series under a folder (recursively, any file names), a DICOM file or
    a volume file: size, spacing, LPS origin/direction, cardiac phases,
    warnings, what was skipped and why, and the best CT series selected.
load_volume(path_or_scan, series=None, phase=0, progress=None) -> Volume
    One series (default: the selected one) as a Volume in Hounsfield units,
    int16 when the values fit (else float32), with non-identifying ``meta``.
load_phases(path_or_scan, series=None, progress=None) -> list[Volume]
    All cardiac phases of a series.

Bad input raises the typed errors of :mod:`hearttwin.core.errors` with a
message naming the series (number, description) and slice position; no
patient-identifying value ever appears in messages or warnings.

Modules: headers (one file's header -> records), multiframe (enhanced
multi-frame functional groups), grouping (sub-series, phases, duplicates),
geometry (sorting, spacing, gaps, tilt), pixels (frame reading, HU),
limits (size limits), select (best series), scan, loader, volume_files.
"""

from .limits import Limits
from .loader import load_phases, load_volume
from .scan import ScanResult, SeriesInfo, scan
from .volume import Volume

__all__ = ["scan", "load_volume", "load_phases", "ScanResult", "SeriesInfo", "Volume", "Limits"]
