"""The anatomy around a device as a signed distance field in millimetres.

A placed device is checked against the lumen it sits in (the aortic root,
the mitral orifice, the appendage, ...) hundreds of times while the user
drags it. Instead of querying a surface mesh each time, the label map is
turned once into a signed distance field (:class:`AnatomyField`):

* positive inside the lumen (the blood space the device sits in): the
  distance to the nearest wall; negative outside it (tissue, other
  cavities, background): minus the distance to the lumen;
* computed once, each side by SimpleITK's threaded Maurer exact Euclidean
  distance transform with the voxel spacing (the distance from a voxel
  centre to the nearest centre on the other side), less half a voxel (half
  the mean spacing), so the zero level runs half-way between a lumen and a
  tissue voxel, on the boundary of the voxelised structure (about 0.15 mm
  RMS on smooth shapes at 0.5-0.8 mm voxels; a direction-aware half voxel
  was measured no better). SimpleITK rather than
  ``scipy.ndimage.distance_transform_edt``: 4-5 times faster here;
* optionally cropped to a sphere of interest (``centre_lps`` + ``radius_mm``)
  grown by ``margin_mm``: distances are exact up to ``margin_mm`` beyond the
  sphere and anywhere inside it up to that margin;
* sampled anywhere by vectorised trilinear interpolation (outside the crop:
  the value of the nearest crop voxel). Near the wall, where fit metrics are
  read, that is accurate; far from it, on the medial axis where the distance
  peaks, interpolation reads up to about half a voxel low.

Next to the distance the field keeps the (cropped) label map, so a point can
be told to lie in, or face, myocardium (label 5) or another wall:
:meth:`AnatomyField.label_at` reads the label at a point outside the lumen,
and for a point inside it the label just beyond the nearest wall (the point
moved down the distance gradient by its distance plus one voxel).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import jobs
from ..errors import InputError
from ..imaging.volume import Volume

#: distance margin (mm) added around a region of interest by default
DEFAULT_MARGIN_MM = 10.0

#: named lumen label sets (DESIGN.md labels) by device position
LUMEN_LABELS = {
    "aortic": (1, 6), "mitral": (1, 3), "laa": (3,), "septal": (3, 4),
    "pulmonary": (2, 7), "vessel": (6,),
}


@dataclass
class AnatomyField:
    """A signed distance field (mm) to a lumen, in LPS, with the labels around it.

    Attributes
    ----------
    distance : ndarray of float32, (z, y, x)
        Signed distance (mm): > 0 in the lumen, < 0 outside it.
    labels : ndarray of uint8, (z, y, x)
        The label map on the same grid; labels neither lumen nor in
        ``tissue_labels`` read 0.
    origin, spacing, direction
        Geometry of the (cropped) grid, as in :class:`Volume`.
    lumen_labels : tuple of int
        Labels that make the lumen.
    """

    distance: np.ndarray
    labels: np.ndarray
    origin: np.ndarray
    spacing: np.ndarray
    direction: np.ndarray
    lumen_labels: tuple

    def __post_init__(self) -> None:
        self.origin = np.asarray(self.origin, float)
        self.spacing = np.asarray(self.spacing, float)
        self.direction = np.asarray(self.direction, float).reshape(3, 3)
        if min(self.distance.shape) < 2:
            # trilinear cells need two samples per axis: repeat a single slice
            pad = [(0, max(0, 2 - n)) for n in self.distance.shape]
            self.distance = np.pad(self.distance, pad, mode="edge")
            self.labels = np.pad(self.labels, pad, mode="edge")
        # LPS -> continuous (z, y, x) index as one affine map: zyx = p @ A + b
        a = (self.direction / self.spacing)[:, ::-1]
        self._a = a
        self._b = -self.origin @ a
        self._flat = np.ascontiguousarray(self.distance, dtype=np.float32).ravel()
        self._labels_flat = np.ascontiguousarray(self.labels).ravel()
        self._lumen_lut = np.isin(np.arange(256), self.lumen_labels)
        self._half_voxel = 0.5 * float(self.spacing.mean())
        nz, ny, nx = self.distance.shape
        self._strides = (ny * nx, nx)
        self._upper = np.array([nz - 1, ny - 1, nx - 1], float)
        self._last_cell = np.maximum(self._upper.astype(np.intp) - 1, 0)

    @classmethod
    def from_labels(cls, labels: Volume, lumen_labels, tissue_labels=None, *,
                    centre_lps=None, radius_mm: float | None = None,
                    margin_mm: float = DEFAULT_MARGIN_MM, progress=None) -> "AnatomyField":
        """Build the field from a label map.

        Parameters
        ----------
        labels : Volume
            Integer label map (DESIGN.md labels).
        lumen_labels : iterable of int or str
            Labels of the blood space the device sits in, or a position name
            from :data:`LUMEN_LABELS` (``"aortic"`` -> {1, 6}, ...).
        tissue_labels : iterable of int, optional
            Labels reported by name by :meth:`label_at`; other non-lumen
            labels read 0 ("other"). Default: every label.
        centre_lps, radius_mm : optional
            Region of interest: the grid is cropped to the box around this
            sphere grown by ``margin_mm``. Default: the whole label map.
        margin_mm : float
            Extra border (mm) around the region of interest; distances are
            exact up to this far beyond the sphere.
        progress : Progress, optional
            Cancel/progress protocol of :mod:`hearttwin.core.jobs`.

        Returns
        -------
        AnatomyField

        Raises
        ------
        InputError
            The lumen labels are absent from the (cropped) label map.
        """
        if isinstance(lumen_labels, str):
            if lumen_labels not in LUMEN_LABELS:
                raise InputError(f"Unknown device position {lumen_labels!r}; choose one of "
                                 f"{', '.join(LUMEN_LABELS)}.")
            lumen_labels = LUMEN_LABELS[lumen_labels]
        lumen_labels = tuple(int(v) for v in lumen_labels)
        arr = np.asarray(labels.array)
        lo = np.zeros(3, int)
        if centre_lps is not None and radius_mm is not None:
            lo, hi = _crop_box(labels, centre_lps, float(radius_mm) + float(margin_mm))
            arr = arr[lo[0]:hi[0], lo[1]:hi[1], lo[2]:hi[2]]
        jobs.check(progress)
        lumen = np.isin(arr, lumen_labels)
        if not lumen.any():
            where = " within the region of interest" if lo.any() or arr.shape != labels.array.shape else ""
            raise InputError(f"The label map has no voxel of labels {sorted(lumen_labels)}{where}: "
                             f"the device's lumen is missing; check the segmentation.")
        if lumen.all():
            raise InputError(f"The label map is all lumen (labels {sorted(lumen_labels)}) around the "
                             f"device: no wall to fit against; enlarge the region or check the labels.")
        keep = arr < 256 if tissue_labels is None else np.isin(arr, lumen_labels + tuple(tissue_labels))
        names = np.where(keep, arr, 0).astype(np.uint8)
        distance = _signed_distance(lumen, labels.spacing, progress)
        origin = labels.index_to_lps(lo[::-1].astype(float))
        return cls(distance, names, origin, labels.spacing, labels.direction, lumen_labels)

    # -- queries ---------------------------------------------------------
    def to_index(self, points_lps) -> np.ndarray:
        """LPS points (..., 3) -> continuous (z, y, x) grid indices."""
        return np.asarray(points_lps, float) @ self._a + self._b

    def sample(self, points_lps) -> np.ndarray:
        """Signed distances (mm) at LPS points (..., 3), trilinear; clamped to the grid."""
        pts = np.asarray(points_lps, float)
        q = pts.reshape(-1, 3) @ self._a
        q += self._b
        np.maximum(q, 0.0, out=q)          # clamp to the grid (np.clip is slower)
        np.minimum(q, self._upper, out=q)
        i = q.astype(np.intp)
        np.minimum(i, self._last_cell, out=i)
        f = (q - i).astype(np.float32)
        s1, s2 = self._strides
        base = i[:, 0] * s1 + i[:, 1] * s2 + i[:, 2]
        d = self._flat
        fx, fy, fz = f[:, 2], f[:, 1], f[:, 0]
        c00 = d[base] + fx * (d[base + 1] - d[base])
        c01 = d[base + s2] + fx * (d[base + s2 + 1] - d[base + s2])
        c10 = d[base + s1] + fx * (d[base + s1 + 1] - d[base + s1])
        c11 = d[base + s1 + s2] + fx * (d[base + s1 + s2 + 1] - d[base + s1 + s2])
        c0 = c00 + fy * (c01 - c00)
        c1 = c10 + fy * (c11 - c10)
        return (c0 + fz * (c1 - c0)).astype(float).reshape(pts.shape[:-1])

    def label_at(self, points_lps) -> np.ndarray:
        """Tissue label at LPS points (..., 3): at the point outside the lumen, else beyond the nearest wall.

        Points in the lumen are moved down the distance gradient by their
        distance plus one voxel; 0 where that does not leave the lumen
        (e.g. on the medial axis) or the label is not a named tissue.
        """
        pts = np.asarray(points_lps, float)
        flat = pts.reshape(-1, 3).copy()
        d = self.sample(flat)
        inside = d > 0
        if inside.any():
            p = flat[inside]
            step = self._half_voxel
            grad = np.stack([self.sample(p + step * e) - self.sample(p - step * e) for e in np.eye(3)], axis=-1)
            norm = np.linalg.norm(grad, axis=1, keepdims=True)
            flat[inside] = p - (d[inside] + 2 * self._half_voxel)[:, None] * grad / np.maximum(norm, 1e-9)
        q = np.clip(np.rint(flat @ self._a + self._b), 0, self._upper).astype(np.intp)
        s1, s2 = self._strides
        lab = self._labels_flat[q[:, 0] * s1 + q[:, 1] * s2 + q[:, 2]]
        lab = np.where(self._lumen_lut[lab], 0, lab)
        return lab.reshape(pts.shape[:-1])

    def as_volume(self) -> Volume:
        """The distance grid as a :class:`Volume` (float32 mm), e.g. to look at it."""
        return Volume(self.distance, tuple(self.spacing), tuple(self.origin), self.direction,
                      meta={"kind": "signed distance mm", "lumen_labels": list(self.lumen_labels)})


def _signed_distance(lumen: np.ndarray, spacing, progress=None) -> np.ndarray:
    """Signed distance (mm, float32, > 0 in ``lumen``) to the boundary of the voxelised mask."""
    def part(i):
        return None if progress is None else jobs.SubProgress(progress, i, i + 1, 2)

    lumen_side = _distance_to(~lumen, spacing, part(0))  # distances within the lumen
    tissue_side = _distance_to(lumen, spacing, part(1))
    half = np.float32(0.5 * float(np.mean(spacing)))
    # centre-to-centre distances; the voxel boundary lies half a voxel short of the nearest centre
    return np.where(lumen, lumen_side - half, half - tissue_side).astype(np.float32)


def _distance_to(mask: np.ndarray, spacing, progress) -> np.ndarray:
    """Exact Euclidean distance (mm) from every voxel centre outside ``mask`` to the nearest mask voxel centre.

    SimpleITK's threaded Maurer transform; its values outside the object are
    exact (inside they are measured to the object's contour voxels, not used).
    """
    import SimpleITK as sitk

    img = sitk.GetImageFromArray(mask.view(np.uint8))
    img.SetSpacing(tuple(float(s) for s in spacing))
    f = sitk.SignedMaurerDistanceMapImageFilter()
    f.SetInsideIsPositive(False)
    f.SetSquaredDistance(False)
    f.SetUseImageSpacing(True)
    f.SetBackgroundValue(0)
    jobs.sitk_observe(f, progress, "Distance field of the anatomy")
    out = f.Execute(img)
    jobs.check(progress)
    return np.maximum(sitk.GetArrayViewFromImage(out), 0.0).astype(np.float32)


def _crop_box(labels: Volume, centre_lps, reach_mm: float) -> tuple[np.ndarray, np.ndarray]:
    """(z, y, x) index box ``[lo, hi)`` covering a cube of half-size ``reach_mm`` around a point."""
    c = np.asarray(centre_lps, float)
    corners = np.array([[sx, sy, sz] for sx in (-1, 1) for sy in (-1, 1) for sz in (-1, 1)], float)
    ijk = labels.lps_to_index(c + reach_mm * corners)[:, ::-1]
    shape = np.asarray(labels.array.shape)
    lo = np.clip(np.floor(ijk.min(axis=0)).astype(int), 0, shape)
    hi = np.clip(np.ceil(ijk.max(axis=0)).astype(int) + 1, 0, shape)
    if np.any(hi - lo < 2):
        raise InputError(f"The region of interest around {np.round(c, 1).tolist()} (LPS mm, "
                         f"{reach_mm:.0f} mm) lies outside the label map; place the device "
                         f"inside the image.")
    return lo, hi
