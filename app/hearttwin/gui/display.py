"""Qt-free display geometry and colour mapping for the slice views.

A CT may be stored in any orientation (its ``direction`` matrix). For display
the array is viewed (no copy: transposes and reversed strides) in a
*canonical* order whose axes run along +L, +P and +S, the nearest patient
axes to the stored ones. Planes then follow the radiological convention:

- axial: rows run anterior -> posterior, columns patient right -> left
  (patient left on screen right), seen from the feet;
- coronal: rows superior -> inferior, columns right -> left;
- sagittal: rows superior -> inferior, columns anterior -> posterior.

For an oblique acquisition the nearest axes are used, so the displayed
planes are the stored slices, labelled with the closest patient directions.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

PLANES = ("axial", "coronal", "sagittal")

#: canonical axis (0 = x/L, 1 = y/P, 2 = z/S) held fixed by each plane
FIXED_AXIS = {"axial": 2, "coronal": 1, "sagittal": 0}

#: screen edge letters (top, bottom, left, right) for each plane
EDGE_LETTERS = {
    "axial": ("A", "P", "R", "L"),
    "coronal": ("S", "I", "R", "L"),
    "sagittal": ("S", "I", "A", "P"),
}

#: window/level presets (name -> (window, level) in HU)
PRESETS = {
    "Cardiac CTA": (700.0, 200.0),
    "Mediastinum": (350.0, 40.0),
    "Lung": (1500.0, -600.0),
    "Bone": (2000.0, 500.0),
}
DEFAULT_PRESET = "Cardiac CTA"


@dataclass(frozen=True)
class Reorientation:
    """How the stored (k, j, i) array maps onto canonical (z=S, y=P, x=L) order.

    ``source_axis[c]`` is the stored index axis (0 = i, 1 = j, 2 = k) that
    runs along canonical axis ``c`` (0 = L, 1 = P, 2 = S); ``flipped[c]``
    says whether it runs the opposite way.
    """

    source_axis: tuple[int, int, int]
    flipped: tuple[bool, bool, bool]

    @classmethod
    def from_direction(cls, direction) -> "Reorientation":
        """The permutation of index axes closest to the LPS axes."""
        d = np.asarray(direction, dtype=float).reshape(3, 3)
        best = max(itertools.permutations(range(3)),
                   key=lambda p: sum(abs(d[c, p[c]]) for c in range(3)))
        flipped = tuple(bool(d[c, best[c]] < 0) for c in range(3))
        return cls(tuple(int(a) for a in best), flipped)

    def view(self, array: np.ndarray) -> np.ndarray:
        """A canonical (z, y, x) view of a stored (k, j, i) array (no copy)."""
        # numpy axis of stored index axis a is 2 - a; canonical numpy axis of c is 2 - c
        out = np.transpose(array, [2 - self.source_axis[c] for c in (2, 1, 0)])
        flips = tuple(slice(None, None, -1) if self.flipped[c] else slice(None) for c in (2, 1, 0))
        return out[flips]

    def spacing(self, spacing) -> tuple[float, float, float]:
        """Canonical (x, y, z) spacing from the stored (i, j, k) spacing."""
        return tuple(float(spacing[self.source_axis[c]]) for c in range(3))

    def to_source_index(self, cijk, canonical_size) -> np.ndarray:
        """Canonical (x, y, z) index -> stored (i, j, k) index (continuous)."""
        cijk = np.asarray(cijk, dtype=float)
        out = np.zeros(3)
        for c in range(3):
            v = canonical_size[c] - 1 - cijk[c] if self.flipped[c] else cijk[c]
            out[self.source_axis[c]] = v
        return out


    def to_canonical_index(self, ijk, canonical_size) -> np.ndarray:
        """Stored (i, j, k) index -> canonical (x, y, z) index (continuous)."""
        ijk = np.asarray(ijk, dtype=float)
        out = np.zeros(3)
        for c in range(3):
            v = ijk[self.source_axis[c]]
            out[c] = canonical_size[c] - 1 - v if self.flipped[c] else v
        return out


def plane_image(canonical: np.ndarray, plane: str, index: int) -> np.ndarray:
    """The 2D slice of a canonical (z, y, x) array as displayed (row 0 on top)."""
    if plane == "axial":
        return canonical[index]
    if plane == "coronal":
        return canonical[::-1, index, :]
    if plane == "sagittal":
        return canonical[::-1, :, index]
    raise ValueError(f"unknown plane {plane!r}")


def plane_pixel_mm(plane: str, spacing_xyz) -> tuple[float, float]:
    """(column width, row height) of one displayed pixel in mm."""
    sx, sy, sz = spacing_xyz
    return {"axial": (sx, sy), "coronal": (sx, sz), "sagittal": (sy, sz)}[plane]


def plane_to_canonical(plane: str, col: float, row: float, index: int, size_xyz) -> tuple[float, float, float]:
    """Displayed pixel (col, row) on slice ``index`` -> canonical (x, y, z) index."""
    nz = size_xyz[2]
    if plane == "axial":
        return (col, row, index)
    if plane == "coronal":
        return (col, index, nz - 1 - row)
    if plane == "sagittal":
        return (index, col, nz - 1 - row)
    raise ValueError(f"unknown plane {plane!r}")


def canonical_to_plane(plane: str, cxyz, size_xyz) -> tuple[float, float]:
    """Canonical (x, y, z) index -> displayed (col, row) on that point's slice."""
    x, y, z = cxyz
    nz = size_xyz[2]
    if plane == "axial":
        return (x, y)
    if plane == "coronal":
        return (x, nz - 1 - z)
    if plane == "sagittal":
        return (y, nz - 1 - z)
    raise ValueError(f"unknown plane {plane!r}")


def window_to_grey(values: np.ndarray, window: float, level: float) -> np.ndarray:
    """HU -> 0-255 grey: ``level - window/2`` is black, ``level + window/2`` white."""
    window = max(float(window), 1.0)
    lo = float(level) - window / 2.0
    scaled = (values.astype(np.float32) - lo) * (255.0 / window)
    return np.clip(scaled, 0.0, 255.0).astype(np.uint8)


def colour_table(colours: dict[int, tuple[int, int, int]]) -> np.ndarray:
    """A (256, 3) uint8 lookup table from ``{label: (r, g, b)}``; unknown labels grey."""
    table = np.full((256, 3), 200, np.uint8)
    table[0] = 0
    for label, rgb in colours.items():
        if 0 <= label < 256:
            table[label] = rgb
    return table


def compose_rgb(grey: np.ndarray, labels: np.ndarray | None, table: np.ndarray,
                alpha: np.ndarray | None) -> np.ndarray:
    """Grey slice plus label overlay -> (rows, cols, 3) uint8 RGB.

    ``alpha`` is a (256,) float array of per-label opacity (0 hides a label;
    ``alpha[0]`` is ignored).
    """
    rgb = np.repeat(grey[..., None], 3, axis=2)
    if labels is None or alpha is None:
        return rgb
    a = alpha[labels]
    a[labels == 0] = 0.0
    if not a.any():
        return rgb
    a = a[..., None].astype(np.float32)
    blended = rgb.astype(np.float32) * (1.0 - a) + table[labels].astype(np.float32) * a
    return np.clip(blended + 0.5, 0, 255).astype(np.uint8)
