"""Smooth displacement fields on a coarse grid: evaluation, Jacobian, inversion, warping.

Heart motion is stored as displacement vectors (LPS mm) at the nodes of a
coarse regular grid (:class:`Grid`, a few mm) and read anywhere by trilinear
interpolation; outside the grid the value of the nearest boundary node is
used. The forward map of a phase takes a point ``x`` of the reference (CT)
anatomy to ``x + u(x)``.

* :func:`interpolate` evaluates many fields (channels) at once, so the
  trilinear weights of a point set are computed once for every phase;
* :func:`jacobian_min` is the smallest determinant of the map's Jacobian over
  the grid, taken at the eight corners and the centre of every cell, with the
  one-sided derivatives of the trilinear interpolant;
* :class:`RegionVolumes` integrates the Jacobian determinant over the
  points of several regions (chamber volumes) with one sparse product;
* :func:`exponentiate` turns a stationary velocity field into the
  displacement of its flow (invertible by construction); :func:`invert`
  inverts a displacement node by node with Newton's method (registration fields);
* :mod:`.label_warp` resamples a label map through the inverse map.

Sparse interpolation matrices are applied to one channel at a time: scipy's
sparse product with a single vector is several times faster than with a
block of columns.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage, sparse

from ..errors import ProcessingError
from ..imaging.volume import Volume

#: the 8 corners of a cell as (dz, dy, dx)
_CORNERS = [(dz, dy, dx) for dz in (0, 1) for dy in (0, 1) for dx in (0, 1)]


@dataclass
class Grid:
    """A regular grid of nodes with isotropic spacing ``spacing`` (mm).

    ``lps = origin + direction @ (spacing * (i, j, k))``; arrays on the grid are
    indexed (k, j, i) = (z, y, x) like :class:`Volume` arrays.
    """

    origin: np.ndarray
    spacing: float
    direction: np.ndarray
    shape: tuple[int, int, int]

    def __post_init__(self) -> None:
        self.origin = np.asarray(self.origin, float)
        self.direction = np.asarray(self.direction, float).reshape(3, 3)
        self.spacing = float(self.spacing)
        self.shape = tuple(int(n) for n in self.shape)
        if min(self.shape) < 2:
            raise ValueError(f"a displacement grid needs 2 nodes per axis, got {self.shape}")

    @classmethod
    def around(cls, volume: Volume, lo_lps, hi_lps, spacing: float, pad: float) -> "Grid":
        """A grid aligned with ``volume``'s axes covering the LPS box [lo, hi] + ``pad``."""
        corners = np.array([[a[0], b[1], c[2]] for a in (lo_lps, hi_lps) for b in (lo_lps, hi_lps)
                            for c in (lo_lps, hi_lps)], float)
        local = corners @ volume.direction  # coordinates along the volume's axes
        lo = local.min(axis=0) - pad
        hi = local.max(axis=0) + pad
        n = np.maximum(np.ceil((hi - lo) / spacing).astype(int) + 1, 2)
        origin = volume.direction @ lo
        return cls(origin, spacing, volume.direction, (int(n[2]), int(n[1]), int(n[0])))

    @property
    def index_matrix(self) -> np.ndarray:
        """M with d(i, j, k)/d(lps) = M (3x3)."""
        return self.direction.T / self.spacing

    def to_index(self, lps) -> np.ndarray:
        """LPS points (N, 3) -> continuous (i, j, k) node index (N, 3)."""
        return self.to_zyx(lps)[::-1].T

    def to_zyx(self, lps) -> np.ndarray:
        """LPS points (N, 3) -> continuous (k, j, i) array coordinates, shape (3, N)."""
        cols = np.ascontiguousarray(np.asarray(lps, float).reshape(-1, 3).T)
        return self.zyx_from_columns(cols)

    def zyx_from_columns(self, lps_cols: np.ndarray) -> np.ndarray:
        """LPS points as columns (3, N) -> (k, j, i) array coordinates (3, N)."""
        # (3, N) layout: a 3x3 @ (3, N) product is several times faster than (N, 3) @ 3x3
        return self.index_matrix[::-1] @ (lps_cols - self.origin[:, None])

    def nodes_lps(self) -> np.ndarray:
        """LPS position of every node, shape (nz, ny, nx, 3)."""
        k, j, i = np.meshgrid(*(np.arange(n, dtype=float) for n in self.shape), indexing="ij")
        ijk = np.stack([i, j, k], axis=-1) * self.spacing
        return self.origin + ijk @ self.direction.T


