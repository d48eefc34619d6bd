"""Coronary ostia: found in the CT image, or given as landmarks.

The coronary arteries are contrast-filled in the CT but belong to no heart
label. Where one leaves the aortic root it makes a round hole, as wide as the
vessel, in the otherwise dark root wall. The detector looks for those holes
on the unrolled root wall, so it needs the labels only for the root axis: a
label that runs into a coronary, a coronary that runs into a chamber's label
after a few millimetres, or a vessel hugging the root below its ostium do not
move the result.

Method (:func:`wall_map`, :func:`openings`)
-------------------------------------------
1. Rays: for heights ``h`` every ``STEP_MM`` from just below the annulus to
   28 mm above it, rays leave the centroid of the aorta (label 6) voxels at
   that height, perpendicular to the annulus normal, every ``STEP_MM`` of arc
   at the root's median radius. The lightly smoothed CT is sampled along them.
2. Levels: blood is the median of the first 3 mm of every ray, tissue the
   median of the samples 1-4 mm beyond where each ray first drops below half
   the blood; intensities are rescaled to 0 (tissue) .. 1 (blood).
3. Wall: each ray's lumen radius is where it first drops below 0.5; the wall
   radius is its median over a window of ``BASELINE_MM`` (height x arc), so
   a vessel's hole does not move it.
4. Transmission: the darkest sample from 0.5 mm inside the wall radius to
   ``WALL_MM`` outside it. The wall itself gives ~0; a hole gives ~1.
5. Holes: scale-normalised Laplacian-of-Gaussian blobs of the transmission
   map (scales ``SCALES_MM``, i.e. 2-6 mm calibre), local maxima at heights
   ``HEIGHT_RANGE_MM``, transmission between ``MIN_TRANSMISSION`` and
   ``MAX_TRANSMISSION`` (brighter than blood all through is calcium), and the
   lumen continuing at least ``MIN_RUN_MM`` beyond the wall there (a vessel,
   not a thin wall with a blood pool just behind it).
6. Left/right: the right coronary leaves towards the right heart (RV/RA),
   the left towards the LV/LA: each hole's direction around the root axis is
   compared with the directions of the RV+RA and LV+LA centroids (fixed
   patient directions when those labels are missing); per side the
   strongest blob wins. The ostium is the weighted centre of the hole on the
   wall; its height is the signed distance above the annulus plane.

Limitations: the height is measured from the annulus plane, so an error in
that plane (automatic segmentations) adds to it. Holes lower than 5 mm are
ignored (calcium and the valve hinges sit there). A coronary leaving almost
tangentially to the wall makes an elongated, fainter hole that may be missed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from .sections import plane_basis

LV, RV, LA, RA, AO, PA = 1, 2, 3, 4, 6, 7
#: patient directions (LPS) of the left and right coronary sinuses, when the
#: chamber labels cannot tell
LEFT_DIR = np.array([1.0, 0.35, 0.0])
RIGHT_DIR = np.array([-0.35, -1.0, 0.0])
#: heights above the annulus plane searched for ostia (mm)
HEIGHT_RANGE_MM = (5.0, 25.0)
#: heights of the wall map (a margin around HEIGHT_RANGE_MM for the filters)
MAP_HEIGHTS_MM = (-1.0, 28.0)
#: map step in height and arc (mm)
STEP_MM = 0.5
#: rays run this far from the axis (mm)
RAY_MM = 34.0
#: window (height, arc) over which the wall radius is the median (mm)
BASELINE_MM = (7.0, 9.0)
#: a hole goes through this much wall beyond the lumen radius (mm)
WALL_MM = 2.0
#: ... and the lumen continues at least this far beyond it (mm)
MIN_RUN_MM = 3.0
#: darkest level through the wall in a hole (0 tissue, 1 blood) ...
MIN_TRANSMISSION = 0.5
#: ... and at most this: brighter than blood all through is calcium, not a vessel
MAX_TRANSMISSION = 1.4
#: blob scales (Gaussian sigma, mm): holes of about 2.8-5.6 mm
SCALES_MM = (1.0, 1.4, 2.0)
#: least scale-normalised blob response of a hole
MIN_RESPONSE = 0.04


@dataclass
class WallMap:
    """The unrolled root wall: rows are heights, columns angles around the axis."""

    heights: np.ndarray     # (nh,) mm above the annulus plane
    angles: np.ndarray      # (na,) radians from the plane's u axis towards v
    centres: np.ndarray     # (nh, 3) LPS ray origins
    basis: tuple            # (u, v): in-plane unit vectors, angle 0 and 90 degrees
    wall: np.ndarray        # (nh, na) wall radius (mm)
    transmission: np.ndarray  # (nh, na) darkest level through the wall
    run: np.ndarray         # (nh, na) darkest level to MIN_RUN_MM beyond the wall
    blood: float
    tissue: float


def _root_centres(labels, plane, heights) -> np.ndarray | None:
    """Centroid of the aorta voxels within 1.5 mm of each height (axis point if too few)."""
    arr = np.asarray(labels.array)
    n = plane.normal
    idx = np.argwhere(arr == AO)
    if len(idx) < 50:
        return None
    p = labels.index_to_lps(idx[:, ::-1].astype(float))
    d = p - plane.centre
    hp = d @ n
    near = (hp > heights[0] - 2.0) & (hp < heights[-1] + 2.0) \
        & (np.linalg.norm(d - np.outer(hp, n), axis=1) < 30.0)
    p, hp = p[near], hp[near]
    if len(p) < 50:
        return None
    out = np.empty((len(heights), 3))
    for i, h in enumerate(heights):
        sel = np.abs(hp - h) < 1.5
        c = p[sel].mean(axis=0) if sel.sum() >= 20 else plane.centre + h * n
        out[i] = c - (np.dot(c - plane.centre, n) - h) * n
    return out


def _sample(image, centres, dirs, ts) -> np.ndarray:
    """Smoothed image along rays ``centres[h] + t dirs[a]``: (nh, na, nt)."""
    # index coordinates are affine in LPS: build them per axis (x, y, z), float32
    c = image.lps_to_index(centres)
    step = image.lps_to_index(dirs) - image.lps_to_index(np.zeros(3))
    ijk = [(c[:, None, None, k] + ts[None, None, :] * step[None, :, None, k]).astype(np.float32)
           for k in range(3)]
    shape = np.asarray(image.array.shape)[::-1]  # (nx, ny, nz)
    lo = [int(np.clip(np.floor(a.min()) - 3, 0, shape[k])) for k, a in enumerate(ijk)]
    hi = [int(np.clip(np.ceil(a.max()) + 4, 0, shape[k])) for k, a in enumerate(ijk)]
    crop = np.asarray(image.array[lo[2]:hi[2], lo[1]:hi[1], lo[0]:hi[0]], np.float32)
    crop = ndimage.gaussian_filter(crop, 0.5)
    zyx = np.stack([(ijk[k] - lo[k]).ravel() for k in (2, 1, 0)])
    vals = ndimage.map_coordinates(crop, zyx, order=1, mode="nearest")
    return vals.reshape(ijk[0].shape)


def _first_below(q: np.ndarray, level: float, ts: np.ndarray) -> np.ndarray:
    below = q < level
    return ts[np.where(below.any(axis=2), below.argmax(axis=2), len(ts) - 1)]


def _wrap_filter(fn, a: np.ndarray, pad: int, **kw) -> np.ndarray:
    """``fn`` on a map periodic in angle (columns), edge-padded in height (rows)."""
    return fn(np.pad(a, ((pad, pad), (0, 0)), mode="edge"), mode="wrap", **kw)[pad:-pad]


def wall_map(image, labels, plane) -> tuple[WallMap | None, str | None]:
    """The unrolled root wall (see module docstring), or None and why not."""
    heights = np.arange(MAP_HEIGHTS_MM[0], MAP_HEIGHTS_MM[1] + 1e-6, STEP_MM)
    centres = _root_centres(labels, plane, heights)
    if centres is None:
        return None, "Coronary ostia not found: no aorta (label 6) near the annulus."
    _, u, v = plane_basis(plane.normal)
    ts = np.arange(0.0, RAY_MM, 0.25)

    def rays(count):
        ang = np.linspace(0.0, 2 * np.pi, count, endpoint=False)
        dirs = np.cos(ang)[:, None] * u + np.sin(ang)[:, None] * v
        return ang, dirs, _sample(image, centres, dirs, ts)

    _, _, coarse = rays(90)
    blood = float(np.median(coarse[:, :, ts < 3.0]))
    first = np.searchsorted(ts, _first_below(coarse, 0.5 * blood, ts))
    beyond = np.clip(first[..., None] + np.arange(4, 17)[None, None, :], 0, len(ts) - 1)
    tissue = float(np.median(np.take_along_axis(coarse, beyond, axis=2)))
    if blood - tissue < 100.0:
        return None, (f"Coronary ostia not found: the aorta ({blood:.0f} HU) is not contrast-"
                      f"enhanced against the tissue around it ({tissue:.0f} HU).")
    radius = float(np.median(_first_below((coarse - tissue) / (blood - tissue), 0.5, ts)))
    ang, dirs, prof = rays(max(int(round(2 * np.pi * radius / STEP_MM)), 60))
    q = (prof - tissue) / (blood - tissue)
    lumen = _first_below(q, 0.5, ts)
    size = (int(BASELINE_MM[0] / STEP_MM) | 1, int(BASELINE_MM[1] / STEP_MM) | 1)
    wall = _wrap_filter(ndimage.median_filter, lumen, size[0] // 2 + 1, size=size)

    def darkest(to_mm):
        tt = ts[None, None, :]
        win = (tt >= wall[..., None] - 0.5) & (tt <= wall[..., None] + to_mm)
        return np.where(win, q, np.inf).min(axis=2)

    return WallMap(heights, ang, centres, (u, v), wall, darkest(WALL_MM), darkest(MIN_RUN_MM),
                   blood, tissue), None


def openings(wm: WallMap) -> list[dict]:
    """Holes in the root wall (coronary ostia candidates), strongest first."""
    pad = int(3 * max(SCALES_MM) / STEP_MM) + 1
    t = wm.transmission
    resp = np.max([_wrap_filter(ndimage.gaussian_laplace, t, pad, sigma=s / STEP_MM) * -s ** 2
                   for s in SCALES_MM], axis=0)
    peak = resp == _wrap_filter(ndimage.maximum_filter, resp, 5, size=9)
    rows = (wm.heights >= HEIGHT_RANGE_MM[0]) & (wm.heights <= HEIGHT_RANGE_MM[1])
    peak &= rows[:, None] & (resp >= MIN_RESPONSE)
    peak &= (t >= MIN_TRANSMISSION) & (t <= MAX_TRANSMISSION)
    # the lumen runs on beyond the wall somewhere in the hole (within a millimetre)
    near_run = _wrap_filter(ndimage.maximum_filter, wm.run, 3, size=5)
    peak &= near_run >= MIN_TRANSMISSION
    out = []
    na = len(wm.angles)
    for i, j in np.argwhere(peak):
        # weighted centre of the hole: transmission above half the peak, within 2.5 mm
        r = int(2.5 / STEP_MM)
        ii = np.clip(np.arange(i - r, i + r + 1), 0, len(wm.heights) - 1)
        jj = np.arange(j - r, j + r + 1) % na
        sub = t[np.ix_(ii, jj)]
        w = np.clip(sub - 0.5 * t[i, j], 0.0, None)
        di, dj = np.meshgrid(ii - i, np.arange(-r, r + 1), indexing="ij")
        fi = i + float((w * di).sum() / w.sum())
        fj = j + float((w * dj).sum() / w.sum())
        rows_i = np.arange(len(wm.heights))
        h = float(np.interp(fi, rows_i, wm.heights))
        c = np.array([np.interp(fi, rows_i, wm.centres[:, k]) for k in range(3)])
        a = fj * (wm.angles[1] - wm.angles[0])
        d = np.cos(a) * wm.basis[0] + np.sin(a) * wm.basis[1]
        point = c + float(wm.wall[i, j]) * d
        out.append({"point": point, "height": h, "dir": d, "response": float(resp[i, j]),
                    "transmission": float(t[i, j]), "run": float(near_run[i, j])})
    return sorted(out, key=lambda f: -f["response"])


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
    wm, problem = wall_map(image, labels, plane)
    if problem:
        return {}, [problem]
    out, warnings = _assign(openings(wm), side_directions(labels, plane))
    for side in out:
        out[side] = ostium_entry(out[side]["point"], plane, "detected")
    return out, warnings


def _assign(found: list[dict], dirs: dict) -> tuple[dict, list[str]]:
    """The strongest hole on each side (``found`` is strongest first)."""
    out, warnings = {}, []
    axis = dirs["right"] - dirs["left"]
    axis /= max(np.linalg.norm(axis), 1e-6)
    for side, sign in (("left", -1.0), ("right", 1.0)):
        mine = [f for f in found if sign * float(np.dot(f["dir"], axis)) > 0.0]
        if mine:
            out[side] = mine[0]
        else:
            warnings.append(f"The {side} coronary ostium was not found: no contrast-filled "
                            f"vessel leaves the {side} side of the aortic root between "
                            f"{HEIGHT_RANGE_MM[0]:.0f} and {HEIGHT_RANGE_MM[1]:.0f} mm above "
                            f"the annulus; give it as a landmark to measure its height.")
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
