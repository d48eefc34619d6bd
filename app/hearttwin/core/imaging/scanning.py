"""Scan a path (folder tree, DICOM file or volume file) into a list of series.

Only headers are read (pixel data is skipped), except for the few images
that share a slice position, whose pixels are compared to tell harmless
duplicate files from conflicting images. Every series gets its geometry,
cardiac phases, warnings and whether it can be loaded; the best CT series is
selected and the reason is recorded. Nothing here names the patient.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from .. import jobs
from ..errors import HeartTwinError, NoImageDataError, NotDicomError
from .geometry import Geometry, compute_geometry, fmt_pos, normal_of
from .grouping import Group, resolve_duplicates, split_series
from .headers import FileHeader, read_header
from .limits import Limits, check_image_dims, check_volume
from .pixels import format_problem, is_integral, problem_error, same_content
from .select import choose_default, find_series
from . import volume_files


@dataclass
class SeriesInfo:
    """One loadable (or not) image series, described without patient data."""

    index: int
    label: str  # "3", or "3.2" for the 2nd sub-series of series 3
    number: int | None
    description: str
    modality: str
    slices: int
    size: list[int]  # [nx, ny, nz]
    spacing_mm: list[float]  # [sx, sy, sz]
    origin_lps: list[float]
    direction: list[float]  # 3x3 row-major, columns = i, j, k axes
    phases: int
    phase_labels: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    selected: bool = False
    reason: str = ""
    image_type: str = ""
    source: str = "dicom"  # or the volume file format
    error: HeartTwinError | None = field(default=None, repr=False)
    group: Group | None = field(default=None, repr=False)
    geometries: list = field(default_factory=list, repr=False)  # Geometry or error per phase
    path: str | None = field(default=None, repr=False)  # volume files only

    @property
    def loadable(self) -> bool:
        return self.error is None

    @property
    def is_localizer(self) -> bool:
        return self.group.is_localizer if self.group is not None else False

    @property
    def name(self) -> str:
        return self.group.name if self.group is not None else f"Series {self.label}"

    def to_dict(self) -> dict:
        """The DESIGN.md ``info --json`` entry (plus number, label, reason, ...)."""
        return {
            "description": self.description, "modality": self.modality, "slices": self.slices,
            "size": list(self.size), "spacing_mm": _rounded(self.spacing_mm),
            "origin_lps": _rounded(self.origin_lps), "direction": _rounded(self.direction),
            "phases": self.phases, "warnings": list(self.warnings), "selected": self.selected,
            "number": self.number, "label": self.label, "reason": self.reason,
            "phase_labels": list(self.phase_labels), "image_type": self.image_type,
            "loadable": self.loadable, "source": self.source,
        }


def _rounded(values) -> list[float]:
    """Numbers for JSON: 6 decimals (a micrometre) hide float noise such as 0.6000000000000001."""
    return [round(float(v), 6) + 0.0 for v in values]


@dataclass
class ScanResult:
    """Every series found under a path, what was skipped, and the default choice."""

    series: list[SeriesInfo]
    skipped: list[dict] = field(default_factory=list)  # {"what", "files", "why"}
    selected_index: int | None = None

    @property
    def selected(self) -> SeriesInfo | None:
        return None if self.selected_index is None else self.series[self.selected_index]

    def choose(self, wanted=None) -> SeriesInfo:
        """The series to load: the default choice, or one named by label/number/'#index'."""
        if wanted is None:
            if self.selected is not None:
                return self.selected
            for info in self.series:  # nothing loadable: the best one's error explains why
                if info.error is not None and not info.is_localizer:
                    raise info.error
            raise NoImageDataError("No image series here can be loaded as a 3D volume. " + _skipped_text(self.skipped))
        if isinstance(wanted, SeriesInfo):
            return wanted
        return self.series[find_series(self.series, wanted)]

    def select(self, wanted, how: str = "requested") -> SeriesInfo:
        """Make the series named by ``wanted`` the selected one, with the reasons updated."""
        chosen = self.choose(wanted)
        for info in self.series:
            info.selected = info is chosen
            if info is chosen:
                info.reason = f"chosen: {how}"
                if not info.loadable:
                    info.reason += " (but it cannot be loaded, see warnings)"
            elif info.reason.startswith("chosen"):
                info.reason = f"not chosen: another series was {how}"
        self.selected_index = chosen.index
        return chosen

    def to_dict(self) -> dict:
        return {"series": [s.to_dict() for s in self.series], "skipped": list(self.skipped),
                "selected": None if self.selected is None else self.selected.label}


def _skipped_text(skipped: list[dict]) -> str:
    if not skipped:
        return ""
    return "Skipped: " + "; ".join(f"{s['files']} {s['what']} ({s['why']})" for s in skipped) + "."


def scan(path, progress=None, limits: Limits | None = None) -> ScanResult:
    """Find the image series under ``path`` and choose the best CT series.

    Parameters
    ----------
    path : str or Path
        A folder (searched recursively, any file names), one DICOM file (its
        series is read from the containing folder; a multi-frame file is read
        alone) or a NRRD/NIfTI/MHA volume file.
    progress : jobs.Progress, optional
        Receives progress; cancelling raises CancelledError.
    limits : Limits, optional
        Size limits (default: :meth:`Limits.from_env`).

    Returns
    -------
    ScanResult
        Series list with geometry, phases, warnings and the selection.

    Raises
    ------
    NoImageDataError, NotDicomError
        The path does not exist, is empty, unreadable or holds no image series.
    """
    limits = limits or Limits.from_env()
    p = Path(path)
    if not p.exists():
        raise NoImageDataError("The path given does not exist; check the spelling or that the drive is connected.")
    if p.is_file():
        if volume_files.is_volume_file(p):
            return volume_files.scan_file(p, SeriesInfo, ScanResult, limits)
        return _scan_dicom_file(p, progress, limits)
    if not os.access(p, os.R_OK | os.X_OK):
        raise NoImageDataError("The folder given cannot be read (permission denied); ask for read access or copy it locally.")
    files, denied = _list_files(p)
    return _scan_files(files, progress, limits, denied_dirs=denied)


def _scan_dicom_file(p: Path, progress, limits: Limits) -> ScanResult:
    try:
        header = read_header(str(p))
    except PermissionError:
        raise NoImageDataError("The file given cannot be read (permission denied); ask for read access or copy it locally.") from None
    if header.skipped == "non-DICOM files":
        raise NotDicomError("The file given is not DICOM, nor a NRRD, NIfTI (.nii, .nii.gz) or MHA volume. "
                            "Choose the DICOM folder exported from the scanner or PACS.")
    if not header.records:
        raise NoImageDataError(f"The file given is a {header.skipped.rstrip('s')} ({header.problem}), not an image series.")
    if len(header.records) > 1:  # multi-frame: the file is the series
        return _finish([header], Counter(), progress, limits)
    uid = header.records[0].series_uid
    files, _ = _list_files(p.parent, recursive=False)
    result = _scan_files(files, progress, limits, only_uid=uid)
    return result


def _list_files(root: Path, recursive: bool = True) -> tuple[list[str], int]:
    files: list[str] = []
    denied = 0

    def onerror(err):
        nonlocal denied
        denied += 1

    for dirpath, dirnames, filenames in os.walk(root, onerror=onerror):
        dirnames.sort()
        files.extend(os.path.join(dirpath, f) for f in sorted(filenames))
        if not recursive:
            break
    return files, denied


def _scan_files(files, progress, limits, only_uid=None, denied_dirs: int = 0) -> ScanResult:
    if not files and not denied_dirs:
        raise NoImageDataError("The folder is empty: no files were found in it or its sub-folders.")
    headers: list[FileHeader] = []
    skipped: Counter = Counter()
    denied = 0
    total = len(files)
    for k, f in enumerate(files):
        if k % 32 == 0:
            jobs.report(progress, k, total, f"Reading DICOM headers ({k}/{total})")
        try:
            h = read_header(f)
        except PermissionError:
            denied += 1
            continue
        except OSError:
            skipped[("unreadable files", "could not be read from disk")] += 1
            continue
        if h.records and only_uid is not None and h.records[0].series_uid != only_uid:
            continue
        if h.skipped:
            skipped[(h.skipped, h.problem)] += 1
        headers.append(h)
    jobs.report(progress, total, total, "Grouping series")
    if denied:
        skipped[("files", "permission denied")] += denied
    if denied_dirs:
        skipped[("folders", "permission denied")] += denied_dirs
    if not any(h.records for h in headers):
        if denied and denied == total:
            raise NoImageDataError(f"None of the {total} files can be read (permission denied); "
                                   "ask for read access or copy the folder locally.")
        if skipped and all(what == "non-DICOM files" for what, _ in skipped):
            raise NotDicomError(f"No DICOM files found ({total} files checked, none is DICOM). "
                                "Choose the DICOM folder exported from the scanner or PACS.")
        text = _skipped_text(_skipped_list(skipped))
        raise NoImageDataError(f"No image series found. {text}".strip())
    return _finish(headers, skipped, progress, limits)


def _skipped_list(skipped: Counter) -> list[dict]:
    return [{"what": what, "files": n, "why": why} for (what, why), n in sorted(skipped.items())]


def _finish(headers, skipped: Counter, progress, limits) -> ScanResult:
    records = [r for h in headers for r in h.records]
    groups = split_series(records)
    series = []
    for i, g in enumerate(groups):
        jobs.check(progress)
        series.append(_describe(i, g, limits))
    result = ScanResult(series, _skipped_list(skipped))
    result.selected_index = choose_default(series)
    return result


def _describe(index: int, g: Group, limits: Limits) -> SeriesInfo:
    first = g.records[0]
    fmt = first.fmt
    error = None
    try:
        check_image_dims(g.name, fmt.rows, fmt.cols, len(g.records), limits)
    except HeartTwinError as err:
        error = err
    if error is None:
        error = _pixel_problem(g)
    if error is None and g.error is None:
        resolve_duplicates(g, same_content)
    error = error or g.error
    geometries: list = []
    if error is None:
        for recs in g.phases:
            try:
                geometries.append(compute_geometry(g.name, recs))
            except HeartTwinError as err:
                geometries.append(err)
        failed = [x for x in geometries if isinstance(x, HeartTwinError)]
        if len(failed) == len(geometries):  # a multi-phase series loads if any phase does
            error = failed[0]
    geo = next((x for x in geometries if isinstance(x, Geometry)), None)
    warnings = list(g.warnings)
    if geo is not None:
        warnings.extend(geo.warnings)
        for k, x in enumerate(geometries):
            if isinstance(x, HeartTwinError):
                warnings.append(f"Phase {k} ({g.phase_labels[k]}) cannot be loaded: {x}")
    nz = len(g.phases[0]) if g.phases else len(g.records)
    if error is None and geo is not None:
        itemsize = 2 if all(is_integral(r) for r in g.records) else 4
        try:
            check_volume(g.name, (nz, fmt.rows, fmt.cols), itemsize, limits)
        except HeartTwinError as err:
            error = err
    if error is not None:
        warnings.append(f"Cannot be loaded: {error}")
    return SeriesInfo(
        index=index, label=g.label, number=g.number, description=g.description,
        modality=g.modality, slices=nz, size=[fmt.cols, fmt.rows, nz],
        spacing_mm=list(geo.spacing) if geo else [],
        origin_lps=list(geo.origin) if geo else [],
        direction=geo.direction_list if geo else [],
        phases=len(g.phases), phase_labels=[x for x in g.phase_labels if x] if len(g.phases) > 1 else [],
        warnings=warnings, image_type="\\".join(g.image_type), error=error, group=g,
        geometries=geometries,
    )


def _pixel_problem(g: Group) -> HeartTwinError | None:
    """Check each file's declared pixel size against its pixel data, before any read."""
    seen = set()
    for r in g.records:
        key = id(r.fmt)
        if key in seen:
            continue
        seen.add(key)
        problem = format_problem(r.fmt)
        if problem:
            where = ""
            if r.position is not None and r.orientation is not None:
                n = normal_of(r.orientation)
                where = f" (slice at {fmt_pos(float(sum(a * b for a, b in zip(r.position, n))), abs(n[2]) > 0.9)})"
            cls = problem_error(problem)
            advice = "" if "transfer syntax" in problem else (
                ". The file is damaged or was not copied completely; export or copy the series again")
            return cls(f"{g.name}{where}: {problem}{advice}.")
    return None
