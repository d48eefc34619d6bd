"""Left atrial appendage: ostium, landing zone and depth (LAAO sizing).

Method
------
Everything runs on the LA's bounding box (a few voxels of margin).

1. The LA body is the morphological opening of the LA mask (label 3) by a
   ball of radius ``min(11 mm, 0.6 x the largest inscribed radius)``, done
   with two distance transforms. What the opening removes is the appendage,
   the pulmonary-vein stubs and small rims.
2. Removed pieces that touch one another outside the body (the appendage
   and the left upper pulmonary vein often do) are split at their necks: a
   watershed of their thickness (distance to their own boundary) from its
   maxima that stand ``SPLIT_MM`` above the saddles between them.
3. Pieces that do not join the body go with the joining piece they are
   most widely connected to (a second watershed from the joining pieces).
   The appendage is the joining piece (at least 20% of the largest such
   piece's volume) lying most towards patient left-anterior-superior from
   the body centre (the pulmonary veins leave posteriorly).
4. Axis: from the centre of the appendage voxels touching the body to the
   centre of appendage voxels 5-10 mm from it.
5. Ostium: the body and the appendage (not the other pieces: a vein
   touching the appendage must not widen its sections) are cut
   perpendicular to the axis every 0.5 mm from 7 mm inside the junction
   (in the body) to 12 mm beyond it. Coming out of the body the cut area
   falls fast (the funnel into the neck); the ostium is the first cut
   where the area shrinks by less than ``NECK_SHRINK`` over the next
   millimetre -- the mouth of the neck, before the slow taper of the
   appendage itself.
6. From the ostium the appendage is tracked (:mod:`centreline`); the
   landing zone is the section 10 mm along it; the depth is the tracked
   length plus the extent of the appendage beyond the last section.

Ranges: the ostium and landing-zone planes cut through the body and
appendage eroded and dilated by one voxel.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage
from skimage.morphology import h_maxima
from skimage.segmentation import watershed

from ..imaging.volume import Volume
from . import uncertainty
from .centreline import resection, track
from .sections import MaskField, cross_section

LA = 3
LAA_DIRECTION = np.array([0.55, -0.6, 0.55])  # left, anterior, superior (LPS)
LANDING_ZONE_MM = 10.0
#: removed pieces are split where their thickness dips this much below both cores (mm)
SPLIT_MM = 1.5
#: the neck starts where the cut area shrinks by less than this over the next mm
NECK_SHRINK = 0.04
#: cuts searched for the ostium, along the axis from the junction (mm)
CUTS_MM = (-7.0, 12.0, 0.5)
_FULL = np.ones((3, 3, 3), bool)


def _crop_volume(labels, mask: np.ndarray, margin: int = 6) -> tuple[Volume, np.ndarray]:
    """The label map cropped to ``mask``'s bounding box (+ margin), and the cropped mask."""
    idx = np.argwhere(mask)
    lo = np.maximum(idx.min(axis=0) - margin, 0)
    hi = np.minimum(idx.max(axis=0) + margin + 1, mask.shape)
    box = tuple(slice(a, b) for a, b in zip(lo, hi))
    origin = labels.index_to_lps(lo[::-1].astype(float))
    vol = Volume(np.asarray(labels.array)[box], labels.spacing, origin, labels.direction)
    return vol, mask[box]


def find_appendage(labels) -> tuple[np.ndarray, np.ndarray] | None:
    """(appendage mask, body mask), boolean arrays shaped like ``labels``, or None."""
    la = np.asarray(labels.array) == LA
    if la.sum() < 50:
        return None
    m = la
    sp = np.asarray(labels.spacing, float)[::-1]
    edt = ndimage.distance_transform_edt(m, sampling=sp)
    r = min(11.0, 0.6 * float(edt.max()))
    core = edt >= r
    body = (ndimage.distance_transform_edt(~core, sampling=sp) <= r) & m
    rest = m & ~body
    if not rest.any():
        return None
    # split touching pieces at their necks: one piece per thick core
    thick = ndimage.distance_transform_edt(rest, sampling=sp)
    cores, n = ndimage.label(h_maxima(thick, SPLIT_MM), structure=_FULL)
    comps = watershed(-thick, markers=cores, mask=rest)
    rooted = np.unique(comps[rest & ndimage.binary_dilation(body, structure=_FULL)])
    rooted = rooted[rooted > 0]
    if len(rooted) == 0:
        return None
    sizes = ndimage.sum(rest, comps, index=rooted)
    centres = ndimage.center_of_mass(rest, comps, index=rooted)
    c_body = labels.index_to_lps(np.argwhere(body).mean(axis=0)[::-1])
    want = LAA_DIRECTION / np.linalg.norm(LAA_DIRECTION)
    best, score = None, -np.inf
    for lab, size, zyx in zip(rooted, sizes, centres):
        if size < 0.2 * sizes.max():
            continue
        d = labels.index_to_lps(np.asarray(zyx)[::-1]) - c_body
        s = float(np.dot(d / max(np.linalg.norm(d), 1e-6), want))
        if s > score:
            best, score = lab, s
    # pieces that do not join the body go with the joining piece they are most widely
    # connected to (the appendage's distal lobes, a vein's far end)
    seeds = np.where(np.isin(comps, rooted), comps, 0)
    app = watershed(-thick, markers=seeds, mask=rest) == best
    return app, body


def _ostium_index(areas: np.ndarray, step: float) -> int:
    """Index of the first cut whose area shrinks by less than ``NECK_SHRINK`` over the next
    millimetre (the last cut if none does)."""
    k = max(int(round(1.0 / step)), 1)
    shrink = 1.0 - areas[k:] / areas[:-k]
    calm = np.nonzero(shrink < NECK_SHRINK)[0]
    return int(calm[0]) if len(calm) else len(areas) - 1


def measure_laa(labels) -> tuple[dict, list[str]]:
    """LAA ostium, landing zone and depth (JSON-ready) and warnings."""
    la_full = np.asarray(labels.array) == LA
    if la_full.sum() < 50:
        return {}, ["Left atrial appendage not measured: no LA (label 3)."]
    labels, la = _crop_volume(labels, la_full)
    found = find_appendage(labels)
    if found is None:
        return {}, ["Left atrial appendage not measured: no appendage standing out of the "
                    "LA body (label 3)."]
    app, body = found
    junction = app & ndimage.binary_dilation(body, structure=_FULL)
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
    # cut the body and the appendage only: a pulmonary vein touching the appendage
    # must not widen its sections
    la = body | app
    field = MaskField(labels, la)
    cuts, deltas = [], []
    k = max(int(round(1.0 / CUTS_MM[2])), 1)  # cuts per millimetre
    for delta in np.arange(CUTS_MM[0], CUTS_MM[1] + 1e-6, CUTS_MM[2]):
        sec = cross_section(field, j0 + delta * axis, axis, radius_mm=30.0, step_mm=0.4)
        if sec is None:
            if cuts:
                break  # the plane left the appendage
            continue
        cuts.append(sec)
        deltas.append(delta)
        if len(cuts) > k and _ostium_index(np.array([c.area_mm2 for c in cuts]),
                                           CUTS_MM[2]) < len(cuts) - 1:
            break  # found: the neck has started
    if not cuts:
        return {}, ["Left atrial appendage not measured: no closed section at its neck."]
    i = _ostium_index(np.array([c.area_mm2 for c in cuts]), CUTS_MM[2])
    # the chosen cut again on a finer grid
    ostium = cross_section(field, j0 + deltas[i] * axis, axis, radius_mm=30.0,
                           step_mm=0.25) or cuts[i]
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