def volume_affine(volume: Volume):
    """(A, b) with lps = A @ zyx + b for a volume's (k, j, i) array coordinates as columns."""
    a = (volume.direction * np.asarray(volume.spacing))[:, ::-1]
    return a, np.asarray(volume.origin, float)


def _cell_weights(grid: Grid, q: np.ndarray):
    """Flat corner indices (8, N) and fractional offsets (N, 3) (i, j, k order)."""
    upper = np.array(grid.shape[::-1], float) - 1.0  # (nx, ny, nz) - 1
    q = np.clip(q, 0.0, upper)
    base = np.minimum(np.floor(q), upper - 1).astype(np.intp)
    frac = q - base
    nz, ny, nx = grid.shape
    flat = base[:, 2] * (ny * nx) + base[:, 1] * nx + base[:, 0]
    idx = np.stack([flat + dz * ny * nx + dy * nx + dx for dz, dy, dx in _CORNERS])
    return idx, frac


def trilinear_matrix(shape, zyx: np.ndarray) -> sparse.csr_matrix:
    """Sparse (N, nodes) float32 matrix of trilinear weights at array coordinates (3, N).

    Coordinates are clamped to the grid (nearest boundary value outside).
    Multiply it by one channel at a time (a 1-D vector): scipy's product with
    a single vector is several times faster than with an (nodes, C) block.
    """
    top = np.array(shape, np.float32)[:, None] - 1
    q = np.clip(zyx.astype(np.float32), 0, top)
    base = np.minimum(q.astype(np.int32), (top - 1).astype(np.int32))
    fz, fy, fx = q - base
    gz, gy, gx = (1 - fz, fz), (1 - fy, fy), (1 - fx, fx)
    nz, ny, nx = shape
    flat = (base[0] * ny + base[1]) * nx + base[2]
    n = q.shape[1]
    cols = np.empty((n, 8), np.int32)
    vals = np.empty((n, 8), np.float32)
    for c, (dz, dy, dx) in enumerate(_CORNERS):
        np.add(flat, (dz * ny + dy) * nx + dx, out=cols[:, c])
        np.multiply(gz[dz] * gy[dy], gx[dx], out=vals[:, c])
    ptr = np.arange(0, 8 * n + 1, 8, dtype=np.int32)
    return sparse.csr_matrix((vals.ravel(), cols.ravel(), ptr), shape=(n, nz * ny * nx))


def apply_channels(matrix, channels: np.ndarray) -> np.ndarray:
    """``matrix`` times each row of ``channels`` (C, nodes) -> (C, N) (one vector at a time)."""
    return np.stack([matrix @ np.ascontiguousarray(c) for c in channels])


def interpolate(field: np.ndarray, grid: Grid, points_lps) -> np.ndarray:
    """Trilinear interpolation of ``field`` (C, nz, ny, nx) at LPS points (N, 3) -> (C, N)."""
    return interpolate_zyx(field, grid.to_zyx(points_lps))


def interpolate_zyx(field: np.ndarray, zyx: np.ndarray) -> np.ndarray:
    """Trilinear interpolation of every channel at array coordinates (3, N) -> (C, N).

    Outside the grid the nearest boundary value is used.
    """
    out = np.empty((field.shape[0], zyx.shape[1]), np.float32)
    for c in range(field.shape[0]):
        ndimage.map_coordinates(field[c], zyx, output=out[c], order=1, mode="nearest",
                                prefilter=False)
    return out


