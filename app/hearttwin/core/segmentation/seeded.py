"""Seeded segmentation: competitive growth from the user's clicks.

For scans where the automatic pipeline fails (unusual anatomy, poor
contrast), the user clicks one or more points per structure (LPS mm). The
pipeline then needs no prior at all:

1. Working grid and smoothing as in :mod:`.auto`.
2. **Levels from the clicks**: the smoothed image around the blood seeds
   gives the left (LV, LA, AO) and right (RV, RA, PA) blood levels; the
   myocardium and fat levels are sampled in a shell around the LV blood.
3. **Blood mask**: side-dependent midpoint thresholds (side of the nearest
   seed), bone removed (cortex and ring-enclosed marrow,
   :func:`.partition.bone_mask`, plus marrow walled in by cortex in most
   directions, :func:`.partition.enclosed_marrow`), only components that
   contain a seed kept.
4. **Competition**: a small ball of each structure's seeds (snapped into the
   blood pool) is flooded by marker watershed over gradient magnitude minus
   a distance-to-wall term, so fronts meet at walls and at the narrowings of
   the valve planes.
5. **LV myocardium**: tissue-class voxels within ``max_wall_mm`` of the LV
   blood that are nearer the LV than any other cavity, or lie in a wall
   between the LV and another cavity (the septum). Seeds for label 5 are not
   needed (a click inside the LV wall is accepted and ignored).
6. Back to the input grid with :mod:`.refine` (never grown back into marrow).
"""

from __future__ import annotations

import time

import numpy as np
import SimpleITK as sitk
from scipy import ndimage

from .. import jobs
from ..errors import InputError
from ..imaging.volume import Volume
from . import partition, refine, resample
from .auto import NAMES, AutoParams
from .contrast import Levels
from .result import SegmentationResult

BLOOD = partition.BLOOD
LEFT_BLOOD = (1, 3, 6)


def _seed_indices(seeds: dict, ref: sitk.Image) -> dict[int, list[tuple[int, int, int]]]:
    """Seeds (LPS mm) -> working-grid array indices (z, y, x) inside the grid."""
    out = {}
    size = np.array(ref.GetSize())
    for label, points in seeds.items():
        label = int(label)
        if label not in NAMES:
            raise InputError(f"Seed label {label} is not a heart label (1-7).")
        idx = []
        for pt in points:
            if len(pt) != 3:
                raise InputError(f"A seed must be an (x, y, z) point in mm, got {pt!r}.")
            ijk = np.rint(ref.TransformPhysicalPointToContinuousIndex([float(v) for v in pt]))
            if np.all(ijk >= 0) and np.all(ijk < size):
                idx.append((int(ijk[2]), int(ijk[1]), int(ijk[0])))
        if idx:
            out[label] = idx
    return out


def _sample(a: np.ndarray, idx, r: int = 1) -> float:
    vals = [np.median(a[max(z - r, 0):z + r + 1, max(y - r, 0):y + r + 1, max(x - r, 0):x + r + 1])
            for z, y, x in idx]
    return float(np.median(vals))


def _levels(s: np.ndarray, seeds: dict, h: float) -> Levels:
    left_pts = [p for k in LEFT_BLOOD for p in seeds.get(k, [])]
    right_pts = [p for k in (2, 4, 7) for p in seeds.get(k, [])]
    left = _sample(s, left_pts) if left_pts else _sample(s, right_pts)
    right = _sample(s, right_pts) if right_pts else left
    # the LV blood at a conservative threshold, then a shell around it
    ref = seeds.get(1, left_pts or right_pts)
    bright = s > 0.6 * min(left, right)
    comp, _ = ndimage.label(bright)
    lab = comp[ref[0]]
    core = comp == lab if lab else bright
    d = ndimage.distance_transform_edt(~core, sampling=h)
    shell = s[(d > 3.0) & (d < 12.0)]
    tissue = shell[(shell > -50.0) & (shell < 0.75 * min(left, right))]
    myo = float(np.median(tissue)) if tissue.size > 20 else 0.3 * min(left, right)
    fatv = shell[(shell < myo - 60.0) & (shell > -400.0)]
    fat = float(np.median(fatv)) if fatv.size > 20 else myo - 200.0
    return Levels(left=left, right=max(right, myo + 20.0), myocardium=myo, fat=fat)


def _snap(blood: np.ndarray, idx, max_vox: int) -> tuple | None:
    if blood[idx]:
        return idx
    z, y, x = idx
    sl = tuple(slice(max(c - max_vox, 0), c + max_vox + 1) for c in idx)
    sub = blood[sl]
    if not sub.any():
        return None
    pts = np.argwhere(sub)
    off = np.array([s.start for s in sl])
    d = np.linalg.norm(pts + off - np.array(idx), axis=1)
    return tuple(int(v) for v in pts[np.argmin(d)] + off)


def _climb(dist: np.ndarray, idx, max_steps: int = 200) -> tuple:
    """Steepest ascent on the distance-to-wall map: the bottom of the seed's basin."""
    q = np.array(idx)
    hi = np.array(dist.shape) - 1
    for _ in range(max_steps):
        lo_c, hi_c = np.maximum(q - 2, 0), np.minimum(q + 2, hi)
        sub = dist[lo_c[0]:hi_c[0] + 1, lo_c[1]:hi_c[1] + 1, lo_c[2]:hi_c[2] + 1]
        best = np.array(np.unravel_index(int(np.argmax(sub)), sub.shape)) + lo_c
        if dist[tuple(best)] <= dist[tuple(q)]:
            break
        q = best
    return tuple(int(v) for v in q)


