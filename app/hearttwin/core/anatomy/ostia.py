"""Coronary ostia: found in the CT image, or given as landmarks.

The coronary arteries are contrast-filled in the CT but belong to no heart
label, so they show as narrow bright tubes leaving the aortic root.

Method (:func:`detect_ostia`), in a box around the root resampled to ~0.8 mm
---------------------------------------------------------------------------
1. Root lumen: the aorta (label 6) and the LV blood just under the annulus
   (an automatic segmentation may label the lowest root LV), the component
   on the root axis.
2. Threshold halfway between the blood (median HU of the eroded root lumen
   2-25 mm above the annulus) and the tissue just outside it (median HU of
   the non-blood-labelled voxels 2-6 mm outside the lumen).
3. Vessel candidates: bright voxels outside every blood pool's body, widened
   by ``LABEL_MARGIN_MM`` (at least a voxel). Bodies are the heart blood
   labels (1, 2, 3, 4, 6, 7) *opened* with a ball of radius
   ``POOL_RADIUS_MM`` -- so a label that leaks a few millimetres into a
   coronary (as automatic segmentations do: the aorta into the left main,
   the RV into the right coronary) does not hide it -- together with every
   bright region holding such a ball (pools the labels missed).
4. A candidate (connected component) is a coronary if it touches the root
   lumen (within the margin plus a voxel), has an inscribed radius of
   ``RADIUS_RANGE_MM`` (2-7 mm calibre) and runs at least ``MIN_EXTENT_MM``
   from where it leaves -- or, above ``STUB_MIN_HEIGHT_MM``, at least
   ``MIN_STUB_MM`` before it runs into another blood pool (a left main
   passing into the PA's voxels, say).
5. Ostium: coronaries leave the sinus radially, so of the candidate's voxels
   nearest the lumen the exit is where the vessel runs furthest straight
   outward (:func:`_radial_exit`); its height is the signed distance above
   the annulus plane.
6. Left/right: the right coronary leaves towards the right heart (RV/RA,
   the right AV groove), the left towards the LV/LA: each candidate's
   direction around the root axis is compared with the directions of the
   RV+RA and LV+LA centroids (fixed patient directions when those labels are
   missing). Per side a long vessel beats a stub, then the largest calibre
   times length wins.

Limitations: at ~1.7 mm voxels (the small phantom) a right coronary that
runs into the RV's voxels within a few millimetres may be missed, and a
vessel that hugs the root wall below its ostium can pull the exit point
down by several millimetres. The height is measured from the annulus plane,
so an error in that plane (automatic segmentations) adds to it. When an
automatic segmentation labels a coronary's first centimetre as a chamber
lying against it (the sample case's left main as PA), the opening may not
separate them: a side left without an ostium is searched again with the
image's wide bright regions (and the root lumen) as the only bodies.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from .sections import plane_basis

LV, RV, LA, RA, AO, PA = 1, 2, 3, 4, 6, 7
BLOOD_LABELS = (1, 2, 3, 4, 6, 7)
#: patient directions (LPS) of the left and right coronary sinuses, when the
#: chamber labels cannot tell
LEFT_DIR = np.array([1.0, 0.35, 0.0])
RIGHT_DIR = np.array([-0.35, -1.0, 0.0])
#: heights above the annulus plane searched for ostia (mm)
HEIGHT_RANGE_MM = (2.0, 25.0)
#: bright regions holding a ball this wide are blood pools, not coronaries (mm)
POOL_RADIUS_MM = 3.5
#: blood-pool bodies are widened by this much (at least a voxel) before excluding them (mm)
LABEL_MARGIN_MM = 1.0
#: inscribed radius of a coronary (mm): 2-7 mm calibre
RADIUS_RANGE_MM = (0.9, 3.5)
#: a coronary runs at least this far from the root (mm)
MIN_EXTENT_MM = 8.0
#: ... or at least this far before it runs into another blood pool (mm)
MIN_STUB_MM = 2.5
#: near the annulus the sinuses abut the chambers: no stubs below this (mm)
STUB_MIN_HEIGHT_MM = 6.0
BOX_RADIUS_MM = 45.0
#: voxels this much further from the lumen than the closest one may be the exit (mm)
CONTACT_MM = 1.0
#: voxel size (mm) the box is resampled to
FINE_MM = 0.8


def _box(labels, plane):
    """Index slices (z, y, x) of a box around the root (annulus -8 to +40 mm)."""
    _, u, v = plane_basis(plane.normal)
    corners = np.array([plane.centre + a * u + b * v + h * plane.normal
                        for a in (-BOX_RADIUS_MM, BOX_RADIUS_MM)
                        for b in (-BOX_RADIUS_MM, BOX_RADIUS_MM) for h in (-8.0, 40.0)])
    ijk = labels.lps_to_index(corners)
    shape = np.asarray(labels.array.shape)[::-1]
    lo = np.clip(np.floor(ijk.min(axis=0)).astype(int), 0, shape)
    hi = np.clip(np.ceil(ijk.max(axis=0)).astype(int) + 1, 0, shape)
    return tuple(slice(lo[k], hi[k]) for k in (2, 1, 0)), lo


def _ball_open(mask, radius_mm, sampling):
    """Morphological opening with a ball (Euclidean distance maps, mm)."""
    if not mask.any():
        return mask
    core = ndimage.distance_transform_edt(mask, sampling=sampling) > radius_mm
    if not core.any():
        return core
    return ndimage.distance_transform_edt(~core, sampling=sampling) <= radius_mm


def candidates(image, labels, plane, label_bodies: bool = True) -> tuple[list[dict], str | None]:
    """Coronary-like vessels leaving the root lumen (see module docstring). Without
    ``label_bodies`` only the root lumen and the image's wide bright regions are bodies."""
    box, lo = _box(labels, plane)
    # resample the box to about FINE_MM voxels: a coronary is only 2-3 voxels
    # across at the usual 1.5 mm, too coarse to place its ostium to a millimetre
    spacing = np.asarray(labels.spacing, float)  # (x, y, z)
    step = np.minimum(1.0, FINE_MM / spacing)
    axes = [np.arange(box[2 - a].start, box[2 - a].stop - 1 + 1e-6, step[a]) for a in range(3)]
    grid = np.meshgrid(axes[2], axes[1], axes[0], indexing="ij")  # (z, y, x) index coords
    zyx = np.stack([g.ravel() for g in grid])
    shape = grid[0].shape
    arr = ndimage.map_coordinates(np.asarray(labels.array), zyx, order=0).reshape(shape)
    img = ndimage.map_coordinates(np.asarray(image.array, np.float32), zyx,
                                  order=1).reshape(shape)
    sampling = (spacing * step)[::-1]  # (z, y, x) mm
    idx = zyx[::-1].T  # (i, j, k)
    lps = labels.index_to_lps(idx.astype(float))
    d = lps - plane.centre
    h = (d @ plane.normal).reshape(arr.shape)
    rho = np.linalg.norm(d - np.outer(d @ plane.normal, plane.normal), axis=1).reshape(arr.shape)
    lps = lps.reshape(arr.shape + (3,))
    margin = max(LABEL_MARGIN_MM, float(sampling.min())) + 1e-3
    blood_lab = np.isin(arr, BLOOD_LABELS)
    # blood-pool bodies by label: an automatic segmentation may run a label a few
    # millimetres into a coronary (the aorta into the left main, the RV into the
    # right coronary); the opening drops such thin leaks
    bodies = _ball_open(blood_lab, POOL_RADIUS_MM, sampling)
    lumen = ((arr == AO) | ((arr == LV) & (h > -15.0) & (h < 4.0))) & (rho < 30.0) \
        & (h > -8.0) & (h < 40.0)
    lumen &= bodies
    comps, n = ndimage.label(lumen)
    if n == 0:
        return [], "Coronary ostia not found: no aorta (label 6) near the annulus."
    # the root: the lumen component crossing the axis 5-15 mm above the annulus
    near = (rho < 6.0) & (h > 5.0) & (h < 15.0) & lumen
    keep = np.bincount(comps[near], minlength=n + 1) if near.any() else np.bincount(comps.ravel())
    keep[0] = 0
    lumen = comps == int(np.argmax(keep))
    in_range = (h > HEIGHT_RANGE_MM[0]) & (h < HEIGHT_RANGE_MM[1])
    core = ndimage.binary_erosion(lumen, iterations=1) & in_range
    if not core.any():
        return [], "Coronary ostia not found: no aortic root lumen above the annulus."
    blood = float(np.median(img[core]))
    dist = ndimage.distance_transform_edt(~lumen, sampling=sampling)  # mm outside the lumen
    shell = (dist > 2.0) & (dist <= 6.0) & ~blood_lab & in_range
    tissue = float(np.median(img[shell])) if shell.any() else 0.0
    if blood - tissue < 100.0:
        return [], (f"Coronary ostia not found: the aorta ({blood:.0f} HU) is not contrast-"
                    f"enhanced against the tissue around it ({tissue:.0f} HU).")
    thr = 0.5 * (blood + tissue)
    bright = ndimage.gaussian_filter(img, 0.5) > thr
    # ... and by image: whatever bright region is wider than a coronary
    bodies = (bodies if label_bodies else lumen) | _ball_open(bright, POOL_RADIUS_MM, sampling)
    near_body = ndimage.distance_transform_edt(~bodies, sampling=sampling) <= margin
    touch = margin + float(sampling.max()) + 0.5
    # distance to the other blood pools (not the root): a coronary may run into one
    to_other = ndimage.distance_transform_edt(~(bodies & (dist > 3.0)), sampling=sampling)
    cand = bright & ~near_body & (dist <= 35.0) & (h > -5.0) & (h < 40.0)
    comps, n = ndimage.label(cand, structure=np.ones((3, 3, 3)))
    inscribed = ndimage.distance_transform_edt(cand, sampling=sampling)
    found = []
    if n == 0:
        return found, None
    objs = ndimage.find_objects(comps)
    for lab, sl in enumerate(objs, start=1):
        m = comps[sl] == lab
        dd = dist[sl][m]
        dmin = float(dd.min())
        if dmin > touch or m.sum() < 4:
            continue
        pts = lps[sl][m]
        contact = np.nonzero(dd <= dmin + CONTACT_MM)[0]
        point, run = _radial_exit(pts, dd, contact, plane)
        height = float(plane.height(point))
        if not HEIGHT_RANGE_MM[0] <= height <= HEIGHT_RANGE_MM[1]:
            continue
        extent = float(np.linalg.norm(pts - point, axis=1).max())
        radius = float(inscribed[sl][m].max())
        far = np.linalg.norm(pts - point, axis=1) >= 0.6 * extent
        into_other = (extent >= MIN_STUB_MM and height >= STUB_MIN_HEIGHT_MM
                      and float(to_other[sl][m][far].min()) <= touch)
        ok = (extent >= MIN_EXTENT_MM or into_other) \
            and RADIUS_RANGE_MM[0] <= radius <= RADIUS_RANGE_MM[1]
        r = point - plane.centre
        r = r - np.dot(r, plane.normal) * plane.normal
        found.append({"point": point, "height": height, "dir": r / max(np.linalg.norm(r), 1e-6),
                      "extent": extent, "radius": radius, "run": run, "ok": ok})
    return found, None


