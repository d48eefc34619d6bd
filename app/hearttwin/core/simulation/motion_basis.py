"""The velocity fields of the model-based heart motion (one CT phase).

Each blood-pool chamber (LV, RV, LA, RA) gets one velocity *basis field*
``b_c``: the gradient of the potential whose Laplacian is minus a source
spread over the chamber, solved on the coarse grid with a discrete sine
transform (zero potential on the grid's border). So ``div b_c`` is minus the
source inside the chamber and ``0`` outside it. The motion of a phase is the
flow, for unit time, of ``v = sum_c a_c b_c`` (:func:`.deform.exponentiate`):
it cannot fold, tissue away from the chambers keeps its volume, and the shape
of the motion (radial contraction, long-axis shortening, valve planes moving
towards the ventricles in systole) follows from each chamber's own shape with
no tuning. The source is fixed in space, so a wall moving into a shrinking
cavity is compressed as it enters the source region; weighting the source
towards the chamber's core (``core_power``) halves that loss of myocardial
volume at the cost of a more compressed blood core.

The aortic root is handled apart: inside a root region (annulus to above the
sinotubular junction) the chamber fields are replaced by their value at the
annulus centre (the root moves rigidly with the base), and a dilation field
scales the root cross-section about its axis (its area follows the aortic
pressure).

The chamber coefficients of each phase are solved by :func:`fit_phase` with
a Broyden iteration shared across phases (:class:`VolumeSolver`).
"""

from __future__ import annotations

import numpy as np
from scipy import fft, ndimage

from .. import jobs
from ..errors import ProcessingError
from ..imaging.volume import Volume
from . import deform
from .deform import Grid, interpolate

AORTA_LABEL = 6
LV_LABEL = 1


