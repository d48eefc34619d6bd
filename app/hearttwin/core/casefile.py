"""Save and load ``.htwin`` case files: survive a crash, a full disk and another machine.

A case file is a zip archive::

    manifest.json    {"format": "hearttwin-case", "format_version": "1.0", "app_version",
                      "saved_utc", "members": {name: {"sha256", "size"}}}
    case.json        image reference, landmarks, measurements, devices, simulation, history
    labels.nrrd      the label map (gzip NRRD, LPS), when there is one
    image.nrrd       the CT itself, only when the user asked to embed it
    meshes/*.npz     surface meshes (derivable from the labels, so optional)

The manifest holds no patient identifiers.

Saving is atomic: the archive is written to a temporary file in the target
folder, re-read to check it, flushed to disk (fsync) and renamed over the
target; the file it replaces is kept beside it as ``NAME.htwin.bak``. A crash,
a kill or a full disk at any moment leaves the previous file intact.

Loading treats the file as hostile until checked (:mod:`.archive_guard`),
verifies the SHA-256 of every member, refuses a newer major format, migrates
older formats step by step (:mod:`.casefile_migrate`) and finds the CT series
again through :mod:`.case_image` (``locate=`` when it has moved).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import zipfile
from pathlib import Path

from . import jobs
from .archive_guard import ArchiveLimits, HostileArchiveError, check_archive, read_member
from .case import Case
from .case_image import ImageNotFoundError, ImageRef, load_image as _load_image
from .casefile_codec import labels_meta_from_json, npz_to_mesh, nrrd_to_volume
from .casefile_migrate import NewerFormatError, migrate, parse_version
from .casefile_write import (CASE_JSON, FORMAT, FORMAT_VERSION, IMAGE, LABELS, MANIFEST, SUFFIX, SaveError,
                             backup_path, save)
from .errors import CorruptDataError, HeartTwinError, InputError
from .history import History

__all__ = ["save", "load", "read_manifest", "read_json_member", "backup_path", "SaveError",
           "HostileArchiveError", "NewerFormatError", "ImageNotFoundError", "ArchiveLimits", "SUFFIX",
           "FORMAT_VERSION", "IMAGE", "LABELS", "CASE_JSON", "MANIFEST", "FORMAT"]

_MAX_JSON = 64 * 1024 * 1024


# -- load -------------------------------------------------------------------------------------
def _open(path: Path) -> zipfile.ZipFile:
    if not path.is_file():
        raise InputError("The case file does not exist (or is a folder).")
    try:
        return zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError):
        hint = " A backup (.htwin.bak) of the previous version sits beside it." if backup_path(path).is_file() else ""
        raise CorruptDataError("This is not a HeartTwin case file, or it is truncated or damaged." + hint) from None


def _manifest(zf: zipfile.ZipFile, infos: dict) -> dict:
    if MANIFEST not in infos:
        raise CorruptDataError("This zip archive is not a HeartTwin case file (it has no manifest).")
    if infos[MANIFEST].file_size > _MAX_JSON:
        raise HostileArchiveError("The case file's manifest is implausibly large; it was not opened.")
    try:
        manifest = json.loads(read_member(zf, infos[MANIFEST]))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise CorruptDataError("The case file's manifest is damaged (not valid JSON).") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise CorruptDataError("This zip archive is not a HeartTwin case file (its manifest is not one).")
    if not isinstance(manifest.get("members"), dict):
        raise CorruptDataError("The case file's manifest is damaged (no member list).")
    return manifest


def _check_members(manifest: dict, infos: dict) -> None:
    listed = set(manifest["members"])
    present = set(infos) - {MANIFEST}
    if listed - present:
        raise CorruptDataError(f"The case file is incomplete: {len(listed - present)} member(s) listed in "
                               "its manifest are missing. Open the .bak file beside it if there is one.")
    if present - listed:
        raise HostileArchiveError(f"The case file contains {len(present - listed)} file(s) its manifest does "
                                  "not list; it was altered and was not opened.")


def _member(zf, infos, manifest, name: str) -> bytes:
    data = read_member(zf, infos[name])
    entry = manifest["members"][name]
    expected = str(entry.get("sha256", "")) if isinstance(entry, dict) else ""
    if hashlib.sha256(data).hexdigest() != expected:
        raise CorruptDataError(f"Member {name!r} of the case file does not match its SHA-256 checksum: the file "
                               "was damaged (disk, copy, transfer) or altered. Open the .bak file beside it "
                               "if there is one.")
    return data


def read_manifest(path, limits: ArchiveLimits | None = None) -> dict:
    """The manifest of a case file (after the archive checks), without loading the case."""
    with _open(Path(path)) as zf:
        return _manifest(zf, check_archive(zf, limits))


def read_json_member(path, name: str, limits: ArchiveLimits | None = None):
    """One verified JSON member of a case file (e.g. ``recovery.json``), or None when absent."""
    with _open(Path(path)) as zf:
        infos = check_archive(zf, limits)
        manifest = _manifest(zf, infos)
        _check_members(manifest, infos)
        if name not in manifest["members"]:
            return None
        return json.loads(_member(zf, infos, manifest, name))


def load(path, progress=None, locate=None, *, load_image: bool = True,
         limits: ArchiveLimits | None = None) -> Case:
    """Open a ``.htwin`` case file.

    Parameters
    ----------
    path : str or Path
    progress : jobs.Progress, optional
    locate : str or Path, optional
        The folder (or file) holding the CT when it is no longer at the saved
        place; the next save records the new place.
    load_image : bool
        Find and load the referenced CT (False: keep only the reference).
    limits : ArchiveLimits, optional

    Raises
    ------
    HostileArchiveError, CorruptDataError
        The file is damaged, altered, or built to attack the reader.
    NewerFormatError
        Written by a newer HeartTwin with an incompatible format.
    ImageNotFoundError
        The CT is not where it was saved: ask for ``locate``
        (``err.expected_folder`` is the folder name to look for).
    """
    path = Path(path)
    with _open(path) as zf:
        infos = check_archive(zf, limits)
        manifest = _manifest(zf, infos)
        version = str(manifest.get("format_version", ""))
        if parse_version(version)[0] > parse_version(FORMAT_VERSION)[0]:
            migrate({}, version)  # raises NewerFormatError with the message
        _check_members(manifest, infos)
        names = [n for n in manifest["members"]]
        data = {}
        for i, name in enumerate(names):  # every listed member is verified, used or not
            jobs.report(progress, i, len(names) + 2, f"Reading {name}")
            data[name] = _member(zf, infos, manifest, name)
    if CASE_JSON not in data:
        raise CorruptDataError("The case file has no case.json; it is damaged.")
    try:
        doc = json.loads(data[CASE_JSON])
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise CorruptDataError("The case.json of the case file is not valid JSON; the file is damaged.") from None
    if not isinstance(doc, dict):
        raise CorruptDataError("The case.json of the case file is damaged.")
    doc, applied, warnings = migrate(doc, version)
    case = _build(doc, data, path)
    case.warnings.extend(warnings)
    if applied:
        case.history.append("migrate_case_format", {"from": version, "to": FORMAT_VERSION})
    case.mark_saved(path)
    if applied:
        case.touch("history")
    if load_image and case.image is None and case.image_ref is not None:
        sub = jobs.SubProgress(progress, len(names), len(names) + 2, len(names) + 2) if progress else None
        image, ref, moved = load_image_for(case, path.parent, locate, sub)
        case.image, case.image_ref = image, ref.relative_to(path.parent)
        if moved:
            case.warnings.append("The CT series was found in a new place; save the case to remember it.")
            case.touch("image")
    return case


def load_image_for(case: Case, case_dir, locate=None, progress=None):
    """``(volume, ref, moved)`` for the case's referenced CT (see :func:`.case_image.load_image`)."""
    return _load_image(case.image_ref, case_dir, locate, progress)


