"""Blood pool -> chambers and vessels, and the LV myocardium (working grid).

All arrays here are on the coarse isotropic working grid, (z, y, x).

1. **Blood mask**: smoothed image above the side-dependent blood threshold
   (:mod:`.contrast`) and below the calcium/bone limit, minus bone (cortex,
   marrow in closed rings, and marrow walled in by cortex in most directions
   where a vessel or the atrium opens the ring: :func:`enclosed_marrow`);
   connected components that the fitted prior does not explain (bone
   marrow, bowel, stray vessels) are dropped.
2. **Partition**: each structure's marker is the core of its fitted prior
   label inside the blood mask; the rest of the blood mask is flooded from
   the markers (``MorphologicalWatershedFromMarkers``) over the smoothed
   image's gradient magnitude plus a distance term, so fronts meet at walls
   and narrowings (valve planes) near where the prior puts them.
3. **Myocardium**: the tissue class (between fat and blood) within the
   maximum wall thickness of the LV blood pool and near the prior's wall.
"""

from __future__ import annotations

import itertools

import numpy as np
import SimpleITK as sitk
from scipy import ndimage

from .contrast import LEFT, Levels

BLOOD = (1, 2, 3, 4, 6, 7)


def side_map(prior: np.ndarray) -> np.ndarray:
    """True where the nearest prior structure belongs to the left heart."""
    known = prior > 0
    if not known.any():
        return np.ones(prior.shape, bool)
    idx = ndimage.distance_transform_edt(~known, return_distances=False, return_indices=True)
    nearest = prior[tuple(idx)]
    return np.isin(nearest, LEFT)


def blood_thresholds(levels: Levels, left_side: np.ndarray) -> np.ndarray:
    t_left = 0.5 * (levels.left + levels.myocardium)
    t_right = 0.5 * (levels.right + levels.myocardium)
    return np.where(left_side, np.float32(t_left), np.float32(t_right))


def cortex_mask(raw: np.ndarray, levels: Levels, spacing_mm: float,
                min_bone_ml: float = 1.5) -> np.ndarray:
    """Large components brighter than any blood (vertebrae, ribs, sternum; not calcium)."""
    cortex = raw > levels.upper
    comp, n = ndimage.label(cortex)
    if n == 0:
        return cortex
    sizes = np.bincount(comp.ravel()) * spacing_mm ** 3 / 1000.0
    big = sizes >= min_bone_ml
    big[0] = False
    return big[comp]


def bone_mask(raw: np.ndarray, levels: Levels, spacing_mm: float,
              min_bone_ml: float = 1.5, max_hole_cm2: float = 12.0,
              cortex: np.ndarray | None = None) -> np.ndarray:
    """Bone (cortex and the marrow it encloses), on the unsmoothed working image.

    Marrow can be as bright as contrast blood, and the descending aorta lies
    against the spine, so intensity alone cannot separate them. Cortex is
    brighter than any blood; large cortical components (vertebrae, ribs,
    sternum; not small calcium nodules) are closed by one voxel and their
    holes filled slice by slice (axially) to take in the marrow. Marrow whose
    cortical ring is open (a vessel or the atrium right against the bone) is
    not a hole; :func:`enclosed_marrow` finds it.
    """
    if cortex is None:
        cortex = cortex_mask(raw, levels, spacing_mm, min_bone_ml)
    if not cortex.any():
        return cortex
    plane = np.zeros((3, 3, 3), bool)
    plane[1] = ndimage.generate_binary_structure(2, 1)
    closed = ndimage.binary_dilation(cortex, structure=plane)
    # holes are taken with the field of view's edge counted as wall (a vertebra
    # cut by the edge is still filled) but only up to a bone's cross-section,
    # so a rib arc running edge to edge does not swallow the chest
    max_px = max_hole_cm2 * 100.0 / spacing_mm ** 2
    bone = closed.copy()
    for z in range(closed.shape[0]):
        sl = np.pad(closed[z], 1, constant_values=True)
        holes, n = ndimage.label(ndimage.binary_fill_holes(sl) & ~sl)
        if n == 0:
            holes, n = ndimage.label(~sl)
        if n:
            area = np.bincount(holes.ravel())
            small = area <= max_px
            small[0] = False
            bone[z] |= small[holes][1:-1, 1:-1]
    return ndimage.binary_dilation(bone, structure=plane)


