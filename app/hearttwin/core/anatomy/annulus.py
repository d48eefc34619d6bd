"""The aortic annulus (virtual basal ring) from a label map and, optionally, the CT.

Method
------
1. First guess: where the LV blood pool (label 1, LVOT included) meets the
   aorta (label 6): every pair of face-adjacent voxels with labels 1 and 6
   gives an interface point (the midpoint of the pair); a plane is fitted to
   those points by SVD. The normal is oriented from the LV into the aorta. A
   flat boundary (a drawn or curated label map: plane-fit RMS under half a
   voxel) is the plane as is (``plane_from: "label boundary"``).
2. An automatic segmentation's LV/aorta split is wavy and tilted (5-20
   degrees, its level 1-2.5 mm off on phantoms). Then the plane comes from
   the anatomy of the lumen (labels 1 and 6 together):

   * axis (:func:`refine_axis`): a robust line through the centroids of
     star-shaped sections (:func:`sections.polar_section`, which drops a
     touching LV cavity) from the top of the LVOT to the upper sinuses,
     iterated to convergence;
   * level (:func:`sinus_onset`): the height along that axis where the lumen
     starts to widen from the LVOT into the sinuses of Valsalva, the basal
     ring (``plane_from: "sinus onset"``; ``"lumen axis"`` with the median
     label-interface level when no sinus widening is seen).
3. The lumen is cut by that plane star-shaped: area, perimeter, area- and
   perimeter-derived diameters, minimum and maximum diameter through the
   centroid, eccentricity ``1 - min/max``; the centre is the contour
   centroid. The radius round the ring keeps :data:`ANNULUS_HARMONICS`
   Fourier harmonics (a smooth ring; ray noise would lengthen the perimeter).

With the CT (``image``), every section's edge is moved ray by ray from the
label boundary to half-way between blood and wall HU
(:func:`sections.image_edges`; rays near calcium are bridged): an automatic
label map lies about half a voxel outside the lumen, the image does not.

Uncertainty: the same cut of the lumen eroded and dilated by one voxel
(labels only).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import uncertainty
from .sections import SECTION_SIZES, ImageField, MaskField, plane_basis, polar_section

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


#: heights about the current level whose section centroids give the root axis: the
#: top of the LVOT (an elliptic tube, so even an oblique cut is centred on the axis)
#: and the sinuses (three lobes round an ellipse: nearly centred)
AXIS_HEIGHTS_MM = np.arange(-4.0, 12.01, 1.0)
#: centroids further than this (mm, or 3 robust deviations) from the fitted axis are
#: dropped and the line fitted again (the LV inlet below, a coronary ostium above)
AXIS_OUTLIER_MM = 0.6


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


def refine_axis(field: MaskField, plane: AnnulusPlane, iterations: int = 8,
                image: ImageField | None = None) -> AnnulusPlane | None:
    """The root axis from the lumen geometry, not from the label interface.

    Sections of the LV+aorta lumen perpendicular to the current axis at
    :data:`AXIS_HEIGHTS_MM` about the current level (the top of the LVOT and
    the root below the sinotubular junction, each centred on the axis) are
    cut star-shaped from the current axis (:func:`sections.polar_section`,
    which drops a touching LV cavity; edges on the CT when ``image`` is
    given); a line fitted to their centroids, without outliers, is the new
    axis. Iterates until the axis turns by under 0.2 degrees (at most
    ``iterations`` times): converges from a first guess tilted by 20
    degrees. The level stays that of the first guess (moved onto the axis).
    """
    c, n = plane.centre.copy(), plane.normal.copy()
    for _ in range(iterations):
        pts = []
        for h in AXIS_HEIGHTS_MM:
            s = polar_section(field, c + h * n, n, n_angles=180, dr_mm=0.2, image=image)
            if s is not None:
                pts.append(s.centroid)
        if len(pts) < 5:
            return None
        m, d = robust_line(np.asarray(pts))
        if np.dot(d, n) < 0:
            d = -d
        # keep the level: the axis point at the first-guess plane's height
        c = m + d * (np.dot(plane.centre - m, plane.normal) / np.dot(d, plane.normal))
        turned = np.degrees(np.arccos(np.clip(np.dot(d, n), -1.0, 1.0)))
        n = d
        if turned < 0.2:
            break
    return AnnulusPlane(centre=c, normal=n, points=plane.points, footprint=plane.footprint)


def robust_line(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`fit_line` fitted again without the points far from the first fit
    (over :data:`AXIS_OUTLIER_MM` and over 3 robust deviations)."""
    m, d = fit_line(points)
    off = points - m
    res = np.linalg.norm(off - np.outer(off @ d, d), axis=1)
    spread = 1.4826 * float(np.median(res))
    keep = res <= max(AXIS_OUTLIER_MM, 3.0 * spread)
    return fit_line(points[keep]) if 5 <= keep.sum() < len(points) else (m, d)


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


