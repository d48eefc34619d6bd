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
* :func:`exponentiate` turns a stationary velocity field into the
  displacement of its flow (invertible by construction); :func:`invert`
  inverts a displacement by fixed-point iteration (registration fields);
* :mod:`.label_warp` resamples a label map through the inverse map.
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
    """
    top = np.array(shape, np.float32)[:, None] - 1
    q = np.clip(zyx.astype(np.float32), 0, top)
    base = np.minimum(q.astype(np.int64), (top - 1).astype(np.int64))
    fz, fy, fx = q - base
    nz, ny, nx = shape
    flat = (base[0] * ny + base[1]) * nx + base[2]
    n = q.shape[1]
    cols = np.empty((n, 8), np.int64)
    vals = np.empty((n, 8), np.float32)
    for c, (dz, dy, dx) in enumerate(_CORNERS):
        cols[:, c] = flat + (dz * ny + dy) * nx + dx
        vals[:, c] = (fz if dz else 1 - fz) * (fy if dy else 1 - fy) * (fx if dx else 1 - fx)
    return sparse.csr_matrix((vals.ravel(), cols.ravel(), np.arange(0, 8 * n + 1, 8)),
                             shape=(n, nz * ny * nx))


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

    Parameters
    ----------
    u : ndarray, (3, nz, ny, nx)
        Forward displacement (LPS mm) at the nodes.
    grid : Grid
    """
    m = grid.index_matrix
    dx = np.diff(u, axis=3)  # on x edges: (3, nz, ny, nx-1)
    dy = np.diff(u, axis=2)
    dz = np.diff(u, axis=1)
    nz, ny, nx = grid.shape
    best = np.inf
    cols_sum = None
    for cz, cy, cx in _CORNERS:
        gx = dx[:, cz:cz + nz - 1, cy:cy + ny - 1, :]
        gy = dy[:, cz:cz + nz - 1, :, cx:cx + nx - 1]
        gz = dz[:, :, cy:cy + ny - 1, cx:cx + nx - 1]
        cols = np.stack([gx, gy, gz], axis=1)  # (3 comps, 3 index axes, cells...)
        cols_sum = cols if cols_sum is None else cols_sum + cols
        best = min(best, _det_min(cols, m))
    return float(min(best, _det_min(cols_sum / 8.0, m)))


def _det_min(g_index: np.ndarray, m: np.ndarray) -> float:
    j = np.einsum("abn,bc->acn", g_index.reshape(3, 3, -1), m)
    j[0, 0] += 1.0
    j[1, 1] += 1.0
    j[2, 2] += 1.0
    det = (j[0, 0] * (j[1, 1] * j[2, 2] - j[1, 2] * j[2, 1])
           - j[0, 1] * (j[1, 0] * j[2, 2] - j[1, 2] * j[2, 0])
           + j[0, 2] * (j[1, 0] * j[2, 1] - j[1, 1] * j[2, 0]))
    return float(det.min()) if det.size else np.inf


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
    rows = np.ascontiguousarray(w.reshape(3, -1).T)  # (nodes, 3)
    for _ in range(n):
        rows = rows + trilinear_matrix(grid.shape, nodes + rows.T) @ rows
    w = rows.T.reshape(w.shape)
    return np.tensordot(np.linalg.inv(to_zyx).astype(np.float32), w, axes=1)


