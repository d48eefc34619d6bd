"""Writing ``.htwin`` case files atomically (see :mod:`hearttwin.core.casefile` for the format).

The archive is written to a temporary file in the target folder, read back
(CRC of every member), flushed to disk (fsync) and renamed over the target;
the file it replaces is first kept beside it as ``NAME.htwin.bak`` (a hard
link, or a copy where the file system has none), so the real name always
points at a complete file. The folder is fsynced after the rename so the new
name survives a power cut. Errors from the operating system (disk full, no
permission) become :class:`SaveError` saying the previous file is unchanged.
Temporary files left by saves killed more than an hour ago are removed at
the next successful save into the same folder.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import time
import zipfile
from datetime import datetime, timezone
from pathlib import Path

from . import jobs
from .atomic import atomic_path
from .case import Case
from .casefile_codec import mesh_member, mesh_to_npz, meta_json, volume_to_nrrd
from .casefile_migrate import CURRENT
from .errors import HeartTwinError, InputError
from .history import json_safe

SUFFIX = ".htwin"
FORMAT = "hearttwin-case"
FORMAT_VERSION = CURRENT
MANIFEST = "manifest.json"
CASE_JSON = "case.json"
LABELS = "labels.nrrd"
IMAGE = "image.nrrd"


class SaveError(HeartTwinError):
    """The case could not be written; the previous file is unchanged."""


def backup_path(path) -> Path:
    """Where the previous version of ``path`` is kept: ``NAME.htwin.bak``."""
    path = Path(path)
    return path.with_name(path.name + ".bak")


# -- save -------------------------------------------------------------------------------------
def _members(case: Case, case_dir: Path):
    """Yield ``(name, encode, compress)`` for every member but the manifest (``encode()`` -> bytes)."""
    doc = {
        "case_id": case.case_id,
        "image": case.image_ref.relative_to(case_dir).to_dict() if case.image_ref else None,
        "embed_image": bool(case.embed_image),
        "image_meta": meta_json(case.image.meta) if case.image is not None else {},
        "labels": {"member": LABELS, "meta": meta_json(case.labels.meta)} if case.labels is not None else None,
        "meshes": [{"name": str(n), "member": mesh_member(n, i)} for i, n in enumerate(case.meshes)],
        "landmarks": json_safe(case.landmarks),
        "measurements": json_safe(case.measurements),
        "devices": json_safe(case.devices),
        "simulation": json_safe(case.simulation),
        "history": case.history.to_list(),
    }
    embed = case.image is not None and (case.embed_image or case.image_ref is None)
    doc["image_member"] = IMAGE if embed else None
    yield CASE_JSON, lambda: json.dumps(doc, indent=1).encode("utf-8"), zipfile.ZIP_DEFLATED
    if case.labels is not None:
        yield LABELS, lambda: volume_to_nrrd(case.labels, level=6), zipfile.ZIP_STORED
    if embed:
        yield IMAGE, lambda: volume_to_nrrd(case.image), zipfile.ZIP_STORED
    for entry, mesh in zip(doc["meshes"], case.meshes.values()):
        yield entry["member"], (lambda m=mesh: mesh_to_npz(m)), zipfile.ZIP_STORED


def _info(name: str, compress: int) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=datetime.now().timetuple()[:6])
    info.compress_type = compress
    info.external_attr = 0o644 << 16  # a regular file, rw-r--r--
    return info


def _write_archive(tmp: Path, case: Case, case_dir: Path, progress, extra: dict | None) -> None:
    listed = {}
    members = list((extra or {}).items())
    if any(name in (CASE_JSON, LABELS, IMAGE, MANIFEST) or "/" in name for name, _ in members):
        raise ValueError("extra case-file members need their own top-level names")
    total = 3 + (case.labels is not None) + (case.image is not None) + len(case.meshes)
    with zipfile.ZipFile(tmp, "w", allowZip64=True) as zf:
        done = 0
        for name, encode, compress in _members(case, case_dir):
            jobs.report(progress, done, total, f"Saving {name}")
            data = encode()
            zf.writestr(_info(name, compress), data, compresslevel=6 if compress == zipfile.ZIP_DEFLATED else None)
            listed[name] = {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
            done += 1
        for name, value in members:
            data = json.dumps(json_safe(value), indent=1).encode("utf-8")
            zf.writestr(_info(name, zipfile.ZIP_DEFLATED), data)
            listed[name] = {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
        from .. import __version__

        manifest = {"format": FORMAT, "format_version": FORMAT_VERSION, "app_version": __version__,
                    "saved_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                    "members": listed}
        zf.writestr(_info(MANIFEST, zipfile.ZIP_DEFLATED), json.dumps(manifest, indent=1).encode("utf-8"))
    jobs.report(progress, total - 1, total, "Checking the saved file")
    with zipfile.ZipFile(tmp) as zf:  # read back: a bad write must not replace a good file
        if zf.testzip() is not None:
            raise SaveError("The case file did not read back correctly after writing (disk or storage "
                            "problem); the previous version of the file is unchanged.")


def _backup(path: Path) -> None:
    """Keep the file about to be replaced as ``.bak`` (hard link, or a copy where links fail)."""
    bak = backup_path(path)
    tmp = bak.with_name(f".{bak.name}.tmp")
    tmp.unlink(missing_ok=True)
    try:
        os.link(path, tmp)
    except OSError:  # file systems without hard links (FAT, some shares)
        shutil.copy2(path, tmp)
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
    os.replace(tmp, bak)


def _remove_stale_temps(folder: Path, max_age_s: float = 3600.0) -> None:
    """Delete temporary files of saves killed long ago (a kill cannot clean up after itself).

    Only our own names (``.hearttwin-*.htwin``, ``.*.htwin.bak.tmp``) older
    than ``max_age_s`` are touched: no save takes an hour, so a younger one
    may belong to a save running in another HeartTwin.
    """
    now = time.time()
    for pattern in (f".hearttwin-*{SUFFIX}", f".*{SUFFIX}.bak.tmp"):
        for p in folder.glob(pattern):
            try:
                if now - p.stat().st_mtime > max_age_s:
                    p.unlink()
            except OSError:
                pass


def _fsync_dir(folder: Path) -> None:
    if os.name != "posix":
        return
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _os_message(err: OSError) -> str:
    if err.errno == errno.ENOSPC:
        why = "the disk is full"
    elif err.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        why = "there is no permission to write in that folder"
    else:
        why = err.strerror or type(err).__name__
    return (f"The case could not be saved: {why}. The previous version of the file is unchanged; "
            "free some space or save to another folder.")


def save(case: Case, path, progress=None, *, backup: bool = True, mark_saved: bool = True,
         extra_members: dict | None = None) -> Path:
    """Write ``case`` to ``path`` (``.htwin``) atomically; the replaced file is kept as ``.bak``.

    Parameters
    ----------
    case : Case
    path : str or Path
        Target file; its folder must exist. The suffix must be ``.htwin``.
    progress : jobs.Progress, optional
    backup : bool
        Keep the file being replaced as ``NAME.htwin.bak``.
    mark_saved : bool
        Mark the case clean (not dirty) as of the revision written; autosave passes False.
    extra_members : dict, optional
        ``{member name: JSON value}`` stored beside the case (e.g. recovery information).

    Raises
    ------
    InputError
        Bad target name or folder.
    SaveError
        The disk is full, no permission, ...; the previous file is intact.
    """
    path = Path(path)
    if path.suffix.lower() != SUFFIX:
        raise InputError(f"Case files end in {SUFFIX}; the name given ends in {path.suffix or 'nothing'!r}.")
    if not path.parent.is_dir():
        raise InputError("The folder to save the case in does not exist.")
    revision = case.revision
    try:
        with atomic_path(path, suffix=SUFFIX) as tmp:
            _write_archive(tmp, case, path.parent, progress, extra_members)
            if backup and path.is_file():
                _backup(path)
        _fsync_dir(path.parent)
    except OSError as err:
        raise SaveError(_os_message(err)) from None
    _remove_stale_temps(path.parent)
    jobs.report(progress, 1, 1, "Saved")
    if mark_saved:
        case.mark_saved(path, revision)
    return path
