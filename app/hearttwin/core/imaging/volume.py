"""The Volume: a 3D image in the DICOM patient frame (LPS, millimetres).

Arrays are indexed (z, y, x) as SimpleITK's ``GetArrayFromImage`` gives them.
``spacing`` and ``origin`` are in (x, y, z) order; ``direction`` is a 3x3
matrix whose *columns* are the LPS unit vectors of the i (column), j (row)
and k (slice) index axes, so ``lps = origin + direction @ (spacing * ijk)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class Volume:
    array: np.ndarray
    spacing: tuple[float, float, float]
    origin: tuple[float, float, float] = (0.0, 0.0, 0.0)
    direction: np.ndarray = field(default_factory=lambda: np.eye(3))
    #: free-form, non-identifying metadata (modality, series description, ...)
    meta: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.array = np.asarray(self.array)
        if self.array.ndim != 3:
            raise ValueError(f"a Volume needs a 3D array, got shape {self.array.shape}")
        self.spacing = tuple(float(s) for s in self.spacing)
        self.origin = tuple(float(o) for o in self.origin)
        self.direction = np.asarray(self.direction, dtype=float).reshape(3, 3)

    @property
    def size(self) -> tuple[int, int, int]:
        """(nx, ny, nz), the SimpleITK order."""
        nz, ny, nx = self.array.shape
        return nx, ny, nz

    @property
    def voxel_volume_mm3(self) -> float:
        return float(np.prod(self.spacing))

    def index_to_lps(self, ijk) -> np.ndarray:
        """Continuous (i, j, k) index (x, y, z order) -> LPS mm. Accepts (..., 3)."""
        ijk = np.asarray(ijk, dtype=float)
        return np.asarray(self.origin) + (ijk * np.asarray(self.spacing)) @ self.direction.T

    def lps_to_index(self, lps) -> np.ndarray:
        """LPS mm -> continuous (i, j, k) index. Accepts (..., 3)."""
        lps = np.asarray(lps, dtype=float)
        return ((lps - np.asarray(self.origin)) @ self.direction) / np.asarray(self.spacing)

    def to_sitk(self):
        import SimpleITK as sitk

        img = sitk.GetImageFromArray(np.ascontiguousarray(self.array))
        img.SetSpacing(self.spacing)
        img.SetOrigin(self.origin)
        img.SetDirection(tuple(self.direction.ravel()))
        return img

    @classmethod
    def from_sitk(cls, img, meta: dict | None = None) -> "Volume":
        import SimpleITK as sitk

        if img.GetDimension() != 3:
            raise ValueError(f"expected a 3D image, got {img.GetDimension()}D")
        return cls(
            array=sitk.GetArrayFromImage(img),
            spacing=img.GetSpacing(),
            origin=img.GetOrigin(),
            direction=np.array(img.GetDirection()).reshape(3, 3),
            meta=dict(meta or {}),
        )
