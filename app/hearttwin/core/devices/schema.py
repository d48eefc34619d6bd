"""Schema of the device catalogue files (schema 1) and the checks that enforce it.

:class:`FileChecker` validates one parsed JSON file field by field; every
failure raises :class:`CatalogueError` naming the file and the field.
"""

from __future__ import annotations

import math
from pathlib import Path

from ..errors import InputError

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
