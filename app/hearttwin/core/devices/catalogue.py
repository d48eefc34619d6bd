"""The device catalogue: generic device families read from ``resources/devices/*.json``.

One JSON file per family (schema 1): sizes with their expansion range and
shape parameters, the sizing chart, mechanics, placement defaults, fit rules
and the published sources they come from. Every file is validated on load; a
bad file raises :class:`CatalogueError` naming the file and the field.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from ..errors import InputError
from ..resources import resources_dir
from .schema import (ANCHORS, GEOMETRY_KEYS, METRICS, POSITIONS, SCHEMA, SHAPES, SIZING_KEYS,
                     TOP_KEYS, CatalogueError, FileChecker)


@dataclass(frozen=True)
class DeviceSize:
    """One size of a family: the label users type and its expansion range (mm)."""

    size: float
    nominal_diameter_mm: float
    min_diameter_mm: float
    max_diameter_mm: float
    geometry: dict = field(hash=False)

    @property
    def label(self) -> str:
        """The size as users write it: ``"23"``, ``"23.5"``."""
        return _fmt(self.size)

    def to_json(self) -> dict:
        return {"size": _num(self.size), "nominal_diameter_mm": self.nominal_diameter_mm,
                "min_diameter_mm": self.min_diameter_mm, "max_diameter_mm": self.max_diameter_mm,
                "geometry": dict(self.geometry)}


@dataclass(frozen=True)
class FitRule:
    """Pass/caution/fail bounds on one fit metric, with the reason and its source id."""

    metric: str
    fail_below: float | None = None
    caution_below: float | None = None
    caution_above: float | None = None
    fail_above: float | None = None
    why: str = ""
    source: str | None = None

    def evaluate(self, value) -> str:
        """``"pass"``, ``"caution"`` or ``"fail"`` for ``value``.

        Parameters
        ----------
        value : float or None
            The metric value; ``None`` or NaN (not measurable) gives ``"caution"``.

        Returns
        -------
        str
            Bounds are strict: a value equal to a bound is on the better side.
        """
        if value is None or not math.isfinite(float(value)):
            return "caution"
        v = float(value)
        if (self.fail_below is not None and v < self.fail_below) or (
                self.fail_above is not None and v > self.fail_above):
            return "fail"
        if (self.caution_below is not None and v < self.caution_below) or (
                self.caution_above is not None and v > self.caution_above):
            return "caution"
        return "pass"

    def to_json(self) -> dict:
        return {"metric": self.metric, "fail_below": self.fail_below,
                "caution_below": self.caution_below, "caution_above": self.caution_above,
                "fail_above": self.fail_above, "why": self.why, "source": self.source}


@dataclass(frozen=True)
class DeviceFamily:
    """A generic device family (one catalogue file)."""

    id: str
    family: str
    position: str
    shape: str
    description: str
    sizes: tuple[DeviceSize, ...]
    sizing: dict = field(hash=False)
    mechanics: dict = field(hash=False)
    placement: dict = field(hash=False)
    fit_rules: tuple[FitRule, ...] = ()
    sources: tuple[dict, ...] = field(default=(), hash=False)
    path: Path | None = None

    @property
    def size_values(self) -> tuple[float, ...]:
        return tuple(s.size for s in self.sizes)

    def size(self, s) -> DeviceSize:
        """The :class:`DeviceSize` labelled ``s`` (number or text such as ``"26"``).

        Raises
        ------
        InputError
            When the family has no such size; the message lists the sizes it has.
        """
        try:
            wanted = float(str(s).strip().removesuffix("mm").strip())
        except ValueError:
            wanted = None
        for item in self.sizes:
            if wanted is not None and abs(item.size - wanted) < 1e-6:
                return item
        raise InputError(
            f"{self.family} ({self.id}) has no size {s}; available sizes (mm): "
            + ", ".join(item.label for item in self.sizes) + ".")

    def rule(self, metric: str) -> FitRule | None:
        """The fit rule on ``metric``, or None when the family has none."""
        return next((r for r in self.fit_rules if r.metric == metric), None)

    def source(self, source_id: str) -> dict | None:
        return next((s for s in self.sources if s["id"] == source_id), None)

    def to_json(self) -> dict:
        """The family for ``hearttwin devices --json``: ``sizes`` is the list of size
        labels (mm); ``size_details`` holds each size's expansion range and geometry."""
        return {
            "id": self.id, "family": self.family, "position": self.position,
            "shape": self.shape, "description": self.description,
            "sizes": [_num(s.size) for s in self.sizes],
            "size_details": [s.to_json() for s in self.sizes],
            "sizing": json.loads(json.dumps(self.sizing)),
            "mechanics": dict(self.mechanics), "placement": json.loads(json.dumps(self.placement)),
            "fit_rules": [r.to_json() for r in self.fit_rules],
            "sources": [dict(s) for s in self.sources],
        }


