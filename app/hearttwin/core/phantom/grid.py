"""The voxel grid of a phantom and rectangular sub-boxes of it.

The phantom is generated on an axial grid (direction = identity in LPS), so
the LPS coordinate of every voxel is separable: ``x`` depends only on the
column, ``y`` on the row, ``z`` on the slice. A :class:`Box` keeps the three
coordinate axes as broadcastable 1D arrays, which lets shapes be evaluated
with numpy broadcasting on just the voxels near them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Grid:
    """An axial voxel grid in LPS millimetres.

    Parameters
    ----------
    shape : tuple of int
        Array shape (nz, ny, nx).
    spacing : tuple of float
        Voxel size (sx, sy, sz) in mm.
    origin : tuple of float
        LPS position of voxel (0, 0, 0) in mm.
    """

    shape: tuple[int, int, int]
    spacing: tuple[float, float, float]
    origin: tuple[float, float, float]

    @classmethod
    def centred(cls, size, spacing, centre) -> "Grid":
        """A grid of ``size`` (nx, ny, nz) voxels whose centre is at ``centre`` (LPS)."""
        size = np.asarray(size, dtype=int)
        spacing = np.asarray(spacing, dtype=float)
        origin = np.asarray(centre, dtype=float) - 0.5 * (size - 1) * spacing
        return cls(
            shape=(int(size[2]), int(size[1]), int(size[0])),
            spacing=tuple(float(s) for s in spacing),
            origin=tuple(float(o) for o in origin),
        )

    @property
    def size(self) -> tuple[int, int, int]:
        """(nx, ny, nz), the SimpleITK order."""
        return self.shape[2], self.shape[1], self.shape[0]

    @property
    def voxel_volume_mm3(self) -> float:
        return float(np.prod(self.spacing))

    def axis(self, dim: int) -> np.ndarray:
        """LPS coordinates (mm) along world axis ``dim`` (0 = x, 1 = y, 2 = z)."""
        n = self.size[dim]
        return (self.origin[dim] + self.spacing[dim] * np.arange(n)).astype(np.float32)

    def full(self) -> "Box":
        return self.box(self.lower, self.upper)

    @property
    def lower(self) -> np.ndarray:
        return np.asarray(self.origin)

    @property
    def upper(self) -> np.ndarray:
        return np.asarray(self.origin) + (np.asarray(self.size) - 1) * np.asarray(self.spacing)

    def box(self, lo, hi) -> "Box | None":
        """The voxels whose centres lie in the LPS box [lo, hi]; None if empty."""
        lo = np.asarray(lo, dtype=float)
        hi = np.asarray(hi, dtype=float)
        org = np.asarray(self.origin)
        sp = np.asarray(self.spacing)
        start = np.maximum(np.ceil((lo - org) / sp - 1e-6), 0).astype(int)
        stop = np.minimum(np.floor((hi - org) / sp + 1e-6) + 1, self.size).astype(int)
        if np.any(stop <= start):
            return None
        return Box(self, (int(start[2]), int(start[1]), int(start[0])),
                   (int(stop[2]), int(stop[1]), int(stop[0])))


class Box:
    """A rectangular block of a :class:`Grid` with broadcastable coordinates.

    ``x``, ``y`` and ``z`` have shapes (1, 1, nx), (1, ny, 1) and (nz, 1, 1)
    so that any expression of them broadcasts to :attr:`shape`.
    """

    def __init__(self, grid: Grid, start, stop) -> None:
        self.grid = grid
        self.start = tuple(start)  # (k, j, i)
        self.stop = tuple(stop)
        kz, jy, ix = (slice(a, b) for a, b in zip(self.start, self.stop))
        self.slices = (kz, jy, ix)
        self.x = grid.axis(0)[ix][None, None, :]
        self.y = grid.axis(1)[jy][None, :, None]
        self.z = grid.axis(2)[kz][:, None, None]

    @property
    def shape(self) -> tuple[int, int, int]:
        return tuple(b - a for a, b in zip(self.start, self.stop))

    def sub(self, lo, hi) -> "Box | None":
        """The part of this box inside the LPS box [lo, hi]; None if empty."""
        other = self.grid.box(lo, hi)
        if other is None:
            return None
        start = tuple(max(a, b) for a, b in zip(self.start, other.start))
        stop = tuple(min(a, b) for a, b in zip(self.stop, other.stop))
        if any(b <= a for a, b in zip(start, stop)):
            return None
        return Box(self.grid, start, stop)

    def within(self, outer: "Box") -> tuple[slice, slice, slice]:
        """Index slices of this box inside the array of ``outer``."""
        return tuple(slice(a - o, b - o) for a, b, o in zip(self.start, self.stop, outer.start))

    def centred(self, point) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Coordinates relative to ``point`` (broadcastable, float32)."""
        p = np.asarray(point, dtype=np.float32)
        return self.x - p[0], self.y - p[1], self.z - p[2]