#: heights (mm) about the current level of the lumen profile searched for the sinus onset
PROFILE_HEIGHTS_MM = np.arange(-7.0, 10.01, 0.5)
#: the sinuses: the lumen's area-derived diameter this much (mm) over the LVOT's
SINUS_RISE_MM = 1.5
#: the onset: where the diameter first exceeds the LVOT's by this much (mm), under the
#: sinuses; the LVOT is taken 3.5-6.5 mm below where the sinus rise is reached
ONSET_RISE_MM = 0.2


def sinus_onset(field: MaskField, plane: AnnulusPlane,
                image: ImageField | None = None) -> float | None:
    """Height (along ``plane.normal``, from ``plane.centre``) where the root starts to
    widen into the sinuses of Valsalva: the basal ring, the annulus level.

    The lumen is cut star-shaped every 0.5 mm of :data:`PROFILE_HEIGHTS_MM`
    (edges on the CT when ``image`` is given). Going up, the first section
    :data:`SINUS_RISE_MM` wider than the LVOT (a low quartile of the lower
    sections) is in the sinuses; the LVOT diameter is then the median 3.5-6.5
    mm below it, and the onset is the height, going down from the sinuses,
    where the diameter falls to :data:`ONSET_RISE_MM` over the LVOT's
    (interpolated). None when the lumen does not widen (no sinus seen).
    """
    hs = PROFILE_HEIGHTS_MM
    d = np.full(len(hs), np.nan)
    for i, h in enumerate(hs):
        sec = polar_section(field, plane.centre + h * plane.normal, plane.normal,
                            n_angles=180, dr_mm=0.2, image=image)
        if sec is not None:
            d[i] = sec.area_diameter_mm
    low = (hs >= -5.0) & (hs <= 1.0) & np.isfinite(d)
    if low.sum() < 4:
        return None
    rise = np.nonzero((hs >= -4.0) & (d >= np.percentile(d[low], 25) + SINUS_RISE_MM))[0]
    if not len(rise):
        return None
    top = int(rise[0])
    lvot = (hs >= hs[top] - 6.5) & (hs <= hs[top] - 3.5) & np.isfinite(d)
    if lvot.sum() < 3:
        return None
    level = float(np.median(d[lvot])) + ONSET_RISE_MM
    i = top
    while i > 0 and (not np.isfinite(d[i - 1]) or d[i - 1] > level):
        i -= 1
    if i == 0 or not np.isfinite(d[i - 1]):
        return None
    a, b = d[i - 1], d[i]
    return float(hs[i - 1] + (hs[i] - hs[i - 1]) * (level - a) / (b - a))


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


