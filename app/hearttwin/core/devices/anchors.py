"""Anchors: where on the anatomy each device family goes, from the measurements.

An :class:`Anchor` is a point, the direction the device's +z axis takes there
(the flow direction for valves and stents, appendage -> LA for an appendage
plug, LA -> RA for a septal occluder), an optional in-plane reference
direction, the ring the device seals against (area, perimeter, for the
oversizing figures) and the sizing values the catalogue charts use
(``annulus_area_mm2`` ...). Anchors come from :func:`measure_all`'s result
(``hearttwin measure``) plus, for the valves and vessels it does not cover,
the label map.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import InputError
from .schema import ANCHORS


@dataclass
class Anchor:
    name: str
    centre: np.ndarray            # LPS mm
    axis: np.ndarray              # unit; the device's +z there
    reference: np.ndarray | None  # in-plane direction for the device's x (or None)
    ring: dict                    # {"area_mm2", "perimeter_mm", "centre_lps", "normal_lps", ...}
    sizing: dict = field(default_factory=dict)  # sizing key -> value (mm / mm2)
    warnings: list = field(default_factory=list)


def _vec(v) -> np.ndarray:
    return np.asarray(v, float)


def _ellipse_ring(centre, normal, dmax: float, dmin: float) -> dict:
    a, b = 0.5 * dmax, 0.5 * dmin
    h = ((a - b) / (a + b)) ** 2
    perimeter = np.pi * (a + b) * (1 + 3 * h / (10 + np.sqrt(4 - 3 * h)))  # Ramanujan
    return {"area_mm2": float(np.pi * a * b), "perimeter_mm": float(perimeter),
            "max_diameter_mm": dmax, "min_diameter_mm": dmin,
            "centre_lps": list(map(float, centre)), "normal_lps": list(map(float, normal))}


def _need(section: dict, what: str, why: list[str]) -> dict:
    if not section or "centre_lps" not in section:
        reason = f" ({why[0]})" if why else ""
        raise InputError(f"Cannot place the device: the {what} was not measured{reason}.")
    return section


def aortic_annulus(measurements: dict, labels) -> Anchor:
    a = _need(measurements.get("annulus", {}), "aortic annulus", measurements.get("warnings", []))
    ref = a.get("major_axis_lps")
    return Anchor("aortic_annulus", _vec(a["centre_lps"]), _vec(a["normal_lps"]),
                  None if ref is None else _vec(ref), dict(a),
                  {"annulus_area_mm2": a["area_mm2"], "annulus_perimeter_mm": a["perimeter_mm"]})


def mitral_annulus(measurements: dict, labels) -> Anchor:
    m = measurements.get("mitral_annulus")
    warnings: list[str] = []
    if not m:
        from ..anatomy.valve_planes import measure_mitral_annulus

        m, warnings = measure_mitral_annulus(labels)
    m = _need(m, "mitral annulus", warnings)
    return Anchor("mitral_annulus", _vec(m["centre_lps"]), _vec(m["normal_lps"]), None, dict(m),
                  {"mitral_annulus_area_mm2": m["area_mm2"],
                   "mitral_annulus_perimeter_mm": m["perimeter_mm"]})


def laa_landing_zone(measurements: dict, labels) -> Anchor:
    laa = measurements.get("laa") or {}
    _need({"centre_lps": laa["ostium_centre_lps"]} if "ostium_centre_lps" in laa else {},
          "left atrial appendage", [w for w in measurements.get("warnings", []) if "ppendage" in w])
    into = _vec(laa["ostium_normal_lps"])  # ostium -> appendage
    dmax = laa.get("landing_zone_max_diameter_mm") or laa["ostium_max_diameter_mm"]
    dmin = laa.get("landing_zone_min_diameter_mm") or laa["ostium_min_diameter_mm"]
    ring = _ellipse_ring(laa["ostium_centre_lps"], -into, dmax, dmin)
    return Anchor("laa_landing_zone", _vec(laa["ostium_centre_lps"]), -into, None, ring,
                  {"laa_landing_zone_max_diameter_mm": dmax,
                   "laa_ostium_max_diameter_mm": laa["ostium_max_diameter_mm"]})


def interatrial_septum(measurements: dict, labels) -> Anchor:
    s = measurements.get("septum")
    warnings: list[str] = []
    if not s:
        from ..anatomy.septum import measure_septum

        s, warnings = measure_septum(labels)
    s = _need(s, "interatrial septum", warnings)
    centre = s.get("defect_centre_lps", s["centre_lps"])
    sizing, ring = {}, {"centre_lps": centre, "normal_lps": s["normal_lps"]}
    if s.get("defect"):
        d = s["defect_diameter_mm"]
        sizing["defect_diameter_mm"] = d
        ring.update(area_mm2=s["defect_area_mm2"], perimeter_mm=float(np.pi * d))
    else:
        warnings = warnings + ["No septal defect in the label map: the occluder is placed at the "
                               "septum's centre; give the defect size to size it."]
    return Anchor("interatrial_septum", _vec(centre), _vec(s["normal_lps"]), None, ring, sizing,
                  warnings)


def pulmonary_artery(measurements: dict, labels, length_mm: float = 30.0) -> Anchor:
    from ..anatomy.annulus import fit_line
    from ..anatomy.centreline import track
    from ..anatomy.sections import MaskField
    from ..anatomy.valve_planes import PA, measure_pulmonary_valve

    pv = measurements.get("pulmonary_valve")
    warnings: list[str] = []
    if not pv:
        pv, warnings = measure_pulmonary_valve(labels)
    pv = _need(pv, "pulmonary valve", warnings)
    centre, normal = _vec(pv["centre_lps"]), _vec(pv["normal_lps"])
    tr = track(MaskField(labels, np.asarray(labels.array) == PA), centre, normal,
               step_mm=2.0, max_length_mm=length_mm, radius_mm=25.0, max_area_jump=1.5)
    axis, sizing = normal, {}
    if len(tr.sections) >= 3:
        _, d = fit_line(tr.points)
        axis = d if np.dot(d, normal) > 0 else -d
        sizing["vessel_diameter_mm"] = float(np.median([s.area_diameter_mm for s in tr.sections]))
    else:
        warnings = warnings + ["The pulmonary trunk could not be followed: the stent is placed "
                               "along the valve normal."]
        sizing["vessel_diameter_mm"] = pv["area_derived_diameter_mm"]
    return Anchor("pulmonary_artery", centre, axis, None, dict(pv), sizing, warnings)


def aorta(measurements: dict, labels, skip_root_mm: float = 60.0, end_margin_mm: float = 30.0) -> Anchor:
    """The narrowest point of the tracked aorta past the root and ascending aorta
    (a coarctation, or the isthmus) and away from the ends of the track."""
    cl = measurements.get("aortic_centreline") or {}
    pts = np.asarray(cl.get("points_lps", []), float).reshape(-1, 3)
    if len(pts) < 3:
        raise InputError("Cannot place the stent: the aortic centreline was not measured.")
    arc = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(pts, axis=0), axis=1))])
    diam = np.asarray(cl["diameters_mm"], float)
    ok = (arc >= min(skip_root_mm, 0.5 * arc[-1])) & (arc <= arc[-1] - min(end_margin_mm, 0.25 * arc[-1]))
    ok[0] = ok[-1] = False
    if not ok.any():
        ok[1:-1] = True
    i = int(np.flatnonzero(ok)[np.argmin(diam[ok])])
    axis = pts[i + 1] - pts[i - 1]
    axis /= np.linalg.norm(axis)
    d = float(diam[i])
    ring = {"area_mm2": float(np.pi * d * d / 4), "perimeter_mm": float(np.pi * d),
            "centre_lps": pts[i].tolist(), "normal_lps": axis.tolist()}
    return Anchor("aorta", pts[i], axis, None, ring, {"vessel_diameter_mm": d})


_FINDERS = {"aortic_annulus": aortic_annulus, "mitral_annulus": mitral_annulus,
            "laa_landing_zone": laa_landing_zone, "interatrial_septum": interatrial_septum,
            "pulmonary_artery": pulmonary_artery, "aorta": aorta}


def find_anchor(name: str, measurements: dict, labels) -> Anchor:
    """The anchor ``name`` (one of :data:`ANCHORS`) on this anatomy."""
    if name not in _FINDERS:
        raise InputError(f"Unknown placement anchor {name!r}; known: {', '.join(ANCHORS)}.")
    return _FINDERS[name](measurements, labels)