def enclosure(walls: np.ndarray, passable: np.ndarray, spacing_mm: float,
              reach_mm: float = 20.0) -> np.ndarray:
    """Share of the 26 grid directions in which a wall is within reach.

    A ray from a voxel counts when it meets a ``walls`` voxel within
    ``reach_mm`` having crossed only ``passable`` voxels. Inside a cavity
    walled on most sides the share is high; where the cavity opens onto a
    larger passable region (the cavity's mouth) it is about one half, and it
    falls off away from the mouth. Rays that leave the array before meeting
    a wall or an impassable voxel say nothing (a vertebra cut by the field
    of view) and are left out of the share, but at least half of the
    directions always count.
    """
    hits = np.zeros(walls.shape, np.uint8)
    escapes = np.zeros(walls.shape, np.uint8)
    walls = walls.astype(bool)
    passable = passable.astype(bool)
    for d in itertools.product((-1, 0, 1), repeat=3):
        if d == (0, 0, 0):
            continue
        # the value at x is read from x + d; ``dst`` are the x whose x + d is inside
        src = tuple(slice(k, None) if k > 0 else slice(0, n + k) if k < 0 else slice(None)
                    for n, k in zip(walls.shape, d))
        dst = tuple(slice(0, n - k) if k > 0 else slice(-k, None) if k < 0 else slice(None)
                    for n, k in zip(walls.shape, d))
        steps = max(1, int(round(reach_mm / (spacing_mm * np.sqrt(np.abs(d).sum())))))
        wall_next = np.zeros_like(walls)
        wall_next[dst] = walls[src]
        pass_next = np.zeros_like(passable)
        pass_next[dst] = passable[src]
        edge_next = np.ones_like(walls)
        edge_next[dst] = False
        hit, esc = wall_next.copy(), edge_next.copy()
        shifted = np.zeros_like(hit)
        for _ in range(steps - 1):
            shifted[dst] = hit[src]
            hit = wall_next | (pass_next & shifted)
            shifted[dst] = esc[src]
            esc = edge_next | (pass_next & shifted)
        hits += hit
        escapes += esc & ~hit
    seen = np.maximum(26 - escapes.astype(np.float32), 13.0)
    return hits / seen


def enclosed_marrow(cortex: np.ndarray, bright: np.ndarray, spacing_mm: float,
                    min_enclosure: float = 0.5, reach_mm: float = 20.0,
                    passable: np.ndarray | None = None) -> np.ndarray:
    """Bright voxels walled in by bone cortex in most directions (marrow).

    Where a vessel or the atrium lies right against a vertebra (or the scan's
    resolution loses the thin cortex between them) the marrow and the blood
    form one bright region and the cortical ring is open, so hole filling
    misses the marrow. Seen from inside the marrow, cortex (ring, end plates)
    is within a vertebra's size in most directions; seen from the blood, it
    is only in the directions looking into the marrow through the opening.
    ``bright`` are the candidates, ``passable`` (default ``bright``) what a
    ray may cross.
    """
    if passable is None:
        passable = bright
    if not cortex.any():
        return np.zeros(cortex.shape, bool)
    cand = bright & ~cortex
    if not cand.any():
        return cand
    # work on the bounding box of the candidates plus the reach
    idx = np.argwhere(cand)
    r = int(np.ceil(reach_mm / spacing_mm)) + 1
    lo = np.maximum(idx.min(0) - r, 0)
    hi = np.minimum(idx.max(0) + r + 1, cortex.shape)
    box = tuple(slice(a, b) for a, b in zip(lo, hi))
    # partial volume leaves gaps in a thin cortical shell on the working grid:
    # a one-voxel dilation closes them (the walls count, they are not marrow)
    walls = ndimage.binary_dilation(cortex[box])
    frac = enclosure(walls, passable[box] & ~walls, spacing_mm, reach_mm)
    out = np.zeros(cortex.shape, bool)
    out[box] = cand[box] & ~walls & (frac >= min_enclosure)
    return out


def blood_mask(smoothed: np.ndarray, thresholds: np.ndarray, levels: Levels,
               prior: np.ndarray, bone: np.ndarray | None = None, opening_voxels: int = 2,
               min_prior_overlap: float = 0.5) -> np.ndarray:
    """Contrast-filled blood explained by the prior (bone, calcium removed)."""
    mask = (smoothed > thresholds) & (smoothed < levels.upper)
    if bone is not None:
        mask &= ~bone
    # thin bridges (partial volume against marrow cut by the field of view,
    # coronaries) are broken by an opening before components are judged
    ball = ndimage.generate_binary_structure(3, 1)
    opened = ndimage.binary_opening(mask, structure=ball, iterations=opening_voxels)
    comp, n = ndimage.label(opened)
    if n == 0:
        return mask
    prior_blood = ndimage.binary_dilation(np.isin(prior, BLOOD), iterations=2)
    size = np.bincount(comp.ravel(), minlength=n + 1)
    inside = np.bincount(comp.ravel(), weights=prior_blood.ravel(), minlength=n + 1)
    keep = (inside >= min_prior_overlap * size) & (inside >= 8)
    keep[0] = False
    kept = keep[comp]
    # give back what the opening shaved off, next to the kept parts only
    return mask & ndimage.binary_dilation(kept, structure=ball, iterations=opening_voxels + 1)


