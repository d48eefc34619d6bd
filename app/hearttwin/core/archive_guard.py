"""Refuse hostile or damaged zip archives before reading any member.

A case file comes from someone else's machine, so it is treated as hostile
until checked. :func:`check_archive` looks only at the central directory and
rejects: member names that are absolute, contain ``..`` or backslashes or
drive letters (zip slip), symbolic links, encrypted members, duplicate
names, too many entries, declared sizes beyond the limits and compression
ratios no real case produces (zip bombs). :func:`read_member` then reads a
member with the declared size as a hard cap, so a member lying about its size
cannot inflate memory either. Nothing is ever extracted to disk.
"""

from __future__ import annotations

import os
import stat
import zipfile
from dataclasses import dataclass

from .errors import CorruptDataError

_MIB = 1024 * 1024


class HostileArchiveError(CorruptDataError):
    """The case file is built in a way no HeartTwin case is (possibly on purpose)."""


@dataclass(frozen=True)
class ArchiveLimits:
    """What a case file may contain. Real cases are far below every limit."""

    max_entries: int = 1000
    max_member_bytes: int = 8 * 1024 * _MIB
    max_total_bytes: int = 16 * 1024 * _MIB
    #: uncompressed / compressed, checked for members above ``ratio_floor_bytes``
    max_ratio: float = 200.0
    ratio_floor_bytes: int = 4 * _MIB

    @classmethod
    def from_env(cls) -> "ArchiveLimits":
        """Defaults, with ``HEARTTWIN_MAX_CASE_MB`` raising or lowering the total size."""
        value = os.environ.get("HEARTTWIN_MAX_CASE_MB", "").strip()
        if not value:
            return cls()
        try:
            total = int(float(value) * _MIB)
        except ValueError:
            raise CorruptDataError(f"HEARTTWIN_MAX_CASE_MB must be a number of megabytes, not {value!r}.") from None
        return cls(max_member_bytes=total, max_total_bytes=total)


def _bad_name(name: str) -> str | None:
    if not name or "\x00" in name:
        return "an empty or binary member name"
    if "\\" in name:
        return "a member name with a backslash"
    if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        return f"an absolute member path ({name[:60]!r})"
    if ".." in name.split("/"):
        return f"a member path that climbs out of the archive ({name[:60]!r})"
    return None


def _is_link(info: zipfile.ZipInfo) -> bool:
    # the Unix mode sits in the high 16 bits of external_attr (Info-ZIP convention)
    return stat.S_ISLNK(info.external_attr >> 16)


def check_archive(zf: zipfile.ZipFile, limits: ArchiveLimits | None = None) -> dict[str, zipfile.ZipInfo]:
    """Check every entry of ``zf``; return ``{name: ZipInfo}`` of its files (directories skipped).

    Raises
    ------
    HostileArchiveError
        With a message saying which rule the archive breaks.
    """
    limits = limits or ArchiveLimits.from_env()
    infos = zf.infolist()
    if len(infos) > limits.max_entries:
        raise HostileArchiveError(
            f"This case file has {len(infos)} entries; a case has at most {limits.max_entries}. "
            "It was not made by HeartTwin and was not opened.")
    out: dict[str, zipfile.ZipInfo] = {}
    total = 0
    for info in infos:
        why = _bad_name(info.filename)
        if why:
            raise HostileArchiveError(f"This case file contains {why}; it was not opened.")
        if _is_link(info):
            raise HostileArchiveError(
                f"This case file contains a symbolic link ({info.filename[:60]!r}); it was not opened.")
        if info.flag_bits & 0x1:
            raise HostileArchiveError("This case file contains encrypted members; it was not opened.")
        if info.is_dir():
            continue
        if info.filename in out:
            raise HostileArchiveError(
                f"This case file contains {info.filename[:60]!r} twice; it was not opened.")
        if info.file_size > limits.max_member_bytes:
            raise HostileArchiveError(
                f"A member of this case file declares {info.file_size / _MIB:.0f} MB, over the "
                f"{limits.max_member_bytes / _MIB:.0f} MB limit (HEARTTWIN_MAX_CASE_MB raises it).")
        total += info.file_size
        if total > limits.max_total_bytes:
            raise HostileArchiveError(
                f"This case file declares more than {limits.max_total_bytes / _MIB:.0f} MB of content, "
                "over the limit (HEARTTWIN_MAX_CASE_MB raises it).")
        if info.file_size > limits.ratio_floor_bytes:
            ratio = info.file_size / max(info.compress_size, 1)
            if ratio > limits.max_ratio:
                raise HostileArchiveError(
                    f"A member of this case file expands {ratio:.0f} times (at most {limits.max_ratio:.0f} "
                    "is expected): it looks like a zip bomb and was not opened.")
        out[info.filename] = info
    return out


def read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, chunk: int = _MIB) -> bytes:
    """The bytes of one member, never more than its declared size (damage raises CorruptDataError)."""
    parts, n = [], 0
    try:
        with zf.open(info) as fh:
            while True:
                block = fh.read(min(chunk, info.file_size - n + 1))
                if not block:
                    break
                n += len(block)
                if n > info.file_size:
                    raise HostileArchiveError(
                        f"Member {info.filename[:60]!r} holds more data than it declares; the case file "
                        "was not opened.")
                parts.append(block)
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, NotImplementedError) as err:
        raise CorruptDataError(
            f"Member {info.filename[:60]!r} of the case file is damaged ({type(err).__name__}).") from None
    return b"".join(parts)