def _num(x: float):
    return int(x) if float(x).is_integer() else float(x)


def _fmt(x) -> str:
    return f"{round(float(x), 1):g}"


def load_family(path) -> DeviceFamily:
    """Read and validate one catalogue file.

    Parameters
    ----------
    path : str or Path
        A ``<id>.json`` file.

    Returns
    -------
    DeviceFamily

    Raises
    ------
    CatalogueError
        Unreadable file, bad JSON, or any schema violation; the message names the
        file and the field.
    """
    path = Path(path)
    check = FileChecker(path, CatalogueError)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise CatalogueError(f"Device catalogue file {path.name} cannot be read: "
                             f"{err.strerror or err}.") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        check.fail("(file)", f"is not valid JSON (line {err.lineno}, column {err.colno}: {err.msg})")
    return _build(check, data)


def _build(check: FileChecker, data) -> DeviceFamily:
    check.obj("(file)", data, required=TOP_KEYS, allowed=TOP_KEYS)
    if data["schema"] != SCHEMA or isinstance(data["schema"], bool):
        check.fail("schema", f"is {data['schema']!r}; this HeartTwin reads schema {SCHEMA}")
    dev_id = check.text("id", data["id"])
    if not re.fullmatch(r"[a-z0-9-]+", dev_id):
        check.fail("id", f"{dev_id!r} may use only a-z, 0-9 and '-'")
    if dev_id != check.path.stem:
        check.fail("id", f"{dev_id!r} must equal the file name ({check.path.stem!r})")
    shape = check.choice("shape", data["shape"], SHAPES)
    sizes = check.sizes(data["sizes"], GEOMETRY_KEYS[shape], shape)
    sources = check.sources(data["sources"])
    source_ids = {s["id"] for s in sources}
    return DeviceFamily(
        id=dev_id,
        family=check.text("family", data["family"]),
        position=check.choice("position", data["position"], POSITIONS),
        shape=shape,
        description=check.text("description", data["description"]),
        sizes=tuple(DeviceSize(**s) for s in sizes),
        sizing=check.sizing(data["sizing"], SIZING_KEYS, {s["size"] for s in sizes}),
        mechanics=check.mechanics(data["mechanics"]),
        placement=check.placement(data["placement"], ANCHORS, sizes, shape),
        fit_rules=tuple(FitRule(**r) for r in check.fit_rules(data["fit_rules"], METRICS,
                                                              source_ids)),
        sources=tuple(sources),
        path=check.path,
    )


@lru_cache(maxsize=8)
def _load_folder(folder: str) -> tuple[DeviceFamily, ...]:
    path = Path(folder)
    if not path.is_dir():
        raise CatalogueError(f"The device catalogue folder {path} does not exist. "
                             "Reinstall HeartTwin or set HEARTTWIN_RESOURCES.")
    files = sorted(path.glob("*.json"))
    if not files:
        raise CatalogueError(f"The device catalogue folder {path} holds no *.json files.")
    return tuple(load_family(f) for f in files)


def load_catalogue(folder=None) -> dict[str, DeviceFamily]:
    """Every family in the catalogue, by id (validated once, then cached).

    Parameters
    ----------
    folder : str or Path, optional
        Folder of ``*.json`` files; default ``resources/devices``.

    Returns
    -------
    dict[str, DeviceFamily]
        Ordered by id.
    """
    folder = Path(folder) if folder is not None else resources_dir() / "devices"
    return {f.id: f for f in _load_folder(str(folder.resolve()))}


def get_device(device_id: str, folder=None) -> DeviceFamily:
    """The family ``device_id``; InputError naming the known ids when there is none."""
    catalogue = load_catalogue(folder)
    try:
        return catalogue[str(device_id).strip().lower()]
    except KeyError:
        raise InputError(f"Unknown device {device_id!r}; the catalogue has: "
                         + ", ".join(catalogue) + ".") from None


def clear_cache() -> None:
    """Forget loaded catalogues (after editing the files in a running session)."""
    _load_folder.cache_clear()


__all__ = ["CatalogueError", "DeviceSize", "FitRule", "DeviceFamily", "load_catalogue",
           "load_family", "get_device", "clear_cache", "POSITIONS", "SHAPES", "ANCHORS",
           "SIZING_KEYS", "METRICS", "GEOMETRY_KEYS"]
