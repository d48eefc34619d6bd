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

#: catalogue file format version this code reads
SCHEMA = 1

POSITIONS = ("aortic", "mitral", "laa", "septal", "pulmonary", "vessel")
SHAPES = ("cylinder", "flared", "plug", "double_disc")
ANCHORS = ("aortic_annulus", "mitral_annulus", "laa_landing_zone", "interatrial_septum",
           "pulmonary_artery", "aorta")
#: sizing key -> (what it is, unit) for messages and tables
SIZING_KEYS = {
    "annulus_area_mm2": ("annulus area", "mm2"),
    "annulus_perimeter_mm": ("annulus perimeter", "mm"),
    "mitral_annulus_area_mm2": ("mitral annulus area", "mm2"),
    "laa_landing_zone_max_diameter_mm": ("LAA landing-zone max diameter", "mm"),
    "defect_diameter_mm": ("defect diameter", "mm"),
    "vessel_diameter_mm": ("vessel diameter", "mm"),
}
#: metric names a fit rule may test (DESIGN.md plus the catalogue extras)
METRICS = (
    "oversizing_area_percent", "oversizing_perimeter_percent", "apposition_percent",
    "max_gap_mm", "gap_area_mm2", "max_penetration_mm", "coronary_distance_left_mm",
    "coronary_distance_right_mm", "implant_depth_mm", "neo_lvot_area_mm2",
    "compression_percent", "expansion_percent", "eccentricity_device",
)
#: shape -> geometry parameters every size must give
GEOMETRY_KEYS = {
    "cylinder": ("diameter_mm", "height_mm", "skirt_height_mm", "cells_around", "rows"),
    "flared": ("height_mm", "inflow_diameter_mm", "waist_diameter_mm", "waist_z_mm",
               "outflow_diameter_mm", "skirt_height_mm", "cells_around", "rows"),
    "plug": ("diameter_mm", "length_mm"),
    "double_disc": ("waist_diameter_mm", "waist_length_mm", "left_disc_diameter_mm",
                    "right_disc_diameter_mm", "disc_thickness_mm"),
}
TOP_KEYS = ("schema", "id", "family", "position", "shape", "description", "sizes", "sizing",
            "mechanics", "placement", "fit_rules", "sources")
STATUSES = ("pass", "caution", "fail")


class CatalogueError(InputError):
    """A device catalogue file is missing, unreadable or breaks the schema."""


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


# ---------------------------------------------------------------- validation


