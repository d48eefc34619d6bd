"""Aortic root, ascending aorta, aortic centreline and LVOT.

* Centreline: the lumen (aorta, label 6, and the LV blood within the
  annulus radius up to 4 mm above the annulus plane, where an automatic
  segmentation may leave the lowest root labelled LV) is followed upward
  from the annulus centre: every 1 mm (3 mm beyond 60 mm) it is cut
  perpendicular to the current axis, the contour enclosing the predicted
  point (the part connected to the previous centre) gives the new centre,
  and the axis follows a line fit through the centres of the last 8 mm.
  It stops when the lumen ends or leaves the image, or the area jumps
  (over 1.6 times the median of the last five sections: a leak).
* Only the ascending part of the track (before it first rises 35 mm above
  the annulus) is searched for the sinus and the STJ; the sections
  reported are cut again perpendicular to the centred local axis.
* Sinus of Valsalva: the widest section of the first bulge 2-25 mm above
  the annulus (the running maximum of the area-derived diameter until it
  falls 0.5 mm below it, once it is 1 mm over the lowest section's);
  maximum and minimum diameter through the centroid and area-derived
  diameter.
* Sinotubular junction (STJ): the first section above the sinus level
  (up to 35 mm) within 0.15 mm of the narrowest one there, or, on a long
  slowly narrowing plateau, past half-way down from the sinus and flat
  (narrowing under 0.1 mm per mm). Its height is above the annulus plane.
* Ascending aorta: the section where the track is 40 mm above the annulus
  plane (``ascending_aorta_level_mm``; its centre ``ascending_aorta_lps``).
* LVOT: the LV blood pool (label 1, clipped to a cylinder around the
  annulus axis so the LV cavity cannot leak in) cut 4 mm below the annulus.

Ranges: the same planes cut through the structure eroded/dilated by one
voxel.
"""

from __future__ import annotations

import numpy as np

from . import uncertainty
from .centreline import Track, resection
from .sections import MaskField, Section, cross_section

LV, AO = 1, 6
ASCENDING_HEIGHT_MM = 40.0
SINUS_RANGE_MM = (2.0, 25.0)
STJ_MAX_MM = 35.0
SINUS_DROP_MM = 0.5
SINUS_MIN_BULGE_MM = 1.0
STJ_PLATEAU_MM = 0.15
STJ_FLAT_SLOPE = 0.1
LVOT_DEPTH_MM = 4.0
ROOT_STEP_MM = 1.0
FINE_UNTIL_MM = 60.0
AXIS_SPAN_MM = 8.0
MAX_AREA_JUMP = 1.6
LV_ABOVE_MM = 8.0


def root_lumen(labels, plane, radius_mm: float) -> np.ndarray:
    """The aorta (label 6) and the LV blood (label 1) within ``radius_mm`` of the annulus
    axis from 15 mm below to ``LV_ABOVE_MM`` above the annulus plane: an automatic
    segmentation may leave the lowest root labelled LV, but the LV cavity beside the
    root must not join it."""
    arr = np.asarray(labels.array)
    return (arr == AO) | lvot_mask(labels, plane, radius_mm, above_mm=LV_ABOVE_MM)