def locate_annulus(labels, image=None) -> tuple[AnnulusPlane | None, MaskField | None, str]:
    """The annulus plane: from a flat LV-aorta label boundary as is, else from the lumen
    (its axis, and the level where it widens into the sinuses; section edges on the CT
    ``image`` when given).

    Returns ``(plane, lumen field, method)``, method one of ``"label boundary"``,
    ``"sinus onset"``, ``"lumen axis"`` (no sinus widening seen: the median level of the
    label boundary).
    """
    guess = find_plane(labels)
    if guess is None:
        return None, None, ""
    field = lumen_field(labels, guess.centre)
    pts = interface_points(labels)
    rms = float(np.sqrt(np.mean(((pts - guess.centre) @ guess.normal) ** 2)))
    if rms <= PLANAR_RMS_VOXELS * max(labels.spacing):
        return guess, field, "label boundary"
    img = None if image is None else ImageField(image, guess.centre)
    axis = refine_axis(field, guess, image=img)
    if axis is None:
        return guess, field, "label boundary"
    s = polar_section(field, axis.centre, axis.normal)
    radius = 0.5 * s.max_diameter_mm + 2.0 if s is not None else 15.0
    level = interface_level(labels, axis, radius)
    plane = AnnulusPlane(centre=axis.centre + level * axis.normal, normal=axis.normal,
                         points=axis.points, footprint=axis.footprint)
    onset = sinus_onset(field, plane, img)
    if onset is None:
        return plane, field, "lumen axis"
    plane = AnnulusPlane(centre=plane.centre + onset * plane.normal, normal=plane.normal,
                         points=plane.points, footprint=plane.footprint)
    return plane, field, "sinus onset"


#: Fourier harmonics kept of the annulus contour's radius (an annulus is a smooth, nearly
#: elliptic ring; edge noise in the higher ones would lengthen the perimeter)
ANNULUS_HARMONICS = 6


def measure_annulus(labels, image=None) -> tuple[dict, AnnulusPlane | None, list[str]]:
    """Annulus measurements (DESIGN.md keys, ``_range`` entries), the plane, warnings.

    Parameters
    ----------
    labels : Volume
        Label map (DESIGN.md labels; 1 LV blood and 6 aorta are used).
    image : Volume, optional
        The CT (HU) on any grid: the contour's edges are then placed on it
        (:func:`sections.image_edges`), not on the label boundary.

    Returns
    -------
    tuple
        ``(measurements, plane or None, warnings)``.
    """
    plane, field, method = locate_annulus(labels, image)
    if plane is None:
        return {}, None, ["Aortic annulus not measured: the LV blood pool (label 1) and the "
                          "aorta (label 6) do not touch, so the LV-aorta junction is unknown."]
    img = None if image is None else ImageField(image, plane.centre)
    arr = np.asarray(labels.array)
    lumen = (arr == LV) | (arr == AO)
    secs = []
    for variant in uncertainty.VARIANTS:
        f = field if variant == uncertainty.VARIANTS[0] else MaskField(
            labels, _near(labels, uncertainty.shifted(lumen, variant), plane))
        secs.append(polar_section(f, plane.centre, plane.normal, harmonics=ANNULUS_HARMONICS,
                                  image=img if variant == uncertainty.VARIANTS[0] else None))
    if secs[0] is None:
        return {}, None, ["Aortic annulus not measured: no closed lumen contour on the "
                          "LV-aorta junction plane."]
    nominal = secs[0]
    plane = AnnulusPlane(centre=nominal.centroid, normal=plane.normal, points=plane.points)
    out: dict = {}
    getters = {**SECTION_SIZES, "eccentricity": lambda s: s.eccentricity}
    for key, get in getters.items():
        uncertainty.put(out, key, [None if s is None else get(s) for s in secs],
                        digits=3 if key == "eccentricity" else 2)
    out["centre_lps"] = [round(float(v), 2) for v in plane.centre]
    out["normal_lps"] = [round(float(v), 4) for v in plane.normal]
    out["major_axis_lps"] = [round(float(v), 4) for v in nominal.max_axis]
    out["interface_points"] = plane.points
    out["plane_from"] = method
    return out, plane, []
