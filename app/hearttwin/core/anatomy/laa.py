"""Left atrial appendage: ostium, landing zone and depth (LAAO sizing).

Method
------
1. The LA body is the morphological opening of the LA mask (label 3) by a
   ball of radius ``min(11 mm, 0.6 x the largest inscribed radius)``, done
   with two distance transforms. What the opening removes is the appendage,
   the pulmonary-vein stubs and small rims.
2. The appendage is the removed piece (at least 20% of the largest one's
   volume) lying most towards patient left-anterior-superior from the body
   centre (the pulmonary veins leave posteriorly).
3. Axis: from the centre of the appendage voxels touching the body to the
   centre of appendage voxels 5-10 mm from it.
4. Ostium: the LA is cut perpendicular to the axis every 0.5 mm from the
   junction to 8 mm beyond; the ostium is the first cut whose area is within
   10% of the narrowest (where the neck stops narrowing).
5. From the ostium the appendage is tracked (:mod:`centreline`); the
   landing zone is the section 10 mm along it; the depth is the tracked
   length plus the extent of the appendage beyond the last section.

Ranges: the ostium and landing-zone planes cut through the LA eroded and
dilated by one voxel.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from . import uncertainty
from .centreline import resection, track
from .sections import MaskField, cross_section

LA = 3
LAA_DIRECTION = np.array([0.55, -0.6, 0.55])  # left, anterior, superior (LPS)
LANDING_ZONE_MM = 10.0


def _crop(mask: np.ndarray, margin: int = 3):
    idx = np.argwhere(mask)
    lo = np.maximum(idx.min(axis=0) - margin, 0)
    hi = np.minimum(idx.max(axis=0) + margin + 1, mask.shape)
    return tuple(slice(a, b) for a, b in zip(lo, hi)), lo


def find_appendage(labels) -> tuple[np.ndarray, np.ndarray] | None:
    """(appendage mask, body mask), full-size boolean arrays, or None."""
    la = np.asarray(labels.array) == LA
    if la.sum() < 50:
        return None
    box, _ = _crop(la)
    m = la[box]
    sp = np.asarray(labels.spacing, float)[::-1]
    edt = ndimage.distance_transform_edt(m, sampling=sp)
    r = min(11.0, 0.6 * float(edt.max()))
    core = edt >= r
    body = (ndimage.distance_transform_edt(~core, sampling=sp) <= r) & m
    rest = m & ~body
    comps, n = ndimage.label(rest, structure=np.ones((3, 3, 3), bool))
    if n == 0:
        return None
    sizes = ndimage.sum(rest, comps, index=np.arange(1, n + 1))
    zyx_body = np.argwhere(body).mean(axis=0)
    c_body = labels.index_to_lps(zyx_body[::-1] + np.array([s.start for s in box])[::-1])
    want = LAA_DIRECTION / np.linalg.norm(LAA_DIRECTION)
    best, score = None, -np.inf
    for i in range(1, n + 1):
        if sizes[i - 1] < 0.2 * sizes.max():
            continue
        zyx = np.argwhere(comps == i).mean(axis=0) + [s.start for s in box]
        d = labels.index_to_lps(zyx[::-1]) - c_body
        s = float(np.dot(d / np.linalg.norm(d), want))
        if s > score:
            best, score = i, s
    app = np.zeros_like(la)
    app[box] = comps == best
    full_body = np.zeros_like(la)
    full_body[box] = body
    return app, full_body


def measure_laa(labels) -> tuple[dict, list[str]]:
    """LAA ostium, landing zone and depth (JSON-ready) and warnings."""
    found = find_appendage(labels)
    if found is None:
        return {}, ["Left atrial appendage not measured: no LA (label 3) or no appendage "
                    "standing out of the LA body."]
    app, body = found
    junction = app & ndimage.binary_dilation(body)
    if not junction.any():
        return {}, ["Left atrial appendage not measured: the appendage does not join the LA body."]
    j0 = labels.index_to_lps(np.argwhere(junction).mean(axis=0)[::-1])
    pts = labels.index_to_lps(np.argwhere(app)[:, ::-1].astype(float))
    dist = np.linalg.norm(pts - j0, axis=1)
    ring = pts[(dist > 5.0) & (dist < 10.0)]
    if len(ring) < 5:
        return {}, ["Left atrial appendage not measured: the appendage is too small."]
    axis = ring.mean(axis=0) - j0
    axis /= np.linalg.norm(axis)
    la = np.asarray(labels.array) == LA
    field = MaskField(labels, la)
    cuts = []
    for delta in np.arange(0.0, 8.01, 0.5):
        sec = cross_section(field, j0 + delta * axis, axis, radius_mm=30.0, step_mm=0.25)
        if sec is not None:
            cuts.append(sec)
    if not cuts:
        return {}, ["Left atrial appendage not measured: no closed section at its neck."]
    areas = np.array([c.area_mm2 for c in cuts])
    ostium = cuts[int(np.nonzero(areas <= 1.1 * areas.min())[0][0])]
    fields = [MaskField(labels, uncertainty.shifted(la, v)) for v in uncertainty.VARIANTS[1:]]
    out: dict = {}
    secs = [ostium] + [resection(f, ostium, radius_mm=30.0) for f in fields]
    for key, fn in (("ostium_max_diameter_mm", lambda s: s.max_diameter_mm),
                    ("ostium_min_diameter_mm", lambda s: s.min_diameter_mm),
                    ("ostium_area_mm2", lambda s: s.area_mm2),
                    ("ostium_perimeter_mm", lambda s: s.perimeter_mm)):
        uncertainty.put(out, key, [None if s is None else fn(s) for s in secs])
    out["ostium_centre_lps"] = [round(float(v), 2) for v in ostium.centroid]
    out["ostium_normal_lps"] = [round(float(v), 4) for v in ostium.normal]
    warnings = []
    tr = track(MaskField(labels, app | _slab(labels, la, ostium)), ostium.centroid,
               ostium.normal, step_mm=1.0, max_length_mm=120.0, radius_mm=25.0, grid_mm=0.3,
               max_area_jump=1.5)
    lz = tr.at_arc(LANDING_ZONE_MM)
    if lz is not None:
        secs = [lz] + [resection(f, lz, radius_mm=25.0) for f in fields]
        uncertainty.put(out, "landing_zone_max_diameter_mm", [None if s is None else s.max_diameter_mm for s in secs])
        uncertainty.put(out, "landing_zone_min_diameter_mm", [None if s is None else s.min_diameter_mm for s in secs])
        out["landing_zone_depth_mm"] = LANDING_ZONE_MM
    else:
        warnings.append("LAA landing zone not measured: the appendage is shorter than "
                        f"{LANDING_ZONE_MM:.0f} mm.")
    if tr.sections:
        last, t = tr.sections[-1], tr.sections[-1].normal
        beyond = max(float(((pts - last.centroid) @ t).max()), 0.0)
        depth = float(tr.arc_mm[-1]) + beyond
    else:
        depth = max(float(((pts - ostium.centroid) @ ostium.normal).max()), 0.0)
    vox = float(max(labels.spacing))
    out["depth_mm"] = round(depth, 1)
    out["depth_mm_range"] = [round(depth - vox, 1), round(depth + vox, 1)]
    out["volume_ml"] = round(float(app.sum()) * labels.voxel_volume_mm3 / 1000.0, 2)
    return out, warnings


def _slab(labels, la: np.ndarray, sec) -> np.ndarray:
    """LA voxels within 2 mm beyond the ostium plane (joins the track's start)."""
    idx = np.argwhere(la)
    h = (labels.index_to_lps(idx[:, ::-1].astype(float)) - sec.centroid) @ sec.normal
    r = np.linalg.norm(labels.index_to_lps(idx[:, ::-1].astype(float)) - sec.centroid, axis=1)
    keep = idx[(h > -1.0) & (h < 3.0) & (r < 0.6 * sec.max_diameter_mm + 2.0)]
    out = np.zeros_like(la)
    out[tuple(keep.T)] = True
    return out