def _radial_exit(pts, dd, contact, plane, window_mm: float = 2.5, reach_mm: float = 8.0):
    """Where a vessel leaves the root: coronaries leave the sinus radially, so of the
    voxels closest to the lumen (``contact``) the ones beyond which the vessel runs
    furthest straight outward (within ``window_mm`` in height and arc). Returns the
    centroid of those voxels and how far (mm) the vessel runs out from them."""
    # only voxels within reach of a contact voxel matter (the distance map is 1-Lipschitz)
    sub = dd <= dd[contact].max() + reach_mm
    keep = np.cumsum(sub) - 1
    pts, dd, contact = pts[sub], dd[sub], keep[contact]
    d = pts - plane.centre
    hp = d @ plane.normal
    rad = d - np.outer(hp, plane.normal)
    rp = np.linalg.norm(rad, axis=1)
    _, u, v = plane_basis(plane.normal)
    ang = np.arctan2(rad @ v, rad @ u)
    runs = np.empty(len(contact))
    for k, c in enumerate(contact):
        arc = np.abs((ang - ang[c] + np.pi) % (2 * np.pi) - np.pi) * rp[c]
        w = (np.abs(hp - hp[c]) <= window_mm) & (arc <= window_mm) \
            & (np.linalg.norm(pts - pts[c], axis=1) <= reach_mm)
        runs[k] = dd[w].max() - dd[c]
    top = contact[int(np.argmax(runs))]
    best = contact[(runs >= runs.max() - 1.0)
                   & (np.linalg.norm(pts[contact] - pts[top], axis=1) <= window_mm)]
    return pts[best].mean(axis=0), float(runs.max())