def wall_around_lv(s, labels, levels: Levels, h: float, max_wall_mm: float) -> np.ndarray:
    lv = labels == 1
    if not lv.any():
        return np.zeros(labels.shape, bool)
    d_lv = ndimage.distance_transform_edt(~lv, sampling=h)
    other = np.isin(labels, (2, 3, 4, 6, 7))
    d_other = (ndimage.distance_transform_edt(~other, sampling=h) if other.any()
               else np.full(labels.shape, np.inf))
    near_lv = (d_lv <= max_wall_mm) & ((d_lv <= d_other) | (d_lv + d_other <= max_wall_mm))
    return partition.largest_component(partition.wall_tissue(s, labels, levels) & near_lv)


def segment_from_seeds(volume: Volume, seeds: dict[int, list[tuple[float, float, float]]], *,
                       progress=None, params: AutoParams | None = None,
                       seed_radius_mm: float = 4.0, distance_weight: float = 1.0,
                       gradient_weight: float = 0.0
                       ) -> SegmentationResult:
    """Segment from user clicks: ``seeds[label] = [(x, y, z) LPS mm, ...]``.

    Labels without seeds are reported missing (except the myocardium, which
    is derived from the LV). Raises :class:`InputError` when no seed lies in
    the image or a label number is not 1-7.
    """
    p = params or AutoParams()
    t0 = time.perf_counter()
    total = 7
    image, smoothed, s, raw = resample.prepare(volume, p.working_mm, p.smooth_mm, progress, total)
    idx = _seed_indices(seeds, smoothed)
    blood_seeds = {k: v for k, v in idx.items() if k in BLOOD}
    if not blood_seeds:
        raise InputError("No seed of a blood structure (labels 1-4, 6, 7) lies inside the image.")

    jobs.report(progress, 2, total, "Estimating contrast from the seeds")
    levels = _levels(s, blood_seeds, p.working_mm)
    seedmap = np.zeros(s.shape, np.uint8)
    for k, pts in blood_seeds.items():
        for z, y, x in pts:
            seedmap[z, y, x] = k
    jobs.report(progress, 3, total, "Finding the blood pool")
    _, bright, bone, marrow = partition.bright_regions(
        s, raw, levels, seedmap, p.working_mm, p.marrow_enclosure, p.marrow_reach_mm)
    del raw
    mask = bright & ~bone & ~marrow
    del bright
    markers = np.zeros(s.shape, np.uint8)
    dist = ndimage.distance_transform_edt(mask)
    r = max(1, int(round(seed_radius_mm / p.working_mm)))
    ball = ndimage.iterate_structure(ndimage.generate_binary_structure(3, 1), r)
    warnings = []
    for k, pts in blood_seeds.items():
        for pt in pts:
            q = _snap(mask, pt, int(round(10.0 / p.working_mm)))
            if q is None:
                warnings.append(f"A seed of the {NAMES[k][1].lower()} is not in a contrast-filled "
                                f"region and was ignored.")
                continue
            # the click and the bottom of its basin (valve planes are saddles)
            for c in (q, _climb(dist, q)):
                one = np.zeros(s.shape, bool)
                one[c] = True
                sl = tuple(slice(max(v - r, 0), v + r + 1) for v in c)
                grown = ndimage.binary_dilation(one[sl], ball) & mask[sl]
                markers[sl][grown & (markers[sl] == 0)] = k
    comp, _ = ndimage.label(mask)
    keep = np.unique(comp[markers > 0])
    keep = keep[keep > 0]
    blood = np.isin(comp, keep)
    del comp

    jobs.report(progress, 4, total, "Growing the structures from the seeds")
    labels = partition.partition(smoothed, blood, markers, marker_erosion=0,
                                 distance_weight=distance_weight, gradient_weight=gradient_weight)
    jobs.report(progress, 5, total, "Finding the LV myocardium")
    labels[wall_around_lv(s, labels, levels, p.working_mm, p.max_wall_mm)] = 5
    jobs.report(progress, 6, total, "Refining at full resolution")
    full = refine.to_input_grid(labels, smoothed, image, levels, grow_voxels=p.grow_voxels,
                                smooth_mm=p.fine_smooth_mm, exclude=marrow,
                                progress=jobs.SubProgress(progress, 6, 7, total))
    present = np.bincount(full.ravel(), minlength=8)
    missing = []
    for k in range(1, 8):
        if present[k] == 0:
            missing.append(NAMES[k][0])
            why = ("no seed was given" if k not in idx and k != 5 else
                   "no wall of myocardial density around the LV" if k == 5 else
                   "its seeds reach no contrast-filled region")
            warnings.append(f"{NAMES[k][1]} not found: {why}.")
    jobs.report(progress, total, total, "Segmentation done")
    return SegmentationResult(
        labels=Volume(full, volume.spacing, volume.origin, volume.direction,
                      meta={"kind": "labels"}),
        warnings=warnings, missing=missing, seconds=time.perf_counter() - t0, method="seeded",
        params={"levels": levels.as_dict(), "seed_radius_mm": seed_radius_mm,
                "distance_weight": distance_weight,
                "seeds_lps": {int(k): [list(map(float, q)) for q in v] for k, v in seeds.items()}})
