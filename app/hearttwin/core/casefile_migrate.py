"""Case file format versions and the step-by-step migrations between them.

The format version is ``"MAJOR.MINOR"``. A reader opens any older version by
applying the registered steps one after the other (0.8 -> 0.9 -> 1.0), opens
a newer *minor* version of its own major (ignoring what it does not know, with
a warning), and refuses a newer *major* version with a message that says to
update HeartTwin. Each step rewrites the ``case.json`` document only; members
(label map, image, meshes) have kept their form since 0.8.

Format history
--------------
0.8
    ``landmarks`` a list of ``{"name", "point_lps"}``; measurements under
    ``"measures"``; devices ``{"device", "size", "position_lps", "axis_lps"}``
    (no full pose); history under ``"steps"`` as ``[name, params]`` pairs.
0.9
    ``landmarks`` a dict ``name -> point``; the rest as 0.8.
1.0
    ``measurements``; devices ``{"id", "size", "pose_lps": 4x4}``
    (DESIGN.md); history as :class:`~hearttwin.core.history.Step` dicts;
    ``simulation: {"params", "results"}``.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from .errors import CorruptDataError, UnsupportedDataError

CURRENT = "1.0"


class NewerFormatError(UnsupportedDataError):
    """The case file was written by a newer HeartTwin with an incompatible format."""


def parse_version(text) -> tuple[int, int]:
    """``"1.0"`` -> ``(1, 0)``; anything else is a damaged file."""
    try:
        major, minor = str(text).split(".")
        return int(major), int(minor)
    except (ValueError, TypeError):
        raise CorruptDataError(f"The case file's format version {str(text)[:20]!r} is not a version "
                               "number; the file is damaged.") from None


def _landmarks_to_dict(doc: dict) -> dict:
    items = doc.get("landmarks") or []
    if isinstance(items, dict):
        return doc
    out = dict(doc)
    out["landmarks"] = {str(i["name"]): list(i["point_lps"]) for i in items}
    return out


def pose_from_axis(position, axis) -> list:
    """A 4x4 LPS pose with its origin at ``position`` and its z axis along ``axis``."""
    z = np.asarray(axis, dtype=float)
    z = z / (np.linalg.norm(z) or 1.0)
    helper = np.array([1.0, 0.0, 0.0]) if abs(z[0]) < 0.9 else np.array([0.0, 1.0, 0.0])
    x = np.cross(helper, z)
    x /= np.linalg.norm(x)
    y = np.cross(z, x)
    pose = np.eye(4)
    pose[:3, 0], pose[:3, 1], pose[:3, 2], pose[:3, 3] = x, y, z, np.asarray(position, dtype=float)
    return pose.tolist()


def _to_1_0(doc: dict) -> dict:
    out = dict(doc)
    out["measurements"] = out.pop("measures", None) or {}
    devices = []
    for d in out.get("devices") or []:
        new = {k: v for k, v in d.items() if k not in ("device", "position_lps", "axis_lps")}
        new["id"] = d["device"]
        new["pose_lps"] = pose_from_axis(d.get("position_lps", [0, 0, 0]), d.get("axis_lps", [0, 0, 1]))
        devices.append(new)
    out["devices"] = devices
    out["history"] = [{"name": s[0], "params": s[1] if len(s) > 1 else {}, "app_version": "",
                       "time_utc": ""} for s in out.pop("steps", None) or []]
    out.setdefault("simulation", {"params": {}, "results": {}})
    return out


#: from version -> (to version, step); each step takes and returns the case.json document
MIGRATIONS: dict[str, tuple[str, Callable[[dict], dict]]] = {
    "0.8": ("0.9", _landmarks_to_dict),
    "0.9": ("1.0", _to_1_0),
}


def migrate(doc: dict, version: str, current: str = CURRENT) -> tuple[dict, list[str], list[str]]:
    """Bring a ``case.json`` document of format ``version`` to ``current``.

    Returns
    -------
    (doc, applied, warnings)
        The migrated document, the versions passed through (``["0.9", "1.0"]``)
        and messages for the user.
    """
    have, want = parse_version(version), parse_version(current)
    if have[0] > want[0]:
        raise NewerFormatError(
            f"This case was saved in case format {version} by a newer HeartTwin; this version "
            f"({_app_version()}) reads formats up to {want[0]}.x. Update HeartTwin to open it.")
    if have >= want:
        warnings = [] if have == want else [
            f"This case was saved in case format {version} by a newer HeartTwin; anything it added "
            "that this version does not know is ignored and will be lost if you save."]
        return doc, [], warnings
    applied, start = [], version
    while parse_version(version) < want:
        if version not in MIGRATIONS:
            raise UnsupportedDataError(
                f"Case format {version} is too old for this HeartTwin (it reads 0.8 and later); open "
                "and save it with an older HeartTwin first.")
        version, step = MIGRATIONS[version]
        try:
            doc = step(doc)
        except (KeyError, TypeError, ValueError, IndexError, AttributeError):
            raise CorruptDataError(
                f"The case file could not be brought to format {version}: its content is damaged.") from None
        applied.append(version)
    warnings = [f"This case was saved in an older case format ({' -> '.join([start] + applied)}); "
                "it was converted and will be saved in the current format."]
    return doc, applied, warnings


def _app_version() -> str:
    from .. import __version__

    return __version__
