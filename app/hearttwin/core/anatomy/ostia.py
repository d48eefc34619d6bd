"""Coronary ostia: found in the CT image, or given as landmarks.

The coronary arteries are contrast-filled in the CT but belong to no heart
label, so they show as bright voxels with label 0 leaving the aortic root.

Method
------
1. The root wall is unrolled over (height 1-30 mm above the annulus, angle
   around the annulus normal): for each ray from the root axis the lumen
   boundary is the 0.5 crossing of the smoothed aorta mask, and the map
   holds the minimum HU over the first 5 mm outside it (:func:`wall_map`).
   Rays that run into another heart label (a chamber abutting the root) are
   excluded: there the chamber, not a coronary, is bright.
2. Threshold halfway between the aortic blood (median HU of label 6 in the
   root) and the median of the map (wall and fat around the root).
3. Blobs of the thresholded map (joined across the 0/360 degree seam) over
   about 2 mm across and clearly over the threshold (mean excess >= 35% of
   blood minus threshold) are vessels crossing the wall. The ostium is the
   contrast-weighted centre of the blob, on the lumen surface; its height
   is the signed distance above the annulus plane.
4. Left/right: the left main leaves the left (patient-left, posterior)
   sinus, the right coronary the anterior sinus; for each side the
   strongest blob (area x contrast) facing it within ~70 degrees is taken.

Limitation: an ostium whose first millimetres lie inside another label
(e.g. a right coronary running straight into voxels labelled RV) cannot be
told from that chamber and is reported missing, with a warning.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from .sections import MaskField, plane_basis

LV, AO = 1, 6
#: patient directions (LPS) the left and right coronary sinuses face
LEFT_DIR = np.array([1.0, 0.35, 0.0])
RIGHT_DIR = np.array([-0.35, -1.0, 0.0])


def wall_map(image, labels, plane, heights, thetas, depth_mm: float = 5.0):
    """Image brightness across the aortic wall, unrolled over (height, angle).

    For each height above the annulus and angle around the normal, a ray
    leaves the root axis; the lumen boundary is where the aorta mask field
    drops below 0.5, and the map holds the *minimum* HU over the next
    ``depth_mm`` outside it. The wall and the fat around it pull that
    minimum down everywhere except where a contrast-filled vessel crosses
    the wall: the ostia.

    Returns ``(bright_min_hu, lumen_radius_mm)``, each (len(heights), len(thetas)).
    """
    _, u, v = plane_basis(plane.normal)
    # the lumen is the LV blood and aorta together: an automatic segmentation
    # may leave the lowest part of the root labelled LV
    arr = np.asarray(labels.array)
    field = MaskField(labels, (arr == AO) | (arr == LV))
    r = np.arange(0.0, 40.0, 0.25)
    dirs = np.cos(thetas)[:, None] * u + np.sin(thetas)[:, None] * v  # (T, 3)
    base = plane.centre + np.asarray(heights)[:, None] * plane.normal  # (H, 3)
    pts = base[:, None, None, :] + r[None, None, :, None] * dirs[None, :, None, :]
    inside = field.sample(pts) >= 0.5  # (H, T, R)
    first_out = np.argmin(inside, axis=2)  # first sample outside
    radius = np.where(inside[..., 0], r[first_out], np.nan)
    offs = np.arange(0.5, depth_mm + 1e-6, 0.5)
    rad = np.nan_to_num(radius)[..., None] + offs  # (H, T, K)
    pts = base[:, None, None, :] + rad[..., None] * dirs[None, :, None, :]
    zyx = labels.lps_to_index(pts.reshape(-1, 3))[:, ::-1].T
    vals = ndimage.map_coordinates(np.asarray(image.array, np.float32), zyx, order=1,
                                   mode="nearest").reshape(rad.shape)
    # a bright ray into another heart structure (RV, LA, PA...) is that
    # chamber abutting the root, not a coronary: only unlabelled voxels count
    labs = ndimage.map_coordinates(np.asarray(labels.array), zyx, order=0,
                                   mode="nearest").reshape(rad.shape)
    other = ((labs != 0) & (labs != AO)).any(axis=2)
    return np.where(np.isnan(radius) | other, -np.inf, vals.min(axis=2)), radius


def detect_ostia(image, labels, plane) -> tuple[dict, list[str]]:
    """``{"left": {...}, "right": {...}}`` found in ``image``, and warnings."""
    arr = np.asarray(labels.array)
    ao = arr == AO
    if not ao.any():
        return {}, ["Coronary ostia not found: no aorta (label 6) near the annulus."]
    step_h, step_t = 0.4, np.deg2rad(2.0)
    heights = np.arange(1.0, 30.0, step_h)
    thetas = np.arange(0.0, 2 * np.pi, step_t)
    bright, radius = wall_map(image, labels, plane, heights, thetas)
    img = np.asarray(image.array)
    ao_idx = np.argwhere(ao)
    ao_lps = labels.index_to_lps(ao_idx[:, ::-1].astype(float))
    hh = plane.height(ao_lps)
    sel = (hh > 0) & (hh < 30) & (np.linalg.norm(ao_lps - plane.centre, axis=1) < 40)
    blood = float(np.median(img[tuple(ao_idx[sel].T)])) if sel.any() else float(np.median(img[ao]))
    finite = bright[np.isfinite(bright)]
    if finite.size == 0:
        return {}, ["Coronary ostia not found: no unlabelled wall around the aortic root "
                    "above the annulus."]
    tissue = float(np.median(finite)) if finite.size else 0.0
    if blood - tissue < 100.0:
        return {}, [f"Coronary ostia not found: the aorta ({blood:.0f} HU) is not contrast-"
                    f"enhanced against the wall around it ({tissue:.0f} HU)."]
    thr = 0.5 * (blood + tissue)
    hot = bright > thr
    comps, n = ndimage.label(hot)
    # join blobs split by the 0/360 degree seam
    for i in range(hot.shape[0]):
        a, b = comps[i, 0], comps[i, -1]
        if a and b and a != b:
            comps[comps == b] = a
    _, u, v = plane_basis(plane.normal)
    found = []
    for lab in np.unique(comps[comps > 0]):
        ii, jj = np.nonzero(comps == lab)
        w = bright[ii, jj] - thr
        # under ~2 mm across, or barely over the threshold: noise, partial volume
        if len(ii) < 6 or w.mean() < 0.35 * (blood - thr):
            continue
        ang = np.arctan2((w * np.sin(thetas[jj])).sum(), (w * np.cos(thetas[jj])).sum())
        h = float((w * heights[ii]).sum() / w.sum())
        d = np.cos(ang) * u + np.sin(ang) * v
        r = float(np.nanmedian(radius[ii, jj]))
        found.append({"point": plane.centre + h * plane.normal + r * d, "dir": d,
                      "size": len(ii), "contrast": float(w.mean())})
    found.sort(key=lambda f: -f["size"] * f["contrast"])
    return _assign(found, plane)


def _assign(found: list[dict], plane) -> tuple[dict, list[str]]:
    out, warnings = {}, []
    used = set()
    for side, want in (("left", LEFT_DIR), ("right", RIGHT_DIR)):
        w = want - np.dot(want, plane.normal) * plane.normal
        w /= np.linalg.norm(w)
        best, score = None, 0.0
        for k, f in enumerate(found):
            facing = float(np.dot(f["dir"], w))
            strength = f["size"] * f["contrast"]
            if k not in used and facing > 0.3 and strength > score:
                best, score = k, strength
        if best is None:
            warnings.append(f"The {side} coronary ostium was not found: no contrast-filled "
                            f"vessel leaves the {side} side of the aortic root through "
                            f"unlabelled tissue (it may run into a neighbouring chamber's "
                            f"label); give it as a landmark to measure its height.")
            continue
        used.add(best)
        out[side] = ostium_entry(found[best]["point"], plane, "detected")
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
