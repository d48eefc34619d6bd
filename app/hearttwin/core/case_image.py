"""Where a case's CT lives, and finding it again when the case is opened.

A case file does not copy the CT unless asked: it stores an :class:`ImageRef`
with the DICOM folder (or volume file) relative to the case file and, as a
fallback, its absolute path, plus a fingerprint of the series (SHA-256 of the
SeriesInstanceUID, series label, size, spacing, phase). The UID is stored
hashed: enough to recognise the series, not to look it up in a PACS. Nothing
here names the patient.

When the case is opened elsewhere (a colleague's machine, a moved folder),
:func:`resolve` tries the folder the user located, then the relative path,
then the absolute one; if none holds the series it raises
:class:`ImageNotFoundError`, which carries the folder name the user should
look for (``err.expected_folder``; not in the message, since folders are
sometimes named after the patient).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .errors import InputError


class ImageNotFoundError(InputError):
    """The case's CT is not where it was saved; ask the user to locate its folder."""

    def __init__(self, message: str, expected_folder: str = "", tried: list | None = None) -> None:
        super().__init__(message)
        #: the name of the folder (or file) that held the series when the case was saved
        self.expected_folder = expected_folder
        #: the paths looked at, in order (for the GUI's dialog; may name the patient)
        self.tried = list(tried or [])


def uid_hash(uid: str) -> str | None:
    """SHA-256 hex digest of a UID (None for an empty UID)."""
    return hashlib.sha256(uid.encode("utf-8")).hexdigest() if uid else None


@dataclass
class ImageRef:
    """A pointer to the CT series of a case, without patient data."""

    kind: str = "dicom"  # "dicom" (folder or file) or "file" (NRRD/NIfTI/MHA)
    path_relative: str | None = None  # POSIX, relative to the case file's folder
    path_absolute: str | None = None
    name: str = ""  # the folder's (or file's) own name, for "locate" prompts
    series_uid_sha256: str | None = None
    series_label: str | None = None
    phase: int = 0
    size: list = field(default_factory=list)  # [nx, ny, nz]
    spacing_mm: list = field(default_factory=list)

    def to_dict(self) -> dict:
        """JSON-ready fields."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict | None) -> "ImageRef | None":
        """The reference stored in a case file (unknown keys ignored), or None."""
        if data is None:
            return None
        if not isinstance(data, dict):
            raise InputError("The image reference in the case file is damaged.")
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        return cls(**known)

    def relative_to(self, case_dir) -> "ImageRef":
        """A copy whose relative path is computed from ``case_dir`` (where the case is saved)."""
        out = ImageRef(**self.to_dict())
        if self.path_absolute:
            try:
                rel = os.path.relpath(self.path_absolute, os.path.abspath(case_dir))
                out.path_relative = Path(rel).as_posix()
            except ValueError:  # another drive on Windows: no relative path
                out.path_relative = None
        return out


def image_ref_for(source, info, phase: int = 0) -> ImageRef:
    """The reference to series ``info`` (a :class:`~hearttwin.core.imaging.SeriesInfo`) under ``source``."""
    src = Path(info.path if info.path else source).resolve()
    uid = info.group.series_uid if info.group is not None else ""
    return ImageRef(
        kind="file" if info.path else "dicom", path_absolute=str(src), name=src.name,
        series_uid_sha256=uid_hash(uid), series_label=info.label, phase=int(phase),
        size=[int(v) for v in info.size], spacing_mm=[round(float(v), 6) for v in info.spacing_mm],
    )


def candidates(ref: ImageRef, case_dir, locate=None) -> list[Path]:
    """Where to look for the series, in order: located folder, relative path, absolute path."""
    out: list[Path] = []
    if locate is not None:
        out.append(Path(locate))
    if ref.path_relative and case_dir is not None:
        out.append(Path(case_dir) / ref.path_relative)
    if ref.path_absolute:
        out.append(Path(ref.path_absolute))
    seen, unique = set(), []
    for p in out:
        key = os.path.normcase(os.path.abspath(p))
        if key not in seen:
            seen.add(key)
            unique.append(p)
    return unique


def _matches(ref: ImageRef, info) -> bool:
    if not info.loadable:
        return False
    uid = info.group.series_uid if info.group is not None else ""
    if ref.series_uid_sha256 and uid:
        return uid_hash(uid) == ref.series_uid_sha256 and list(info.size) == list(ref.size)
    # no UID (volume files): same label and same grid
    return (list(info.size) == list(ref.size)
            and all(abs(a - b) < 1e-3 for a, b in zip(info.spacing_mm, ref.spacing_mm)))


def find_series(ref: ImageRef, case_dir, locate=None, progress=None):
    """The :class:`SeriesInfo` of the case's series; raises :class:`ImageNotFoundError`.

    Returns
    -------
    (SeriesInfo, Path, bool)
        The series, the path it was found under and whether the user located
        it (so the caller can warn and mark the case changed: the next save
        records the new place). Found through the relative path (case and CT
        moved together) or the absolute one (only the case moved) is not news.
    """
    from .imaging import scan

    tried = candidates(ref, case_dir, locate)
    located_but_wrong = False
    for n, path in enumerate(tried):
        if not path.exists():
            continue
        try:
            result = scan(path, progress)
        except InputError:
            located_but_wrong |= locate is not None and n == 0
            continue
        for info in result.series:
            if _matches(ref, info):
                return info, path, locate is not None and n == 0
        located_but_wrong |= locate is not None and n == 0
    what = "folder" if ref.kind == "dicom" else "file"
    if located_but_wrong:
        msg = (f"The {what} you chose does not hold this case's CT series (series {ref.series_label}, "
               f"{'x'.join(str(v) for v in ref.size)} voxels). Choose the {what} the case was planned on.")
    else:
        msg = (f"This case's CT series (series {ref.series_label}) is not where the case was saved: the "
               f"{what} was moved or renamed, or the case was opened on another computer. Locate the "
               f"{what} that holds it (the GUI asks for it; on the command line pass its path).")
    raise ImageNotFoundError(msg, expected_folder=ref.name, tried=[str(p) for p in tried])


def load_image(ref: ImageRef, case_dir, locate=None, progress=None):
    """Find and load the case's CT: returns ``(volume, ref, located)``; ``ref`` has the path found."""
    from . import jobs
    from .imaging import load_volume

    info, path, located = find_series(ref, case_dir, locate,
                                      jobs.SubProgress(progress, 0, 20, 100) if progress else None)
    volume = load_volume(info, phase=ref.phase,
                         progress=jobs.SubProgress(progress, 20, 100, 100) if progress else None)
    return volume, image_ref_for(path, info, ref.phase), located