def jacobian_min(u: np.ndarray, grid: Grid) -> float:
    """Smallest det of I + grad u over the grid (cell corners and centres).

    With the grid's orthonormal direction ``R`` (columns: the index axes in
    LPS) and spacing ``h``, ``I + grad u = (R + G / h) R^T`` where column ``a``
    of ``G`` is the difference of ``u`` along index axis ``a`` on the cell
    edge through the corner (the one-sided derivative of the trilinear
    interpolant), so ``det = det(R) * det(R + G / h)``: a triple product of
    three columns per corner.

    Parameters
    ----------
    u : ndarray, (3, nz, ny, nx)
        Forward displacement (LPS mm) at the nodes.
    grid : Grid
    """
    rot = grid.direction.astype(np.float32)
    u = np.asarray(u, np.float32) / np.float32(grid.spacing)
    nz, ny, nx = grid.shape
    dx, dy, dz = np.diff(u, axis=3), np.diff(u, axis=2), np.diff(u, axis=1)

    def column(d, a, box):  # R[:, a] + the edge differences, contiguous (3, cells)
        return (d[(slice(None),) + box] + rot[:, a, None, None, None]).reshape(3, -1)

    def cut(c, n):
        return slice(c, c + n - 1)

    col_x = {(cz, cy): column(dx, 0, (cut(cz, nz), cut(cy, ny), slice(None)))
             for cz in (0, 1) for cy in (0, 1)}
    col_y = {(cz, cx): column(dy, 1, (cut(cz, nz), slice(None), cut(cx, nx)))
             for cz in (0, 1) for cx in (0, 1)}
    col_z = {(cy, cx): column(dz, 2, (slice(None), cut(cy, ny), cut(cx, nx)))
             for cy in (0, 1) for cx in (0, 1)}
    dets = [_triple(col_x[cz, cy], col_y[cz, cx], col_z[cy, cx]) for cz, cy, cx in _CORNERS]
    # cell centre: the mean of the corners' edge differences
    dets.append(_triple(*(sum(c.values()) / 4.0 for c in (col_x, col_y, col_z))))
    return float(min(dets)) * float(np.sign(np.linalg.det(grid.direction)))


