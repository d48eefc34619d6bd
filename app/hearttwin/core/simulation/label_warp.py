"""Warping a label map through a phase's inverse map (the anatomy at that phase).

Output voxel ``y`` takes the label found at its pre-image ``x`` (``x + u(x) =
y``). Nearest-neighbour sampling of a voxelised label map cannot follow
sub-voxel motion: the border of a voxelised shape sits half-way between
voxel centres everywhere, so a chamber whose wall moves by less than half a
voxel keeps every voxel. Near label borders the label is therefore the one
whose indicator, blurred by a Gaussian of about a voxel, is largest at ``x``;
the blurred borders run through voxels at sub-voxel positions, so counts
follow the motion (within about 2 % once the wall moves by a voxel or more).
Blurring shrinks thin and convex parts a little; per-label offsets chosen on
the unmoved map (so that it keeps every label's voxel count) cancel that.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from .. import jobs
from ..imaging.volume import Volume
from .deform import Grid, interpolate_zyx, volume_affine


def _calibrate(scores: np.ndarray, truth: np.ndarray, sweeps: int = 3) -> np.ndarray:
    """Per-label offsets so that the largest (score + offset) returns each label's count.

    Blurring shrinks convex and thin shapes (their border moves in by about
    sigma^2 / radius); offsets chosen on the unmoved map cancel that bias.
    """
    n_lab = scores.shape[0]
    offset = np.zeros(n_lab, np.float32)
    want = np.bincount(truth, minlength=n_lab)
    for _ in range(sweeps):
        for lab in range(n_lab):
            others = np.delete(scores + offset[:, None], lab, axis=0).max(axis=0)
            margin = np.sort(scores[lab] - others)[::-1]
            k = int(want[lab])
            if k == 0 or k >= len(margin):
                continue
            offset[lab] = -0.5 * (margin[k - 1] + margin[k])
    return offset


def _active_box(v: np.ndarray, grid: Grid, labels: Volume, threshold_vox: float):
    """Bounding box (z, y, x slices) of label voxels the inverse field can move."""
    big = np.linalg.norm(v, axis=0) >= threshold_vox * min(labels.spacing)
    if not big.any():
        return None
    big = ndimage.binary_dilation(big, iterations=1)
    nodes = grid.nodes_lps()[big]
    idx = labels.lps_to_index(nodes)  # (i, j, k)
    size = np.array(labels.size)
    lo = np.clip(np.floor(idx.min(axis=0)) - 1, 0, size - 1).astype(int)
    hi = np.clip(np.ceil(idx.max(axis=0)) + 2, 1, size).astype(int)
    return tuple(slice(lo[a], hi[a]) for a in (2, 1, 0))


def _preimages(labels: Volume, box, u, v, grid: Grid, refine: int) -> np.ndarray:
    """LPS pre-image of every voxel of ``box``: the inverse field resampled by SimpleITK."""
    import SimpleITK as sitk

    vimg = sitk.GetImageFromArray(np.ascontiguousarray(np.moveaxis(v, 0, -1), np.float64),
                                  isVector=True)
    vimg.SetOrigin([float(c) for c in grid.origin])
    vimg.SetSpacing([grid.spacing] * 3)
    vimg.SetDirection([float(c) for c in grid.direction.ravel()])
    lo_ijk = [int(box[2].start), int(box[1].start), int(box[0].start)]
    ref = sitk.Image([int(box[a].stop) - lo_ijk[2 - a] for a in (2, 1, 0)], sitk.sitkUInt8)
    ref.SetOrigin([float(c) for c in labels.index_to_lps(np.array(lo_ijk, float))])
    ref.SetSpacing(labels.spacing)
    ref.SetDirection([float(c) for c in labels.direction.ravel()])
    res = sitk.Resample(vimg, ref, sitk.Transform(), sitk.sitkLinear, 0.0,
                        sitk.sitkVectorFloat64)
    disp = np.moveaxis(sitk.GetArrayFromImage(res), -1, 0).reshape(3, -1)
    kk, jj, ii = np.meshgrid(*(np.arange(b.start, b.stop) for b in box), indexing="ij")
    a_mat, b_vec = volume_affine(labels)
    y = a_mat @ np.stack([kk.ravel(), jj.ravel(), ii.ravel()]).astype(float) + b_vec[:, None]
    x = y + disp
    for _ in range(refine):  # x + u(x) = y, with the forward field
        x = y - interpolate_zyx(u, grid.zyx_from_columns(x))
    return x.reshape((3,) + kk.shape)


def warp_labels(labels: Volume, u: np.ndarray, v: np.ndarray, grid: Grid, progress=None,
                sigma_vox: float = 1.0, refine: int = 1, chunk: int = 200_000) -> Volume:
    """Resample ``labels`` through the inverse map.

    Parameters
    ----------
    labels : Volume
        The reference label map.
    u, v : ndarray, (3, nz, ny, nx)
        Forward and inverse displacement of the phase on ``grid`` (LPS mm).
    grid : Grid
    progress : jobs.Progress, optional
    sigma_vox : float
        Blur of the label indicators near borders (voxels).
    refine : int
        Fixed-point refinements of each pre-image with the forward field
        (the grid inverse ``v`` is resampled by SimpleITK first).

    Voxels whose pre-image stays within 0.3 voxel of themselves keep their
    label, which saves time far from the heart.
    """
    arr = np.asarray(labels.array)
    out = arr.copy()
    box = _active_box(v, grid, labels, 0.3)
    if box is None:
        return Volume(out, labels.spacing, labels.origin, labels.direction, dict(labels.meta))
    grow = int(np.ceil(float(np.linalg.norm(v, axis=0).max()) / min(labels.spacing))) + 3
    src = tuple(slice(max(b.start - grow, 0), min(b.stop + grow, n))
                for b, n in zip(box, arr.shape))
    sub = arr[src]
    lo = np.array([sl.start for sl in src])  # (z, y, x)
    edge = ndimage.maximum_filter(sub, 3) != ndimage.minimum_filter(sub, 3)
    band = ndimage.binary_dilation(edge, iterations=1)
    zs, ys, xs = box
    a_inv = np.linalg.inv(volume_affine(labels)[0])
    b_vec = volume_affine(labels)[1]
    box_shape = (zs.stop - zs.start, ys.stop - ys.start, xs.stop - xs.start)
    total = int(np.prod(box_shape))
    vals = np.zeros(total, dtype=arr.dtype)
    band_idx, band_zyx = [], []
    top = np.array(sub.shape)[:, None] - 1
    slab = max(1, chunk // (box_shape[1] * box_shape[2]))  # z-slices per chunk
    for z0 in range(zs.start, zs.stop, slab):
        s = (z0 - zs.start) * box_shape[1] * box_shape[2]
        jobs.report(progress, s, 2 * total, "Warping the label map")
        part = (slice(z0, min(z0 + slab, zs.stop)), ys, xs)
        pre = _preimages(labels, part, u, v, grid, refine).reshape(3, -1)  # LPS mm
        # pre-images beyond the image read the nearest edge voxel (vessels leave the FOV)
        zyx = np.clip(a_inv @ (pre - b_vec[:, None]) - lo[:, None], 0, top)
        near = np.rint(zyx).astype(np.intp)
        vals[s:s + pre.shape[1]] = sub[near[0], near[1], near[2]]
        on_band = band[near[0], near[1], near[2]]
        band_idx.append(np.flatnonzero(on_band) + s)
        band_zyx.append(zyx[:, on_band].astype(np.float32))
    band_idx = np.concatenate(band_idx)
    coords = np.ascontiguousarray(np.concatenate(band_zyx, axis=1))
    present = np.unique(sub)
    at_ref = np.nonzero(band)
    moved = np.empty((len(present), coords.shape[1]), np.float32)
    still = np.empty((len(present), len(at_ref[0])), np.float32)
    for n, lab in enumerate(present):
        jobs.report(progress, total * (1 + n / len(present)), 2 * total,
                    "Warping the label map")
        blurred = ndimage.gaussian_filter((sub == lab).astype(np.float32), sigma_vox)
        ndimage.map_coordinates(blurred, coords, output=moved[n], order=1, mode="nearest",
                                prefilter=False)
        still[n] = blurred[at_ref]
    offset = _calibrate(still, np.searchsorted(present, sub[at_ref]))
    vals[band_idx] = present[np.argmax(moved + offset[:, None], axis=0)]
    out[box] = vals.reshape(box_shape)
    return Volume(out, labels.spacing, labels.origin, labels.direction, dict(labels.meta))