class PointSampler:
    """Trilinear values and gradients of grid fields at a fixed point set.

    The interpolation is a sparse matrix (8 weights per point) built once, so
    evaluating any number of fields (every phase, every try of the volume
    fit) is one sparse-times-dense product.
    """

    def __init__(self, grid: Grid, points_lps: np.ndarray) -> None:
        self.points = np.asarray(points_lps, float).reshape(-1, 3)
        idx, f = _cell_weights(grid, grid.to_index(self.points))
        fx, fy, fz = f[:, 0], f[:, 1], f[:, 2]
        n = len(f)
        w = np.empty((n, 8))
        d = np.empty((3, n, 8))
        for c, (dz, dy, dx) in enumerate(_CORNERS):
            wx, wy, wz = (fx if dx else 1 - fx), (fy if dy else 1 - fy), (fz if dz else 1 - fz)
            w[:, c] = wx * wy * wz
            d[0, :, c] = (1 if dx else -1) * wy * wz
            d[1, :, c] = wx * (1 if dy else -1) * wz
            d[2, :, c] = wx * wy * (1 if dz else -1)
        size = int(np.prod(grid.shape))
        cols = np.ascontiguousarray(idx.T).ravel()
        ptr = np.arange(0, 8 * n + 1, 8)

        def csr(vals):
            return sparse.csr_matrix((vals.ravel().astype(np.float32), cols, ptr), shape=(n, size))

        self.matrix = csr(w)
        self._d = d  # derivative weights, turned into matrices on first use
        self._csr = csr
        self._d_index = None
        self._m = grid.index_matrix

    def values(self, rows: np.ndarray) -> np.ndarray:
        """(N, C) values of fields given as rows (nodes, C)."""
        return self.matrix @ rows

    def gradients(self, rows: np.ndarray) -> np.ndarray:
        """(N, C, 3) LPS gradients of fields given as rows (nodes, C)."""
        if self._d_index is None:
            self._d_index = [self._csr(self._d[a]) for a in range(3)]  # d/di, d/dj, d/dk
            self._d = None
        g = np.stack([m @ rows for m in self._d_index], axis=-1)  # d/d(index)
        return g @ self._m.astype(np.float32)


def field_rows(field: np.ndarray) -> np.ndarray:
    """(C, nz, ny, nx) -> contiguous float32 rows (nodes, C) for :class:`PointSampler`."""
    return np.ascontiguousarray(field.reshape(field.shape[0], -1).T, dtype=np.float32)


def chamber_volume(rows: np.ndarray, sampler: PointSampler, weights: np.ndarray,
                   fov: Volume | None = None) -> float:
    """Volume (mm3) of a region after the map: sum of weight * det(I + grad u) at its points.

    ``rows`` is the displacement as :func:`field_rows`. With ``fov``, points
    carried outside that volume's field of view are left out (a vessel pushed
    out of the image no longer counts), as in the warped label map.
    """
    w = weights
    if fov is not None:
        moved = sampler.points + sampler.values(rows)
        idx = fov.lps_to_index(moved)
        w = w * np.all((idx > -0.5) & (idx < np.array(fov.size) - 0.5), axis=1)
    g = sampler.gradients(rows)
    g[:, 0, 0] += 1.0
    g[:, 1, 1] += 1.0
    g[:, 2, 2] += 1.0
    det = (g[:, 0, 0] * (g[:, 1, 1] * g[:, 2, 2] - g[:, 1, 2] * g[:, 2, 1])
           - g[:, 0, 1] * (g[:, 1, 0] * g[:, 2, 2] - g[:, 1, 2] * g[:, 2, 0])
           + g[:, 0, 2] * (g[:, 1, 0] * g[:, 2, 1] - g[:, 1, 1] * g[:, 2, 0]))
    return float(w @ det)


def invert(u: np.ndarray, grid: Grid, tol_mm: float = 0.02, max_iter: int = 50) -> np.ndarray:
    """Inverse displacement v on the grid: y + v(y) is the pre-image of node y.

    Solves ``v(y) = -u(y + v(y))`` by fixed-point iteration (in grid-index
    units), which converges where the map is a mild perturbation of the
    identity (|grad u| < 1).

    Raises
    ------
    ProcessingError
        The iteration does not converge (the motion folds or is too large).
    """
    to_zyx = grid.index_matrix[::-1].astype(np.float32)
    w = np.tensordot(to_zyx, u.astype(np.float32), axes=1)
    nodes = np.indices(grid.shape, dtype=np.float32).reshape(3, -1)
    v = -w.reshape(3, -1)
    for _ in range(max_iter):
        new = -interpolate_zyx(w, nodes + v)
        step = float(np.abs(new - v).max()) * grid.spacing
        v = new
        if step < tol_mm:
            back = np.linalg.inv(to_zyx).astype(np.float32)
            return np.tensordot(back, v.reshape(w.shape), axes=1)
    raise ProcessingError("The heart motion could not be inverted (the deformation is too "
                          "large or folds); check the registration or the volume curves.")