def side_directions(labels, plane) -> dict:
    """Unit directions (in the annulus plane) from the root axis towards where the left and
    right coronaries run: the LV/LA and the RV/RA centroids."""
    arr = np.asarray(labels.array)
    n = plane.normal

    def towards(labs):
        idx = np.argwhere(np.isin(arr[::2, ::2, ::2], labs))
        if len(idx) < 10:
            return None
        c = labels.index_to_lps((2 * idx[:, ::-1]).astype(float)).mean(axis=0) - plane.centre
        c = c - np.dot(c, n) * n
        nc = np.linalg.norm(c)
        return c / nc if nc > 1e-6 else None

    left, right = towards((LV, LA)), towards((RV, RA))
    if left is None or right is None or np.dot(left, right) > 0.9:
        left, right = LEFT_DIR, RIGHT_DIR
    out = {}
    for side, w in (("left", left), ("right", right)):
        w = np.asarray(w, float) - np.dot(w, n) * n
        out[side] = w / np.linalg.norm(w)
    return out


def detect_ostia(image, labels, plane) -> tuple[dict, list[str]]:
    """``{"left": {...}, "right": {...}}`` found in ``image``, and warnings."""
    found, problem = candidates(image, labels, plane)
    if problem:
        return {}, [problem]
    dirs = side_directions(labels, plane)
    out, warnings = _assign([f for f in found if f["ok"]], dirs, plane)
    if len(out) < 2:
        # a chamber label may cover the vessel's first centimetre: look again with the
        # image's blood pools only, for the missing side
        found, _ = candidates(image, labels, plane, label_bodies=False)
        more, _ = _assign([f for f in found if f["ok"]], dirs, plane)
        for side in set(more) - set(out):
            out[side] = more[side]
            warnings = [w for w in warnings if f"The {side} coronary" not in w]
    return {k: out[k] for k in ("left", "right") if k in out}, warnings


