"""Rasterising shapes into a tissue map and a label map (painter's algorithm).

Structures are painted in priority order: a later step overwrites an earlier
one, optionally only over some tissues or only over unlabelled voxels. One
voxel therefore always has exactly one tissue and at most one heart label.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from .grid import Grid
from .shapes import Shape
from .tissues import Tissue


@dataclass
class Step:
    """One painting step.

    Parameters
    ----------
    name : str
        For progress messages.
    shape : Shape
        Where to paint (signed distance <= 0).
    tissue : Tissue
        Tissue code written.
    label : int or None
        Heart label written (None: keep the existing label).
    over : set of Tissue, optional
        Only replace these tissues.
    unlabelled_only : bool
        Only replace voxels whose label is 0.
    """

    name: str
    shape: Shape
    tissue: Tissue
    label: int | None = 0
    over: frozenset | None = None
    unlabelled_only: bool = False


@dataclass
class Separation:
    """Keep blood pools that do not communicate apart by a wall.

    Real chambers and vessels touch only at valves; elsewhere a wall (atrial
    wall, adventitia, fat) at least ``gap_mm`` thick lies between two blood
    pools even where their idealised shapes overlap. For each ``(a, b)`` in
    ``pairs``, voxels of label ``a`` within ``gap_mm`` of label ``b`` become
    ``tissue`` with label 0 (``a`` is the structure that yields).
    """

    name: str
    pairs: tuple[tuple[int, int], ...]
    gap_mm: float
    tissue: Tissue


class Canvas:
    """The tissue and label arrays being painted (both uint8, (z, y, x))."""

    def __init__(self, grid: Grid) -> None:
        self.grid = grid
        self.tissue = np.zeros(grid.shape, dtype=np.uint8)
        self.label = np.zeros(grid.shape, dtype=np.uint8)

    def copy(self) -> "Canvas":
        out = Canvas.__new__(Canvas)
        out.grid, out.tissue, out.label = self.grid, self.tissue.copy(), self.label.copy()
        return out

    def separate(self, sep: Separation) -> int:
        """Apply a :class:`Separation`; returns the number of voxels turned into wall."""
        spacing_zyx = np.asarray(self.grid.spacing, dtype=float)[::-1]
        pad = np.ceil(sep.gap_mm / spacing_zyx).astype(int) + 1
        changed = 0
        for a, b in sep.pairs:
            near_b = self.label == b
            if not near_b.any():
                continue
            lo = np.maximum(np.argwhere(near_b).min(axis=0) - pad, 0)
            hi = np.minimum(np.argwhere(near_b).max(axis=0) + pad + 1, self.label.shape)
            box = tuple(slice(int(l), int(h)) for l, h in zip(lo, hi))
            lab = self.label[box]
            yielding = lab == a
            if not yielding.any():
                continue
            dist = ndimage.distance_transform_edt(lab != b, sampling=spacing_zyx)
            carve = yielding & (dist <= sep.gap_mm)
            lab[carve] = 0
            self.tissue[box][carve] = np.uint8(sep.tissue)
            changed += int(np.count_nonzero(carve))
        return changed

    def paint(self, step: Step) -> int:
        """Apply ``step``; returns the number of voxels written."""
        box = self.grid.box(step.shape.lo, step.shape.hi)
        if box is None:
            return 0
        mask = step.shape.sdf(box) <= 0.0
        tissue = self.tissue[box.slices]
        label = self.label[box.slices]
        if step.over is not None:
            mask &= np.isin(tissue, np.fromiter(step.over, dtype=np.uint8))
        if step.unlabelled_only:
            mask &= label == 0
        tissue[mask] = np.uint8(step.tissue)
        if step.label is not None:
            label[mask] = np.uint8(step.label)
        return int(np.count_nonzero(mask))


def paint_all(canvas: Canvas, steps, progress_cb=None) -> None:
    """Paint ``steps`` in order, calling ``progress_cb(i, n, name)`` before each."""
    steps = list(steps)
    for i, step in enumerate(steps):
        if progress_cb is not None:
            progress_cb(i, len(steps), step.name)
        if isinstance(step, Separation):
            canvas.separate(step)
        else:
            canvas.paint(step)


SOFT_OVER = frozenset({Tissue.FAT, Tissue.SOFT, Tissue.LUNG})
