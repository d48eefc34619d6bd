"""The aortic annulus (virtual basal ring) from a label map.

Method
------
1. The annulus plane is where the LV blood pool (label 1, LVOT included)
   meets the aorta (label 6): every pair of face-adjacent voxels with labels
   1 and 6 gives an interface point (the midpoint of the pair); a plane is
   fitted to those points by SVD. The normal is oriented from the LV into the
   aorta.
2. The lumen (labels 1 and 6 together) is cut by that plane at sub-voxel
   accuracy (:func:`sections.cross_section`): area, perimeter, area- and
   perimeter-derived diameters, minimum and maximum diameter through the
   centroid, eccentricity ``1 - min/max``. The centre is the contour centroid.
3. Uncertainty: the same cut of the lumen eroded and dilated by one voxel.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import uncertainty
from .sections import MaskField, Section, cross_section, plane_basis

LV, AO = 1, 6


@dataclass
class AnnulusPlane:
    centre: np.ndarray  # LPS
    normal: np.ndarray  # unit, LV -> aorta
    points: int         # interface points used
    footprint: np.ndarray | None = None  # interface points in plane coordinates (u, v)

    def height(self, lps) -> np.ndarray:
        """Signed distance (mm) of LPS points above the plane (towards the aorta)."""
        return (np.asarray(lps, float) - self.centre) @ self.normal


def interface_points(labels, a: int = LV, b: int = AO) -> np.ndarray:
    """LPS midpoints of face-adjacent voxel pairs labelled ``a`` and ``b``."""
    arr = np.asarray(labels.array)
    pts = []
    for axis in range(3):
        lo = [slice(None)] * 3
        hi = [slice(None)] * 3
        lo[axis], hi[axis] = slice(0, -1), slice(1, None)
        x, y = arr[tuple(lo)], arr[tuple(hi)]
        hit = ((x == a) & (y == b)) | ((x == b) & (y == a))
        idx = np.argwhere(hit).astype(float)  # (z, y, x) of the lower voxel
        idx[:, axis] += 0.5
        pts.append(idx)
    zyx = np.concatenate(pts)
    return labels.index_to_lps(zyx[:, ::-1])


def fit_plane(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Least-squares plane ``(centroid, unit normal)`` through ``points``."""
    c = points.mean(axis=0)
    _, _, vt = np.linalg.svd(points - c, full_matrices=False)
    return c, vt[2] / np.linalg.norm(vt[2])


def find_plane(labels) -> AnnulusPlane | None:
    """The annulus plane from the LV/aorta interface, or None if they do not touch."""
    pts = interface_points(labels)
    if len(pts) < 12:
        return None
    centre, normal = fit_plane(pts)
    # orient LV -> aorta: aorta voxels near the centre lie on the + side
    arr = np.asarray(labels.array)
    near = []
    for lab in (LV, AO):
        idx = np.argwhere(arr == lab)
        lps = labels.index_to_lps(idx[:, ::-1].astype(float))
        d = np.linalg.norm(lps - centre, axis=1)
        near.append(lps[d < 20.0].mean(axis=0) if np.any(d < 20.0) else centre)
    if np.dot(near[1] - near[0], normal) < 0:
        normal = -normal
    _, u, v = plane_basis(normal)
    foot = np.column_stack([(pts - centre) @ u, (pts - centre) @ v])
    return AnnulusPlane(centre=centre, normal=normal, points=len(pts), footprint=foot)


def lumen_mask(labels, plane: AnnulusPlane, below_voxels: float = 2.5) -> np.ndarray:
    """The aorta plus the LVOT just below the junction.

    LV blood (label 1) is kept only within ``below_voxels`` under the plane and
    over the footprint of the LV-aorta interface (plus one voxel): the LV
    cavity can come within a voxel of the LVOT beside it, and must not leak
    into the annulus contour.
    """
    from scipy.spatial import cKDTree

    arr = np.asarray(labels.array)
    lv = arr == LV
    idx = np.argwhere(lv)
    if len(idx) and plane.footprint is not None:
        d = labels.index_to_lps(idx[:, ::-1].astype(float)) - plane.centre
        h = d @ plane.normal
        _, u, v = plane_basis(plane.normal)
        dist, _ = cKDTree(plane.footprint).query(np.column_stack([d @ u, d @ v]))
        vox = max(labels.spacing)
        far = (dist > 1.0 * vox) | (h < -below_voxels * vox)
        lv[tuple(idx[far].T)] = False
    return lv | (arr == AO)


def annulus_sections(labels, plane: AnnulusPlane) -> list[Section | None]:
    """The lumen cut by the plane: nominal, eroded and dilated boundary."""
    lumen = lumen_mask(labels, plane)
    out = []
    for variant in uncertainty.VARIANTS:
        field = MaskField(labels, _near(labels, uncertainty.shifted(lumen, variant), plane))
        out.append(cross_section(field, plane.centre, plane.normal, radius_mm=30.0))
    return out


def _near(labels, mask: np.ndarray, plane: AnnulusPlane, within_mm: float = 20.0) -> np.ndarray:
    """``mask`` restricted to a slab around the plane (a small crop to resample)."""
    idx = np.argwhere(mask)
    if len(idx) == 0:
        return mask
    h = plane.height(labels.index_to_lps(idx[:, ::-1].astype(float)))
    r = np.linalg.norm(labels.index_to_lps(idx[:, ::-1].astype(float)) - plane.centre, axis=1)
    keep = idx[(np.abs(h) < within_mm) & (r < 3 * within_mm)]
    out = np.zeros_like(mask, dtype=bool)
    out[tuple(keep.T)] = True
    return out


def measure_annulus(labels) -> tuple[dict, AnnulusPlane | None, list[str]]:
    """Annulus measurements (DESIGN.md keys, ``_range`` entries), the plane, warnings."""
    plane = find_plane(labels)
    if plane is None:
        return {}, None, ["Aortic annulus not measured: the LV blood pool (label 1) and the "
                          "aorta (label 6) do not touch, so the LV-aorta junction is unknown."]
    secs = annulus_sections(labels, plane)
    if secs[0] is None:
        return {}, None, ["Aortic annulus not measured: no closed lumen contour on the "
                          "LV-aorta junction plane."]
    nominal = secs[0]
    plane = AnnulusPlane(centre=nominal.centroid, normal=plane.normal, points=plane.points)
    out: dict = {}
    getters = {
        "area_mm2": lambda s: s.area_mm2,
        "perimeter_mm": lambda s: s.perimeter_mm,
        "area_derived_diameter_mm": lambda s: s.area_diameter_mm,
        "perimeter_derived_diameter_mm": lambda s: s.perimeter_diameter_mm,
        "min_diameter_mm": lambda s: s.min_diameter_mm,
        "max_diameter_mm": lambda s: s.max_diameter_mm,
        "eccentricity": lambda s: s.eccentricity,
    }
    for key, get in getters.items():
        uncertainty.put(out, key, [None if s is None else get(s) for s in secs],
                        digits=3 if key == "eccentricity" else 2)
    out["centre_lps"] = [round(float(v), 2) for v in plane.centre]
    out["normal_lps"] = [round(float(v), 4) for v in plane.normal]
    out["major_axis_lps"] = [round(float(v), 4) for v in nominal.max_axis]
    out["interface_points"] = plane.points
    return out, plane, []