class FileChecker:
    """Schema checks for one catalogue file; every failure names the file and field."""

    def __init__(self, path: Path, error=None) -> None:
        self.path = path
        self.error = error or CatalogueError

    def fail(self, where: str, problem: str):
        raise self.error(f"Device catalogue file {self.path.name}, field '{where}': {problem}. "
                         "Fix the file (or reinstall HeartTwin).")

    def obj(self, where, value, required=(), allowed=None) -> dict:
        if not isinstance(value, dict):
            self.fail(where, f"must be a JSON object, not {type(value).__name__}")
        def at(keys):
            return ", ".join(k if where == "(file)" else f"{where}.{k}" for k in keys)

        missing = [k for k in required if k not in value]
        if missing:
            self.fail(at(missing), "is missing (required)")
        if allowed is not None:
            unknown = sorted(set(value) - set(allowed))
            if unknown:
                self.fail(at(unknown), "unknown key (allowed here: " + ", ".join(allowed) + ")")
        return value

    def text(self, where, value) -> str:
        if not isinstance(value, str) or not value.strip():
            self.fail(where, "must be a non-empty text")
        return value

    def choice(self, where, value, options) -> str:
        if value not in options:
            self.fail(where, f"is {value!r}; expected one of: " + ", ".join(options))
        return value

    def number(self, where, value, positive=True, minimum=None) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)) \
                or not math.isfinite(value):
            self.fail(where, f"must be a number, not {value!r}")
        if positive and value <= 0:
            self.fail(where, f"must be positive, not {value!r}")
        if minimum is not None and value < minimum:
            self.fail(where, f"must be at least {minimum}, not {value!r}")
        return float(value)

    def array(self, where, value, min_len=1) -> list:
        if not isinstance(value, list) or len(value) < min_len:
            self.fail(where, f"must be a list of at least {min_len} item(s)")
        return value

    def pair(self, where, value, minimum=None) -> list[float]:
        if not isinstance(value, list) or len(value) != 2:
            self.fail(where, "must be a list [low, high]")
        lo, hi = (self.number(f"{where}[{i}]", v, positive=False, minimum=minimum)
                  for i, v in enumerate(value))
        if lo > hi:
            self.fail(where, f"low {lo:g} is above high {hi:g}")
        return [lo, hi]

    def sizes(self, value, geometry_keys, shape) -> list[dict]:
        keys = ("size", "nominal_diameter_mm", "min_diameter_mm", "max_diameter_mm", "geometry")
        out = []
        for i, item in enumerate(self.array("sizes", value)):
            w = f"sizes[{i}]"
            self.obj(w, item, required=keys, allowed=keys)
            s = {k: self.number(f"{w}.{k}", item[k]) for k in keys[:4]}
            if not s["min_diameter_mm"] <= s["nominal_diameter_mm"] <= s["max_diameter_mm"]:
                self.fail(f"{w}.nominal_diameter_mm", "needs min_diameter_mm <= "
                          f"nominal_diameter_mm <= max_diameter_mm, got {s['min_diameter_mm']:g}"
                          f" / {s['nominal_diameter_mm']:g} / {s['max_diameter_mm']:g}")
            if any(abs(o["size"] - s["size"]) < 1e-9 for o in out):
                self.fail(f"{w}.size", f"size {s['size']:g} is listed twice")
            s["geometry"] = self.geometry(f"{w}.geometry", item["geometry"], geometry_keys, shape)
            out.append(s)
        return out

    def geometry(self, where, value, keys, shape) -> dict:
        self.obj(where, value, required=keys, allowed=keys)
        g = {}
        for k in keys:
            if k in ("cells_around", "rows"):
                if isinstance(value[k], bool) or not isinstance(value[k], int) or value[k] < 1:
                    self.fail(f"{where}.{k}", f"must be a positive whole number, not {value[k]!r}")
                g[k] = value[k]
            else:  # a bare stent has no skirt: 0 allowed there only
                g[k] = self.number(f"{where}.{k}", value[k], positive=k != "skirt_height_mm",
                                   minimum=0.0)
        if "skirt_height_mm" in g and g["skirt_height_mm"] > g["height_mm"]:
            self.fail(f"{where}.skirt_height_mm", "is taller than height_mm")
        if shape == "flared" and not 0 < g["waist_z_mm"] < g["height_mm"]:
            self.fail(f"{where}.waist_z_mm", "must lie between 0 and height_mm")
        if shape == "double_disc" and min(g["left_disc_diameter_mm"],
                                          g["right_disc_diameter_mm"]) <= g["waist_diameter_mm"]:
            self.fail(f"{where}.left_disc_diameter_mm", "discs must be wider than the waist")
        return g

    def sizing(self, value, sizing_keys, sizes) -> dict:
        allowed = ("by", "chart", "target_oversizing_percent", "target_compression_percent",
                   "note")
        self.obj("sizing", value, required=("by", "chart"), allowed=allowed)
        self.choice("sizing.by", value["by"], tuple(sizing_keys))
        chart, prev = [], None
        for i, row in enumerate(self.array("sizing.chart", value["chart"])):
            w = f"sizing.chart[{i}]"
            self.obj(w, row, required=("size", "min", "max"), allowed=("size", "min", "max"))
            r = {k: self.number(f"{w}.{k}", row[k]) for k in ("size", "min", "max")}
            if not any(abs(r["size"] - s) < 1e-9 for s in sizes):
                self.fail(f"{w}.size", f"size {r['size']:g} is not among the family's sizes")
            if r["min"] > r["max"]:
                self.fail(f"{w}.min", f"min {r['min']:g} is above max {r['max']:g}")
            if prev is not None and (r["min"] < prev["min"] or r["max"] < prev["max"]):
                self.fail(f"{w}.min", "chart rows must be ordered by increasing range")
            chart.append(r)
            prev = r
        out = {"by": value["by"], "chart": chart}
        for k in allowed[2:4]:
            if k in value:
                out[k] = self.pair(f"sizing.{k}", value[k])
        if "note" in value:
            out["note"] = self.text("sizing.note", value["note"])
        return out

    def mechanics(self, value) -> dict:
        self.obj("mechanics", value, required=("radial_stiffness",))
        out = {k: self.number(f"mechanics.{k}", v, positive=False) for k, v in value.items()}
        if not 0 <= out["radial_stiffness"] <= 1:
            self.fail("mechanics.radial_stiffness", "must lie between 0 and 1")
        return out

    def placement(self, value, anchors, sizes, shape) -> dict:
        keys = ("anchor", "depth_mm", "sealing_zone_mm")
        self.obj("placement", value, required=keys, allowed=keys + ("note",))
        out = {"anchor": self.choice("placement.anchor", value["anchor"], anchors),
               "depth_mm": self.number("placement.depth_mm", value["depth_mm"], positive=False),
               "sealing_zone_mm": self.pair("placement.sealing_zone_mm",
                                            value["sealing_zone_mm"], minimum=0.0)}
        shortest = min(_device_length(s["geometry"], shape) for s in sizes)
        if out["sealing_zone_mm"][1] > shortest + 1e-9:
            self.fail("placement.sealing_zone_mm", f"ends at {out['sealing_zone_mm'][1]:g} mm, "
                      f"beyond the shortest device ({shortest:g} mm)")
        if "note" in value:
            out["note"] = self.text("placement.note", value["note"])
        return out

    def fit_rules(self, value, metrics, source_ids) -> list[dict]:
        bounds = ("fail_below", "caution_below", "caution_above", "fail_above")
        keys = ("metric",) + bounds + ("why", "source")
        out = []
        for i, item in enumerate(self.array("fit_rules", value)):
            w = f"fit_rules[{i}]"
            self.obj(w, item, required=("metric", "why"), allowed=keys)
            rule = {"metric": self.choice(f"{w}.metric", item["metric"], metrics),
                    "why": self.text(f"{w}.why", item["why"]), "source": None}
            given = [(b, self.number(f"{w}.{b}", item[b], positive=False))
                     for b in bounds if item.get(b) is not None]
            if not given:
                self.fail(w, "needs at least one of " + ", ".join(bounds))
            if any(a[1] > b[1] for a, b in zip(given, given[1:])):
                self.fail(f"{w}.{given[0][0]}", "bounds must satisfy fail_below <= "
                          "caution_below <= caution_above <= fail_above")
            rule.update(dict(given))
            if item.get("source") is not None:
                if item["source"] not in source_ids:
                    self.fail(f"{w}.source", f"{item['source']!r} is not an id in 'sources'")
                rule["source"] = item["source"]
            out.append(rule)
        return out

    def sources(self, value) -> list[dict]:
        out = []
        for i, item in enumerate(self.array("sources", value)):
            w = f"sources[{i}]"
            keys = ("id", "citation", "url")
            self.obj(w, item, required=keys, allowed=keys)
            src = {k: self.text(f"{w}.{k}", item[k]) for k in keys}
            if not src["url"].startswith(("https://", "http://")):
                self.fail(f"{w}.url", "must be an http(s) address")
            if any(s["id"] == src["id"] for s in out):
                self.fail(f"{w}.id", f"{src['id']!r} is used twice")
            out.append(src)
        return out


def _device_length(g: dict, shape: str) -> float:
    if shape == "plug":
        return g["length_mm"]
    if shape == "double_disc":
        return 2 * g["disc_thickness_mm"] + g["waist_length_mm"]
    return g["height_mm"]


# ---------------------------------------------------------------- loading


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