def partition(smoothed_img: sitk.Image, blood: np.ndarray, prior: np.ndarray,
              marker_erosion: int = 2, distance_weight: float = 0.0,
              gradient_weight: float = 1.0) -> np.ndarray:
    """Split the blood mask among the six blood structures."""
    markers = np.zeros(prior.shape, np.uint8)
    for k in BLOOD:
        core = (ndimage.binary_erosion(prior == k, iterations=marker_erosion)
                if marker_erosion > 0 else prior == k)
        if core.sum() < 5:
            core = prior == k
        markers[core & blood] = k
    grad = sitk.GradientMagnitudeRecursiveGaussian(smoothed_img, 1.0)
    g = gradient_weight * sitk.GetArrayFromImage(grad)
    if distance_weight > 0:
        dist = ndimage.distance_transform_edt(blood, sampling=smoothed_img.GetSpacing()[::-1])
        g = g - distance_weight * dist
    g = np.where(blood, g, g.max() + 1.0).astype(np.float32)
    gi = sitk.GetImageFromArray(g)
    gi.CopyInformation(smoothed_img)
    mi = sitk.GetImageFromArray(markers)
    mi.CopyInformation(smoothed_img)
    ws = sitk.MorphologicalWatershedFromMarkers(gi, mi, markWatershedLine=False,
                                                fullyConnected=False)
    out = sitk.GetArrayFromImage(ws).astype(np.uint8)
    out[~blood] = 0
    return out


def bright_regions(s: np.ndarray, raw: np.ndarray, levels: Levels, side_labels: np.ndarray,
                   working_mm: float, enclosure: float, reach_mm: float):
    """Blood-bright voxels and the bone to keep out of them (both pipelines).

    ``side_labels`` (prior or seed labels) decide which side's blood threshold
    applies where. Returns ``(thresholds, bright, bone, marrow)``: marrow is
    the bright voxels enclosed by cortex that hole filling misses where a
    vessel or the atrium lies against a vertebra and opens its ring.
    """
    thresholds = blood_thresholds(levels, side_map(side_labels))
    cortex = cortex_mask(raw, levels, working_mm)
    bone = bone_mask(raw, levels, working_mm, cortex=cortex)
    bright = (s > thresholds) & (s < levels.upper)
    marrow = enclosed_marrow(cortex, bright & ~bone, working_mm, enclosure, reach_mm, passable=bright)
    return thresholds, bright, bone, marrow


def wall_tissue(smoothed: np.ndarray, labels: np.ndarray, levels: Levels) -> np.ndarray:
    """Unlabelled voxels of myocardial density: between the fat and left-blood levels."""
    lo = 0.5 * (levels.fat + levels.myocardium)
    hi = 0.5 * (levels.left + levels.myocardium)
    return (smoothed > lo) & (smoothed < hi) & (labels == 0)


def largest_component(mask: np.ndarray) -> np.ndarray:
    """The largest connected piece of ``mask`` (``mask`` itself when it has one piece)."""
    comp, n = ndimage.label(mask)
    if n <= 1:
        return mask
    sizes = np.bincount(comp.ravel())
    sizes[0] = 0
    return comp == int(np.argmax(sizes))


def myocardium(smoothed: np.ndarray, labels: np.ndarray, levels: Levels, prior: np.ndarray,
               spacing_mm: float, max_thickness_mm: float = 13.0,
               prior_margin_mm: float = 5.0) -> np.ndarray:
    """LV wall: tissue-class voxels around the LV blood pool."""
    lv = labels == 1
    if not lv.any():
        return np.zeros(labels.shape, bool)
    d_lv = ndimage.distance_transform_edt(~lv, sampling=spacing_mm)
    near_prior = ndimage.distance_transform_edt(prior != 5, sampling=spacing_mm) <= prior_margin_mm
    return largest_component(wall_tissue(smoothed, labels, levels) & (d_lv <= max_thickness_mm) & near_prior)