def _triple(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> float:
    """Smallest det[a b c] over columns given as (3, N) arrays."""
    if not a.size:
        return np.inf
    det = (a[0] * (b[1] * c[2] - b[2] * c[1]) - a[1] * (b[0] * c[2] - b[2] * c[0])
           + a[2] * (b[0] * c[1] - b[1] * c[0]))
    return float(det.min())


def exponentiate(v: np.ndarray, grid: Grid, max_step_cells: float = 0.5) -> np.ndarray:
    """Displacement of the unit-time flow of the stationary velocity ``v`` (scaling and squaring).

    ``v`` is scaled down by ``2**n`` until its largest vector is below
    ``max_step_cells`` grid cells, then the small map is composed with itself
    ``n`` times: a smooth, invertible map (its inverse is the flow of ``-v``).
    Works in grid-index units, where the nodes sit at integer coordinates.
    """
    to_zyx = (grid.index_matrix[::-1]).astype(np.float32)  # LPS mm -> (dk, dj, di)
    w = np.tensordot(to_zyx, v.astype(np.float32), axes=1)
    vmax = float(np.sqrt((w.astype(np.float64) ** 2).sum(axis=0).max()))
    n = int(np.clip(np.ceil(np.log2(max(vmax / max_step_cells, 1.0))), 0, 12)) + 1
    w /= 2.0 ** n
    nodes = np.indices(grid.shape, dtype=np.float32).reshape(3, -1)
    flat = w.reshape(3, -1)
    for _ in range(n):
        flat = flat + apply_channels(trilinear_matrix(grid.shape, nodes + flat), flat)
    w = flat.reshape(w.shape)
    return np.tensordot(np.linalg.inv(to_zyx).astype(np.float32), w, axes=1)


class PointSampler:
    """Trilinear values of grid fields at a fixed point set.

    The interpolation is a sparse matrix (8 weights per point) built once, so
    evaluating any number of fields (every phase) is one sparse-times-dense
    product.
    """

    def __init__(self, grid: Grid, points_lps: np.ndarray) -> None:
        self.points = np.asarray(points_lps, float).reshape(-1, 3)
        self.matrix = trilinear_matrix(grid.shape, grid.to_zyx(self.points))

    def values(self, rows: np.ndarray) -> np.ndarray:
        """(N, C) values of fields given as rows (nodes, C)."""
        return self.matrix @ rows


def field_rows(field: np.ndarray) -> np.ndarray:
    """(C, nz, ny, nx) -> contiguous float32 rows (nodes, C) for :class:`PointSampler`."""
    return np.ascontiguousarray(field.reshape(field.shape[0], -1).T, dtype=np.float32)


class RegionVolumes:
    """Volumes of several regions after a map: sum of weight * det(I + grad u) at their points.

    One sparse matrix stacks the trilinear values and the three index-axis
    derivatives at the points of every region, so each evaluation (every try
    of the volume fit) is a single sparse product.

    Parameters
    ----------
    grid : Grid
    regions : list of (points (N, 3) LPS, weights (N,) mm3)
    fov : Volume, optional
        Points carried outside this volume's field of view are left out (a
        vessel pushed out of the image no longer counts), as in the warped
        label map.
    """

    def __init__(self, grid: Grid, regions, fov: Volume | None = None) -> None:
        pts = np.concatenate([np.asarray(p, float).reshape(-1, 3) for p, _ in regions])
        self.weights = np.concatenate([np.asarray(w, float) for _, w in regions])
        self.region = np.repeat(np.arange(len(regions)), [len(w) for _, w in regions])
        self.n_regions = len(regions)
        self.points = pts
        self.fov = fov
        idx, f = _cell_weights(grid, grid.to_index(pts))
        fx, fy, fz = f[:, 0], f[:, 1], f[:, 2]
        n = len(pts)
        vals = np.empty((4, n, 8))  # value, d/di, d/dj, d/dk
        for c, (dz, dy, dx) in enumerate(_CORNERS):
            wx, wy, wz = (fx if dx else 1 - fx), (fy if dy else 1 - fy), (fz if dz else 1 - fz)
            vals[0, :, c] = wx * wy * wz
            vals[1, :, c] = (1 if dx else -1) * wy * wz
            vals[2, :, c] = wx * (1 if dy else -1) * wz
            vals[3, :, c] = wx * wy * (1 if dz else -1)
        # d/dLPS_b = sum_a M[a, b] d/d(index a): same corners, so the same sparsity
        vals[1:] = np.einsum("ab,anc->bnc", grid.index_matrix, vals[1:])
        cols = np.tile(np.ascontiguousarray(idx.T).ravel(), 4)
        self.matrix = sparse.csr_matrix((vals.astype(np.float32).ravel(), cols,
                                         np.arange(0, 32 * n + 1, 8)),
                                        shape=(4 * n, int(np.prod(grid.shape))))

    def volumes(self, u: np.ndarray) -> np.ndarray:
        """Volume (mm3) of each region under the displacement ``u`` (3, nz, ny, nx) LPS mm."""
        n = len(self.points)
        out = apply_channels(self.matrix, u.reshape(3, -1).astype(np.float32))
        out = out.astype(np.float64).reshape(3, 4, n)  # (comps, value/d_i/d_j/d_k, points)
        w = self.weights
        if self.fov is not None:
            idx = self.fov.lps_to_index(self.points + out[:, 0].T)
            w = w * np.all((idx > -0.5) & (idx < np.array(self.fov.size) - 0.5), axis=1)
        g = out[:, 1:]  # (comps, LPS axes, N): the gradient of u
        g[0, 0] += 1.0
        g[1, 1] += 1.0
        g[2, 2] += 1.0
        det = (g[0, 0] * (g[1, 1] * g[2, 2] - g[1, 2] * g[2, 1])
               - g[0, 1] * (g[1, 0] * g[2, 2] - g[1, 2] * g[2, 0])
               + g[0, 2] * (g[1, 0] * g[2, 1] - g[1, 1] * g[2, 0]))
        return np.bincount(self.region, weights=w * det, minlength=self.n_regions)


def invert(u: np.ndarray, grid: Grid, tol_mm: float = 0.02, max_iter: int = 30) -> np.ndarray:
    """Inverse displacement v on the grid: y + v(y) is the pre-image of node y.

    Solves ``v(y) + u(y + v(y)) = 0`` node by node with Newton's method (in
    grid-index units; the 3x3 Jacobian is that of the trilinear ``u``), steps
    capped at one grid cell. Plain fixed-point iteration ``v = -u(y + v)``
    converges only where ``|grad u| < 1``; a registered field that compresses
    or stretches a chamber wall by more than that needs the Newton steps.

    Raises
    ------
    ProcessingError
        No pre-image within ``tol_mm`` for some node (the motion folds or is too large).
    """
    to_zyx = grid.index_matrix[::-1]
    w = np.tensordot(to_zyx, u.astype(np.float64), axes=1).reshape(3, -1)
    nodes = np.indices(grid.shape, dtype=np.float64).reshape(3, -1)
    v = -w.copy()
    eye = np.eye(3)
    for _ in range(max_iter):
        value, jac = _value_and_jacobian(w, grid.shape, nodes + v)
        res = v + value  # where the pre-image lands, minus the node (index units)
        if float(np.abs(res).max()) * grid.spacing < tol_mm:
            back = np.linalg.inv(to_zyx)
            return np.tensordot(back, v.reshape((3,) + grid.shape), axes=1).astype(np.float32)
        j = np.moveaxis(jac, -1, 0) + eye  # (N, comps, axes)
        ok = np.linalg.det(j) > 1e-3
        step = -res  # fixed-point step where the local map is (nearly) singular
        step[:, ok] = -np.linalg.solve(j[ok], res[:, ok].T[..., None])[..., 0].T
        v += step / np.maximum(np.linalg.norm(step, axis=0), 1.0)
    raise ProcessingError("The heart motion could not be inverted (the deformation is too "
                          "large or folds); check the registration or the volume curves.")


def _value_and_jacobian(flat: np.ndarray, shape, zyx: np.ndarray):
    """Trilinear values (C, N) and derivatives (C, 3, N) along (k, j, i) of fields (C, nodes).

    Clamped to the grid like :func:`interpolate_zyx` (zero derivative across a clamped axis).
    """
    top = np.array(shape, float)[:, None] - 1
    q = np.clip(zyx, 0, top)
    inside = (zyx >= 0) & (zyx <= top)
    base = np.minimum(q.astype(np.intp), (top - 1).astype(np.intp))
    f = q - base
    nz, ny, nx = shape
    idx = (base[0] * ny + base[1]) * nx + base[2]
    g = [(1 - f[a], f[a]) for a in range(3)]
    value = np.zeros((flat.shape[0], zyx.shape[1]))
    jac = np.zeros((flat.shape[0], 3, zyx.shape[1]))
    for dz, dy, dx in _CORNERS:
        corner = flat[:, idx + (dz * ny + dy) * nx + dx]
        wz, wy, wx = g[0][dz], g[1][dy], g[2][dx]
        value += corner * (wz * wy * wx)
        jac[:, 0] += corner * ((2 * dz - 1) * wy * wx)
        jac[:, 1] += corner * (wz * (2 * dy - 1) * wx)
        jac[:, 2] += corner * (wz * wy * (2 * dx - 1))
    return value, jac * inside[None]