def aortic_track(labels, plane, progress_cb=None, *, radius_mm: float = 15.0,
                 max_length_mm: float = 300.0) -> Track:
    """Follow the LV + aorta lumen upward from the annulus centre.

    Every ``ROOT_STEP_MM`` (1 mm through the root, 3 mm beyond
    ``FINE_UNTIL_MM``) the lumen is cut perpendicular to the current axis; the
    contour enclosing the predicted point (the connected part of the lumen
    that contains the previous centre) gives the new centre. The axis is the
    direction through the centres of the last ``AXIS_SPAN_MM`` (a straight
    line fit, so the three-lobed sinuses do not make it wobble), starting
    from the annulus normal. Tracking stops when the section is gone (the
    lumen ends or leaves the image) or its area jumps (a leak).
    """
    field = MaskField(labels, root_lumen(labels, plane, radius_mm))
    n0 = np.asarray(plane.normal, float)
    p = np.asarray(plane.centre, float)
    t = n0.copy()
    centres = [p.copy()]
    sections: list[Section] = []
    arcs: list[float] = []
    arc = 0.0
    while arc < max_length_mm:
        h = ROOT_STEP_MM if arc < FINE_UNTIL_MM else 3.0
        q = p + h * t
        sec = cross_section(field, q, t, radius_mm=35.0, step_mm=0.4)
        if sec is None:
            break
        recent = [s.area_mm2 for s in sections[-5:]] or [np.pi * radius_mm ** 2]
        if sec.area_mm2 > MAX_AREA_JUMP * float(np.median(recent)):
            break
        c = sec.centroid
        moved = c - p
        if np.dot(moved, t) <= 0.2 * h:
            break
        arc += float(np.linalg.norm(moved))
        p = c
        centres.append(c)
        sections.append(sec)
        arcs.append(arc)
        # axis: principal direction of the centres within the last AXIS_SPAN_MM
        pts = np.array(centres)
        d_back = np.linalg.norm(pts - c, axis=1)
        pts = pts[d_back <= AXIS_SPAN_MM]
        if len(pts) >= 3:
            m = pts.mean(axis=0)
            _, _, vt = np.linalg.svd(pts - m)
            ax = vt[0] if np.dot(vt[0], t) > 0 else -vt[0]
            t = 0.5 * (t + ax)
            t /= np.linalg.norm(t)
        if progress_cb is not None:
            progress_cb(arc)
    return Track(sections=sections, arc_mm=np.asarray(arcs))


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


def measure_root(labels, plane, tr: Track, radius_mm: float = 15.0) -> tuple[dict, list[str]]:
    """Sinus, STJ and ascending-aorta measurements (JSON-ready) and warnings."""
    if len(tr.sections) < 5:
        return {}, ["Aortic root not measured: the aorta could not be followed above the annulus."]
    heights = np.array([plane.height(s.centroid) for s in tr.sections])
    area_d = np.array([s.area_diameter_mm for s in tr.sections])
    # only the ascending part of the track counts (the arch and descending aorta come
    # back down to these heights)
    top = np.nonzero(heights > STJ_MAX_MM)[0]
    n_up = int(top[0]) if len(top) else len(heights)
    heights_up = np.where(np.arange(len(heights)) < n_up, heights, np.inf)
    root = np.nonzero((heights_up > SINUS_RANGE_MM[0]) & (heights_up <= SINUS_RANGE_MM[1]))[0]
    if len(root) < 3:
        return {}, ["Aortic root not measured: too little aorta above the annulus."]
    # the sinus level: the widest section of the first bulge 2-25 mm above the annulus
    # (the running maximum until the diameter has fallen SINUS_DROP_MM below it: the
    # ascending aorta higher up may be wider than the sinuses)
    # (a bulge: at least SINUS_MIN_BULGE_MM wider than the lowest root section, so that a
    # wobble of the LVOT below a plane placed low does not count as the sinuses)
    i_sinus = int(root[0])
    for i in root:
        if area_d[i] > area_d[i_sinus]:
            i_sinus = int(i)
        elif (area_d[i] < area_d[i_sinus] - SINUS_DROP_MM
              and area_d[i_sinus] >= area_d[root[0]] + SINUS_MIN_BULGE_MM):
            break
    # the STJ: the narrowest section between the sinus level and STJ_MAX_MM, its height
    # refined by a parabola through the diameters around it
    above = np.nonzero((heights_up > heights[i_sinus]) & (heights_up <= STJ_MAX_MM))[0]
    fields = _variants(labels, root_lumen(labels, plane, radius_mm))
    out: dict = {}
    field = MaskField(labels, root_lumen(labels, plane, radius_mm))
    sinus = _recut(field, tr, i_sinus)
    secs = [sinus] + [resection(f, sinus) for f in fields]
    _put_section(out, "sinus_", secs, ("max", "min", "dA"))
    out["sinus_height_mm"] = round(float(heights[i_sinus]), 1)
    warnings = []
    if len(above):
        dmin = float(area_d[above].min())
        # where the root stops narrowing: within STJ_PLATEAU_MM of the narrowest, or (a long
        # plateau that narrows slowly) past half-way down from the sinus and flat
        slope = np.gradient(area_d, heights) if len(heights) > 1 else np.zeros(1)
        low = area_d[above] < 0.5 * (area_d[i_sinus] + dmin)
        flat = slope[above] > -STJ_FLAT_SLOPE
        ok = (area_d[above] <= dmin + STJ_PLATEAU_MM) | (low & flat)
        i_stj = int(above[np.nonzero(ok)[0][0]])
        stj = _recut(field, tr, i_stj)
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
    i_asc = _at_height(heights, ASCENDING_HEIGHT_MM)
    asc = None if i_asc is None else _recut(field, tr, i_asc)
    if asc is not None:
        secs = [asc] + [resection(f, asc) for f in fields]
        _put_section(out, "ascending_aorta_", secs, ("mean", "dA"))
        out["ascending_aorta_level_mm"] = ASCENDING_HEIGHT_MM
        out["ascending_aorta_lps"] = [round(float(v), 2) for v in asc.centroid]
    else:
        warnings.append(f"Ascending aorta diameter not measured: the aorta is followed for "
                        f"less than {ASCENDING_HEIGHT_MM:.0f} mm above the annulus.")
    return out, warnings


