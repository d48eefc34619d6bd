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

An automatic segmentation's LV/aorta boundary is wavy and tilted (plane-fit
RMS over half a voxel; 5-20 degrees off on phantoms). Then the plane is
placed from the lumen instead (:func:`locate_annulus`): the root axis is the
line through the centroids of star-shaped LV+aorta sections 2-12 mm above
the first guess (:func:`refine_axis`), the level is the median height of the
label boundary around that axis, and the section is star-shaped
(:func:`sections.polar_section`), so an LV cavity touching the root does not
enter the contour. The result says which (``plane_from``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import uncertainty
from .sections import MaskField, plane_basis, polar_section

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


#: heights above the first-guess plane whose section centroids give the root axis
AXIS_HEIGHTS_MM = np.arange(2.0, 12.01, 1.0)


def lumen_field(labels, centre, within_mm: float = 45.0) -> MaskField:
    """LV blood and aorta together (their split does not matter) near ``centre``."""
    arr = np.asarray(labels.array)
    mask = (arr == LV) | (arr == AO)
    ijk = np.round(labels.lps_to_index(np.asarray(centre, float)[None])[0]).astype(int)[::-1]
    half = np.ceil(within_mm / np.asarray(labels.spacing)[::-1]).astype(int)
    lo, hi = np.maximum(ijk - half, 0), np.minimum(ijk + half + 1, arr.shape)
    crop = np.zeros_like(mask)
    crop[lo[0]:hi[0], lo[1]:hi[1], lo[2]:hi[2]] = mask[lo[0]:hi[0], lo[1]:hi[1], lo[2]:hi[2]]
    return MaskField(labels, crop)


def refine_axis(field: MaskField, plane: AnnulusPlane, iterations: int = 4) -> AnnulusPlane | None:
    """The root axis from the lumen geometry, not from the label interface.

    Sections of the LV+aorta lumen perpendicular to the current axis at
    :data:`AXIS_HEIGHTS_MM` above the first guess (the root below the
    sinotubular junction: three symmetric sinus lobes around an elliptic
    base, so each centroid lies on the axis) are cut star-shaped from the
    current axis (:func:`sections.polar_section`, which drops a touching LV
    cavity); a line fitted to their centroids is the new axis. A few
    iterations converge from a first guess tilted by 20 degrees. The level
    stays that of the first guess (moved onto the new axis).
    """
    c, n = plane.centre.copy(), plane.normal.copy()
    for _ in range(iterations):
        pts = []
        for h in AXIS_HEIGHTS_MM:
            s = polar_section(field, c + h * n, n, n_angles=180, dr_mm=0.2)
            if s is not None:
                pts.append(s.centroid)
        if len(pts) < 5:
            return None
        pts = np.asarray(pts)
        m, d = fit_line(pts)
        if np.dot(d, n) < 0:
            d = -d
        # keep the level: the axis point at the first-guess plane's height
        c = m + d * (np.dot(plane.centre - m, plane.normal) / np.dot(d, plane.normal))
        n = d
    return AnnulusPlane(centre=c, normal=n, points=plane.points, footprint=plane.footprint)


def fit_line(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Least-squares line ``(centroid, unit direction)`` through ``points``."""
    c = points.mean(axis=0)
    _, _, vt = np.linalg.svd(points - c, full_matrices=False)
    return c, vt[0] / np.linalg.norm(vt[0])


def interface_level(labels, plane: AnnulusPlane, radius_mm: float) -> float:
    """Median height (along ``plane.normal``) of the LV-aorta interface within
    ``radius_mm`` of the axis: the label split averaged around the ring, so a
    tilted or wavy automatic boundary gives its mean level."""
    pts = interface_points(labels)
    d = pts - plane.centre
    h = d @ plane.normal
    rad = np.linalg.norm(d - np.outer(h, plane.normal), axis=1)
    near = rad < radius_mm
    return float(np.median(h[near])) if near.sum() >= 12 else 0.0


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


#: the LV-aorta label boundary counts as a plane when its points lie within this
#: fraction of a voxel of the fitted plane (RMS); an automatic segmentation's
#: boundary is wavy and tilted (RMS 1-2 mm), a drawn or phantom one is flat
PLANAR_RMS_VOXELS = 0.5


def locate_annulus(labels) -> tuple[AnnulusPlane | None, MaskField | None, str]:
    """The annulus plane: from a flat LV-aorta label boundary as is, else from the lumen.

    Returns ``(plane, lumen field, method)``.
    """
    guess = find_plane(labels)
    if guess is None:
        return None, None, ""
    field = lumen_field(labels, guess.centre)
    pts = interface_points(labels)
    rms = float(np.sqrt(np.mean(((pts - guess.centre) @ guess.normal) ** 2)))
    if rms <= PLANAR_RMS_VOXELS * max(labels.spacing):
        return guess, field, "label boundary"
    axis = refine_axis(field, guess)
    if axis is None:
        return guess, field, "label boundary"
    s = polar_section(field, axis.centre, axis.normal)
    radius = 0.5 * s.max_diameter_mm + 2.0 if s is not None else 15.0
    level = interface_level(labels, axis, radius)
    plane = AnnulusPlane(centre=axis.centre + level * axis.normal, normal=axis.normal,
                         points=axis.points, footprint=axis.footprint)
    return plane, field, "lumen axis"


def measure_annulus(labels) -> tuple[dict, AnnulusPlane | None, list[str]]:
    """Annulus measurements (DESIGN.md keys, ``_range`` entries), the plane, warnings."""
    plane, field, method = locate_annulus(labels)
    if plane is None:
        return {}, None, ["Aortic annulus not measured: the LV blood pool (label 1) and the "
                          "aorta (label 6) do not touch, so the LV-aorta junction is unknown."]
    arr = np.asarray(labels.array)
    lumen = (arr == LV) | (arr == AO)
    secs = []
    for variant in uncertainty.VARIANTS:
        f = field if variant == uncertainty.VARIANTS[0] else MaskField(
            labels, _near(labels, uncertainty.shifted(lumen, variant), plane))
        secs.append(polar_section(f, plane.centre, plane.normal))
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
    out["plane_from"] = method
    return out, plane, []