def _smoothstep(t: np.ndarray) -> np.ndarray:
    t = np.clip(t, 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def _plateau(x: np.ndarray, lo: float, hi: float, ramp: float) -> np.ndarray:
    """1 on [lo, hi], falling smoothly (C1) to 0 over ``ramp`` mm on either side."""
    return _smoothstep((x - (lo - ramp)) / ramp) * _smoothstep(((hi + ramp) - x) / ramp)


def mask_box(mask: np.ndarray, pad: int = 0, align: int = 1):
    """(z, y, x) slices of the bounding box of ``mask`` grown by ``pad`` voxels (clipped).

    ``align`` > 1 moves each start down to a multiple of ``align`` (so a strided
    subsample of the box is the same as one of the whole array). None if empty.
    """
    box = []
    for axis in range(3):
        other = tuple(a for a in range(3) if a != axis)
        hit = np.flatnonzero(mask.any(axis=other))
        if not len(hit):
            return None
        lo = max(int(hit[0]) - pad, 0)
        box.append(slice(lo - lo % align, min(int(hit[-1]) + 1 + pad, mask.shape[axis])))
    return tuple(box)


def label_points(labels: Volume, label: int, max_points: int | None = None,
                 with_depth: bool = False):
    """LPS voxel centres of ``label`` (every ``s``-th voxel per axis) and their weight (mm3).

    Weights are scaled so they sum to the exact label volume. With
    ``with_depth`` also each point's distance (mm) to the label's border.
    Only the label's bounding box is scanned after one comparison pass.
    """
    mask = np.asarray(labels.array) == label
    count = int(np.count_nonzero(mask))
    stride = 1
    if max_points and count > max_points:
        stride = int(np.ceil((count / max_points) ** (1.0 / 3.0)))
    box = mask_box(mask, align=stride) if count else None
    if box is None:
        box = (slice(0, 0),) * 3
    sub = mask[box][::stride, ::stride, ::stride]
    start = np.array([b.start for b in box])
    kji = np.argwhere(sub)
    pts = labels.index_to_lps((kji * stride + start)[:, ::-1].astype(float))
    w = np.full(len(pts), count * labels.voxel_volume_mm3 / max(len(pts), 1))
    if not with_depth:
        return pts, w
    lo = np.maximum(kji.min(axis=0) - 1, 0)
    hi = kji.max(axis=0) + 2
    crop = np.pad(sub[lo[0]:hi[0], lo[1]:hi[1], lo[2]:hi[2]], 1)
    edt = ndimage.distance_transform_edt(crop, sampling=np.array(labels.spacing)[::-1] * stride)
    depth = edt[tuple((kji - lo + 1).T)]
    return pts, w, depth


def splat(grid: Grid, points: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Trilinear splat of weighted points onto the grid nodes (sum of weights per node)."""
    q = grid.to_index(points)
    upper = np.array(grid.shape[::-1], float) - 1.0
    q = np.clip(q, 0.0, upper)
    base = np.minimum(np.floor(q), upper - 1).astype(np.intp)
    f = q - base
    nz, ny, nx = grid.shape
    out = np.zeros(nz * ny * nx)
    for dz in (0, 1):
        for dy in (0, 1):
            for dx in (0, 1):
                w = ((f[:, 2] if dz else 1 - f[:, 2]) * (f[:, 1] if dy else 1 - f[:, 1])
                     * (f[:, 0] if dx else 1 - f[:, 0]))
                flat = (base[:, 2] + dz) * ny * nx + (base[:, 1] + dy) * nx + base[:, 0] + dx
                out += np.bincount(flat, weights * w, minlength=out.size)
    return out.reshape(grid.shape)


def chamber_basis(labels: Volume, label: int, grid: Grid, smoothing_mm: float,
                  core_power: float = 0.0, max_points: int = 2_000_000) -> np.ndarray:
    """Potential-flow contraction velocity of one chamber, (3, nz, ny, nx) float32 (LPS mm).

    ``core_power`` > 0 weights the source by ``(depth / max depth) ** core_power``
    (normalised to the same total): the wall then moves in through a region
    with little source and keeps more of its volume.
    """
    pts, w, depth = label_points(labels, label, max_points, with_depth=True)
    if core_power > 0:
        shape = (depth / depth.max()) ** core_power
        w = w * shape * (w.sum() / max(float((w * shape).sum()), 1e-12))
    source = splat(grid, pts, w) / grid.spacing ** 3  # volume fraction per node
    if smoothing_mm > 0:
        source = ndimage.gaussian_filter(source, smoothing_mm / grid.spacing, mode="constant")
    # Dirichlet Poisson solve, laplacian(phi) = -source, with DST-I on the interior nodes
    inner = source[1:-1, 1:-1, 1:-1]
    coef = fft.dstn(inner, type=1)
    eig = np.zeros(inner.shape)
    for axis, n in enumerate(inner.shape):
        lam = (2.0 * np.cos(np.pi * np.arange(1, n + 1) / (n + 1)) - 2.0) / grid.spacing ** 2
        shape = [1, 1, 1]
        shape[axis] = n
        eig = eig + lam.reshape(shape)
    phi = np.zeros(grid.shape)
    phi[1:-1, 1:-1, 1:-1] = fft.idstn(-coef / eig, type=1)
    gz, gy, gx = np.gradient(phi, grid.spacing)
    # gradient along the grid axes -> LPS components
    grad = np.einsum("ab,b...->a...", grid.direction, np.stack([gx, gy, gz]))
    return grad.astype(np.float32)


def find_annulus(labels: Volume) -> dict | None:
    """Aortic annulus from the LV/aorta interface: centre, normal (to the aorta), radius.

    Returns None when the label map has no LV-aorta contact. Works in the
    LV's bounding box (the contact lies within a voxel of it).
    """
    arr = np.asarray(labels.array)
    box = mask_box(arr == LV_LABEL, pad=1)
    if box is None:
        return None
    sub = arr[box]
    ao = sub == AORTA_LABEL
    if not ao.any():
        return None
    contact = ao & ndimage.binary_dilation(sub == LV_LABEL)
    if np.count_nonzero(contact) < 6:
        return None
    start = np.array([b.start for b in box])
    pts = labels.index_to_lps((np.argwhere(contact) + start)[:, ::-1].astype(float))
    centre = pts.mean(axis=0)
    _, s, vt = np.linalg.svd(pts - centre, full_matrices=False)
    normal = vt[2]
    # orient towards the aorta: the aortic voxels near the annulus lie on the + side
    near = _voxels_near(labels, AORTA_LABEL, centre, 25.0)
    if len(near) and np.dot(near.mean(axis=0) - centre, normal) < 0:
        normal = -normal
    radial = pts - centre - np.outer((pts - centre) @ normal, normal)
    radius = float(np.sqrt(np.mean(np.sum(radial ** 2, axis=1)) * 2.0))
    return {"centre_lps": centre, "normal_lps": normal, "radius_mm": radius,
            "points_lps": pts}


def _voxels_near(labels: Volume, label: int, centre, radius_mm: float) -> np.ndarray:
    """LPS centres of the ``label`` voxels within ``radius_mm`` of ``centre`` (a box scan)."""
    c = labels.lps_to_index(np.asarray(centre, float))[::-1]  # (k, j, i)
    r = radius_mm / np.array(labels.spacing)[::-1] + 1.0
    shape = np.array(labels.array.shape)
    lo = np.clip(np.floor(c - r), 0, shape).astype(int)
    hi = np.clip(np.ceil(c + r) + 1, 0, shape).astype(int)
    sub = np.asarray(labels.array)[lo[0]:hi[0], lo[1]:hi[1], lo[2]:hi[2]] == label
    pts = labels.index_to_lps((np.argwhere(sub) + lo)[:, ::-1].astype(float))
    return pts[np.linalg.norm(pts - centre, axis=1) < radius_mm]


def root_fields(grid: Grid, annulus: dict, height_mm: float = 30.0, below_mm: float = 12.0,
                margin_mm: float = 10.0, ramp_mm: float = 10.0):
    """Root weight (nz, ny, nx) and unit dilation field (3, nz, ny, nx).

    The weight is 1 from ``below_mm`` under the annulus to ``height_mm`` above it
    and within the annulus radius plus ``margin_mm`` of the axis, falling smoothly
    to 0 over ``ramp_mm``; generous, because the root travels with the base
    (several mm) through this fixed region while the flow runs. The dilation field is ``weight * (x - axis)`` (in-plane radial
    vector): its flow for unit time with coefficient ``e`` scales the cross-section
    by ``exp(e)``.
    """
    nodes = grid.nodes_lps()
    c = np.asarray(annulus["centre_lps"], float)
    n = np.asarray(annulus["normal_lps"], float)
    d = nodes - c
    h = d @ n
    radial = d - h[..., None] * n
    rho = np.linalg.norm(radial, axis=-1)
    r_plateau = float(annulus["radius_mm"]) + margin_mm
    weight = _plateau(h, -below_mm, height_mm, ramp_mm) * _plateau(rho, -1.0, r_plateau, ramp_mm)
    dil = np.moveaxis(radial * weight[..., None], -1, 0)
    return weight.astype(np.float32), dil.astype(np.float32)


def freeze_in_root(basis: np.ndarray, grid: Grid, weight: np.ndarray, centre) -> np.ndarray:
    """Blend a field towards its value at ``centre`` where ``weight`` is 1."""
    at_centre = interpolate(basis, grid, np.asarray(centre, float)[None])[:, 0]
    return (basis - weight[None] * (basis - at_centre[:, None, None, None])).astype(np.float32)


class VolumeSolver:
    """Broyden's method shared by all phases: coefficients for target log volume ratios.

    ``r(a)`` (log volume ratios of the chambers) is close to ``-a`` (the flow
    is incompressible outside the chambers); the Jacobian estimate starts
    there and is refined by rank-one updates from every evaluation, so later
    phases start from the nearest solved phase with a good slope.
    """

    def __init__(self, k: int) -> None:
        self.jac = -np.eye(k)
        self.points: list[tuple[np.ndarray, np.ndarray]] = []

    def guess(self, tau: np.ndarray, last=None) -> np.ndarray:
        """Next coefficients: a Newton step from ``last`` (or the nearest evaluation)."""
        if last is None:
            if not self.points:
                return -np.asarray(tau, float)
            last = min(self.points, key=lambda p: float(np.abs(p[1] - tau).max()))
        a, r = last
        step = np.linalg.lstsq(self.jac, tau - r, rcond=1e-6)[0]
        return a + step

    def add(self, a: np.ndarray, r: np.ndarray, previous=None) -> None:
        """Record an evaluation; update the Jacobian from ``previous`` (a, r) if given."""
        if previous is not None:
            da, dr = a - previous[0], r - previous[1]
            if float(da @ da) > 1e-12:
                self.jac = self.jac + np.outer(dr - self.jac @ da, da) / float(da @ da)
        self.points.append((a.copy(), r.copy()))


def fit_phase(basis, grid, samples, v_ct, tau, coeffs_row, solver, tol, progress,
              max_iter=12):
    """Chamber coefficients of one phase: flow, measure volumes, Broyden step.

    ``samples`` is a :class:`~.deform.RegionVolumes` of the ``k`` chambers. Fills
    ``coeffs_row[:k]`` and returns the phase's displacement and chamber volumes
    (mm3); raises ProcessingError if the volumes cannot be reached.
    """
    k = samples.n_regions
    last = None
    for _ in range(max_iter):
        jobs.check(progress)
        anchor = last if last is not None else (
            min(solver.points, key=lambda p: float(np.abs(p[1] - tau).max()))
            if solver.points else None)
        coeffs_row[:k] = solver.guess(tau, anchor)
        v = np.tensordot(coeffs_row.astype(np.float32), basis, axes=1)
        u = deform.exponentiate(v, grid)
        vols = samples.volumes(u)
        r = np.log(vols / v_ct)
        solver.add(coeffs_row[:k], r, anchor)
        last = solver.points[-1]
        if np.max(np.abs(np.exp(r - tau) - 1.0)) < tol:
            return u, vols
    raise ProcessingError("The heart motion cannot reach the requested chamber volumes; "
                          "check that the volume curves are plausible for this anatomy.")