def _parabola_min(x: np.ndarray, y: np.ndarray, i: int) -> float:
    """Sub-step position of the minimum of ``y(x)`` at sample ``i`` (a parabola through
    the samples up to 2 on each side; ``x[i]`` at the ends or if it is not convex)."""
    lo, hi = max(i - 2, 0), min(i + 3, len(x))
    if hi - lo < 3:
        return float(x[i])
    a, b, _ = np.polyfit(x[lo:hi] - x[i], y[lo:hi], 2)
    if a <= 0:
        return float(x[i])
    return float(x[i] + np.clip(-b / (2 * a), x[lo] - x[i], x[hi - 1] - x[i]))


def _recut(field: MaskField, tr: Track, i: int, half_span_mm: float = 5.0) -> Section:
    """Section ``i`` of the track cut again perpendicular to the centred local axis (a
    line through the centres within ``half_span_mm`` of it along the track): the axis
    used while tracking lags behind in bends, and an oblique cut is too wide."""
    near = np.abs(tr.arc_mm - tr.arc_mm[i]) <= half_span_mm
    pts = tr.points[near]
    sec = tr.sections[i]
    if len(pts) < 3:
        return sec
    _, _, vt = np.linalg.svd(pts - pts.mean(axis=0))
    axis = vt[0] if np.dot(vt[0], sec.normal) > 0 else -vt[0]
    new = cross_section(field, sec.centroid, axis, radius_mm=35.0, step_mm=0.2)
    return sec if new is None else new


def _at_height(heights: np.ndarray, h_mm: float) -> int | None:
    """Index of the first section of the track at ``h_mm`` above the annulus plane (None
    if the track does not get that high)."""
    hit = np.nonzero(heights >= h_mm)[0]
    if not len(hit):
        return None
    i = int(hit[0])
    if i > 0 and abs(heights[i - 1] - h_mm) < abs(heights[i] - h_mm):
        i -= 1
    return i


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


def lvot_mask(labels, plane, radius_mm: float, above_mm: float = 0.5) -> np.ndarray:
    """LV blood within ``radius_mm`` of the annulus axis, from 15 mm below the plane to
    ``above_mm`` above it."""
    arr = np.asarray(labels.array)
    lv = arr == LV
    idx = np.argwhere(lv)
    if len(idx):
        d = labels.index_to_lps(idx[:, ::-1].astype(float)) - plane.centre
        h = d @ plane.normal
        radial = np.linalg.norm(d - np.outer(h, plane.normal), axis=1)
        far = (radial > radius_mm) | (h < -15.0) | (h > above_mm)
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
