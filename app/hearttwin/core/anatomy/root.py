"""Aortic root, ascending aorta, aortic centreline and LVOT.

* Centreline: cross-section tracking of the aorta (label 6) from the
  annulus centre along the annulus normal (1 mm steps through the root, 3 mm
  beyond), :mod:`centreline`.
* Sinus of Valsalva: the first bulge of the root above the annulus (the
  largest area before the diameter falls 1 mm below it); its maximum and minimum diameter through the centroid
  (cusp-to-commissure and across) and area-derived diameter.
* Sinotubular junction (STJ): above the sinuses the root narrows to a
  plateau; the STJ is the first section above the sinus level whose
  area-derived diameter is within 0.5 mm of the narrowest one found up to
  25 mm above the sinus level. Its height is above the annulus plane.
* Ascending aorta: the section 40 mm along the centreline from the annulus.
* LVOT: the LV blood pool (label 1, clipped to a cylinder around the
  annulus axis so the LV cavity cannot leak in) cut 4 mm below the annulus.

Ranges: the same planes cut through the structure eroded/dilated by one
voxel.
"""

from __future__ import annotations

import numpy as np

from . import uncertainty
from .centreline import Track, resection, track
from .sections import MaskField, Section, cross_section

LV, AO = 1, 6
ASCENDING_ARC_MM = 40.0
LVOT_DEPTH_MM = 4.0


def aortic_track(labels, plane, progress_cb=None) -> Track:
    field = MaskField(labels, np.asarray(labels.array) == AO)
    return track(field, plane.centre, plane.normal, step_mm=3.0, steps=[(45.0, 1.0)],
                 progress_cb=progress_cb)


def _put_section(out: dict, prefix: str, secs: list[Section | None], what=("area", "min", "max")):
    get = {
        "area": ("area_mm2", lambda s: s.area_mm2),
        "dA": ("area_derived_diameter_mm", lambda s: s.area_diameter_mm),
        "dP": ("perimeter_derived_diameter_mm", lambda s: s.perimeter_diameter_mm),
        "min": ("min_diameter_mm", lambda s: s.min_diameter_mm),
        "max": ("max_diameter_mm", lambda s: s.max_diameter_mm),
        "mean": ("diameter_mm", lambda s: 0.5 * (s.min_diameter_mm + s.max_diameter_mm)),
    }
    for w in what:
        key, fn = get[w]
        uncertainty.put(out, f"{prefix}{key}", [None if s is None else fn(s) for s in secs])


def _variants(labels, mask: np.ndarray) -> list[MaskField]:
    return [MaskField(labels, uncertainty.shifted(mask, v)) for v in uncertainty.VARIANTS[1:]]