def _case_id(value) -> str:
    """The stored case id when it is plain hex (it names the autosave file), else a new one."""
    text = str(value or "")
    return text if re.fullmatch(r"[0-9a-f]{8,64}", text) else os.urandom(16).hex()


def _build(doc: dict, data: dict, path: Path) -> Case:
    def member(name):
        if name not in data:
            raise CorruptDataError(f"The case file refers to {name!r}, which it does not contain.")
        return data[name]

    try:
        labels = None
        if doc.get("labels"):
            entry = doc["labels"]
            labels = nrrd_to_volume(member(entry["member"]), "label map", labels_meta_from_json(entry.get("meta")))
        image = None
        if doc.get("image_member"):
            image = nrrd_to_volume(member(doc["image_member"]), "image", doc.get("image_meta"))
        meshes = {e["name"]: npz_to_mesh(member(e["member"]), e["name"]) for e in doc.get("meshes") or []}
        case = Case(
            image_ref=ImageRef.from_dict(doc.get("image")), image=image, labels=labels, meshes=meshes,
            landmarks=dict(doc.get("landmarks") or {}), measurements=dict(doc.get("measurements") or {}),
            devices=list(doc.get("devices") or []),
            simulation={"params": {}, "results": {}, **dict(doc.get("simulation") or {})},
            history=History.from_list(doc.get("history")), embed_image=bool(doc.get("embed_image")),
            case_id=_case_id(doc.get("case_id")), path=path,
        )
    except HeartTwinError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError):
        raise CorruptDataError("The case.json of the case file is damaged (a field has the wrong form).") from None
    if case.labels is not None:
        case.labels.array = case.labels.array.astype("uint8", copy=False)
    return case