def _assign(found: list[dict], dirs: dict, plane) -> tuple[dict, list[str]]:
    out, warnings = {}, []
    axis = dirs["right"] - dirs["left"]
    axis /= max(np.linalg.norm(axis), 1e-6)
    for side, sign in (("left", -1.0), ("right", 1.0)):
        mine = [f for f in found if sign * float(np.dot(f["dir"], axis)) > 0.0]
        if not mine:
            warnings.append(f"The {side} coronary ostium was not found: no contrast-filled "
                            f"vessel leaves the {side} side of the aortic root through "
                            f"unlabelled tissue (it may run into a neighbouring chamber's "
                            f"label); give it as a landmark to measure its height.")
            continue
        best = max(mine, key=lambda f: (f["extent"] >= MIN_EXTENT_MM,
                                        f["radius"] * min(f["extent"], 30.0)))
        out[side] = ostium_entry(best["point"], plane, "detected")
    return out, warnings


def ostium_entry(point, plane, source: str) -> dict:
    """JSON entry of one ostium: point, height above the annulus, source."""
    p = np.asarray(point, float)
    return {"point_lps": [round(float(v), 2) for v in p],
            "height_mm": round(float(plane.height(p)), 2), "source": source}


def landmark_ostia(landmarks: dict | None) -> dict:
    """Ostia given by the user: ``{"coronary_ostia": {"left": [x, y, z] | {"point_lps": ...}}}``
    (or top-level ``left_coronary_ostium`` / ``right_coronary_ostium``)."""
    if not landmarks:
        return {}
    given = dict(landmarks.get("coronary_ostia") or {})
    for side in ("left", "right"):
        if f"{side}_coronary_ostium" in landmarks:
            given[side] = landmarks[f"{side}_coronary_ostium"]
    out = {}
    for side in ("left", "right"):
        v = given.get(side)
        if isinstance(v, dict):
            v = v.get("point_lps")
        if v is not None:
            out[side] = np.asarray(v, float).reshape(3)
    return out


def measure_ostia(image, labels, plane, landmarks: dict | None = None) -> tuple[dict, list[str]]:
    """Left and right ostia (landmarks win over detection) and warnings."""
    given = landmark_ostia(landmarks)
    out, warnings = {}, []
    missing = [s for s in ("left", "right") if s not in given]
    if missing and image is not None:
        if tuple(image.array.shape) != tuple(labels.array.shape):
            warnings.append("Coronary ostia not detected: the CT image and the label map have "
                            "different grids.")
        else:
            det, warn = detect_ostia(image, labels, plane)
            out.update({k: v for k, v in det.items() if k in missing})
            warnings += [w for w in warn if any(s in w for s in missing) or "ostia" in w]
    elif missing:
        warnings.append(f"Coronary ostia ({', '.join(missing)}) not measured: no CT image to "
                        "find them in and no landmarks given.")
    for side, p in given.items():
        out[side] = ostium_entry(p, plane, "landmark")
    return {k: out[k] for k in ("left", "right") if k in out}, warnings