def measure_root(labels, plane, tr: Track) -> tuple[dict, list[str]]:
    """Sinus, STJ and ascending-aorta measurements (JSON-ready) and warnings."""
    if len(tr.sections) < 5:
        return {}, ["Aortic root not measured: the aorta could not be followed above the annulus."]
    heights = np.array([plane.height(s.centroid) for s in tr.sections])
    area_d = np.array([s.area_diameter_mm for s in tr.sections])
    root = np.nonzero((heights > 2.0) & (heights < 30.0))[0]
    if len(root) < 3:
        return {}, ["Aortic root not measured: too little aorta above the annulus."]
    # the sinus level is the first bulge: the running maximum once the diameter has dropped
    # 1 mm below it (the ascending aorta higher up can be wider than the sinuses)
    i_sinus = int(root[0])
    for i in root:
        if area_d[i] > area_d[i_sinus]:
            i_sinus = int(i)
        elif area_d[i] < area_d[i_sinus] - 1.0:
            break
    above = np.nonzero((heights > heights[i_sinus]) & (heights < heights[i_sinus] + 25.0))[0]
    fields = _variants(labels, np.asarray(labels.array) == AO)
    out: dict = {}
    sinus = tr.sections[i_sinus]
    secs = [sinus] + [resection(f, sinus) for f in fields]
    _put_section(out, "sinus_", secs, ("max", "min", "dA"))
    out["sinus_height_mm"] = round(float(heights[i_sinus]), 1)
    warnings = []
    if len(above):
        dmin = area_d[above].min()
        i_stj = int(above[np.nonzero(area_d[above] <= dmin + 0.5)[0][0]])
        stj = tr.sections[i_stj]
        secs = [stj] + [resection(f, stj) for f in fields]
        _put_section(out, "sinotubular_junction_", secs, ("mean", "dA"))
        # the height moves with the boundary only through the plateau search: report the
        # step of the track as its range
        h = float(heights[i_stj])
        out["sinotubular_junction_height_mm"] = round(h, 1)
        out["sinotubular_junction_height_mm_range"] = [round(h - 1.0, 1), round(h + 1.0, 1)]
        out["sinotubular_junction_lps"] = [round(float(v), 2) for v in stj.centroid]
    else:
        warnings.append("Sinotubular junction not found: the aorta ends above the sinuses.")
    asc = tr.at_arc(ASCENDING_ARC_MM)
    if asc is not None:
        secs = [asc] + [resection(f, asc) for f in fields]
        _put_section(out, "ascending_aorta_", secs, ("mean", "dA"))
        out["ascending_aorta_level_mm"] = ASCENDING_ARC_MM
    else:
        warnings.append(f"Ascending aorta diameter not measured: the aorta is followed for "
                        f"less than {ASCENDING_ARC_MM:.0f} mm.")
    return out, warnings


def centreline_entry(tr: Track, every_mm: float = 2.0) -> dict:
    """The aortic centreline: LPS points about ``every_mm`` apart, their
    area-derived diameters, and the length followed."""
    if not tr.sections:
        return {}
    points, diameters, last = [], [], -1e9
    for s, a in zip(tr.sections, tr.arc_mm):
        if a - last >= every_mm - 1e-6:
            points.append([round(float(v), 2) for v in s.centroid])
            diameters.append(round(s.area_diameter_mm, 1))
            last = a
    return {"points_lps": points, "diameters_mm": diameters,
            "length_mm": round(float(tr.arc_mm[-1]), 1)}


def lvot_mask(labels, plane, radius_mm: float) -> np.ndarray:
    """LV blood within ``radius_mm`` of the annulus axis and 0-15 mm below the plane."""
    arr = np.asarray(labels.array)
    lv = arr == LV
    idx = np.argwhere(lv)
    if len(idx):
        d = labels.index_to_lps(idx[:, ::-1].astype(float)) - plane.centre
        h = d @ plane.normal
        radial = np.linalg.norm(d - np.outer(h, plane.normal), axis=1)
        far = (radial > radius_mm) | (h < -15.0) | (h > 0.5)
        lv[tuple(idx[far].T)] = False
    return lv


def measure_lvot(labels, plane, annulus_max_diameter: float) -> tuple[dict, list[str]]:
    """LVOT area and diameters ``LVOT_DEPTH_MM`` below the annulus."""
    mask = lvot_mask(labels, plane, 0.5 * annulus_max_diameter + max(labels.spacing))
    point = plane.centre - LVOT_DEPTH_MM * plane.normal
    secs = []
    for variant in uncertainty.VARIANTS:
        f = MaskField(labels, uncertainty.shifted(mask, variant))
        secs.append(cross_section(f, point, plane.normal, radius_mm=30.0))
    if secs[0] is None:
        return {}, [f"LVOT not measured: no LV blood pool {LVOT_DEPTH_MM:.0f} mm below the annulus."]
    out = {"level_below_annulus_mm": LVOT_DEPTH_MM}
    _put_section(out, "", secs, ("area", "dA", "dP", "min", "max"))
    out["centre_lps"] = [round(float(v), 2) for v in secs[0].centroid]
    return out, []
