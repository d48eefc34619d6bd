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
limits (size limits), select (best series), scanning, loader, volume_files.
"""

import importlib

#: public name -> submodule holding it; imported on first use, so that importing
#: ``core.imaging.volume`` (a plain array container) does not load pydicom
_EXPORTS = {"scan": "scanning", "ScanResult": "scanning", "SeriesInfo": "scanning",
            "load_volume": "loader", "load_phases": "loader", "Volume": "volume", "Limits": "limits"}

__all__ = list(_EXPORTS)


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
