"""Sub-voxel cross-sections of a binary mask on an arbitrary plane.

A :class:`MaskField` is a cropped, lightly smoothed float copy of a binary
mask that can be sampled anywhere in LPS millimetres (trilinear
interpolation). :func:`cross_section` resamples it on a fine in-plane grid
(0.2 mm by default) and takes the 0.5 iso-contour with
``skimage.measure.find_contours``: the contour that encloses the seed point
gives the area (shoelace), perimeter (polygon length), centroid and the
minimum/maximum diameters through the centroid (SCCT convention: the
shortest and longest chord through the centre of the lumen).

The smoothing (a Gaussian of about half a voxel) rounds the voxel staircase
so the contour length is not inflated by voxel-scale ripples; the 0.5 level
of a smoothed step sits on the original boundary to within a few hundredths
of a millimetre for vessel-sized curvature.

A label map's boundary may sit off the true wall (an automatic segmentation
near the aortic annulus runs about half a voxel wide). With the CT as an
:class:`ImageField`, :func:`polar_section` moves each ray's edge onto the
image (:func:`image_edges`: half-way between the blood and the wall HU,
calcium bridged from the neighbouring rays).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

#: Gaussian smoothing of the mask, in voxels
SMOOTH_SIGMA_VOXELS = 0.6


def plane_basis(normal) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Unit normal and two in-plane unit vectors ``(n, u, v)``, right-handed."""
    n = np.asarray(normal, float)
    n = n / np.linalg.norm(n)
    helper = np.array([1.0, 0.0, 0.0]) if abs(n[0]) < 0.9 else np.array([0.0, 1.0, 0.0])
    u = helper - np.dot(helper, n) * n
    u /= np.linalg.norm(u)
    return n, u, np.cross(n, u)


class _Field:
    """A cropped 3D array sampled in LPS mm (trilinear); 0 outside the crop."""

    origin: np.ndarray
    spacing: np.ndarray
    direction: np.ndarray
    lo: np.ndarray  # (z, y, x) of the crop's first voxel
    data: np.ndarray

    def _geometry(self, volume) -> None:
        self.origin = np.asarray(volume.origin, float)
        self.spacing = np.asarray(volume.spacing, float)
        self.direction = np.asarray(volume.direction, float)

    def to_zyx(self, lps) -> np.ndarray:
        """LPS points (..., 3) -> continuous (z, y, x) indices into the crop."""
        ijk = ((np.asarray(lps, float) - self.origin) @ self.direction) / self.spacing
        return ijk[..., ::-1] - self.lo

    def sample(self, lps) -> np.ndarray:
        """Field values at LPS points (..., 3); 0 outside the crop."""
        lps = np.asarray(lps, float)
        zyx = self.to_zyx(lps.reshape(-1, 3)).T
        vals = ndimage.map_coordinates(self.data, zyx, order=1, mode="constant", cval=0.0)
        return vals.reshape(lps.shape[:-1])


class MaskField(_Field):
    """A binary mask as a smooth field sampled in LPS mm (values 0..1).

    Parameters
    ----------
    volume : Volume
        Geometry of the mask (its array is not used).
    mask : ndarray of bool, (z, y, x)
        The structure.
    sigma_voxels : float
        Gaussian smoothing (voxels) before interpolation.
    margin : int
        Voxels kept around the mask's bounding box.
    """

    def __init__(self, volume, mask: np.ndarray, sigma_voxels: float = SMOOTH_SIGMA_VOXELS,
                 margin: int = 4) -> None:
        self._geometry(volume)
        idx = np.argwhere(mask)
        self.empty = len(idx) == 0
        if self.empty:
            self.lo = np.zeros(3, int)
            self.data = np.zeros((1, 1, 1), np.float32)
            return
        lo = np.maximum(idx.min(axis=0) - margin, 0)
        hi = np.minimum(idx.max(axis=0) + margin + 1, mask.shape)
        crop = mask[lo[0]:hi[0], lo[1]:hi[1], lo[2]:hi[2]].astype(np.float32)
        if sigma_voxels > 0:
            crop = ndimage.gaussian_filter(crop, sigma_voxels, mode="constant")
        self.lo = lo  # (z, y, x)
        self.data = crop


#: Gaussian smoothing of the CT (voxels) before edges are located on it (against noise)
IMAGE_SIGMA_VOXELS = 0.3


class ImageField(_Field):
    """CT intensities (HU) within ``within_mm`` of ``centre``, lightly smoothed.

    Parameters
    ----------
    image : Volume
        The CT (HU), on any grid.
    centre : array_like
        LPS point the crop is centred on.
    within_mm : float
        Half-size of the crop.
    sigma_voxels : float
        Gaussian smoothing (voxels) against noise; a symmetric blur does not
        move the half-way level of an edge.
    """

    def __init__(self, image, centre, within_mm: float = 45.0,
                 sigma_voxels: float = IMAGE_SIGMA_VOXELS) -> None:
        self._geometry(image)
        arr = np.asarray(image.array)
        ijk = np.round(image.lps_to_index(np.asarray(centre, float)[None])[0]).astype(int)[::-1]
        half = np.ceil(within_mm / self.spacing[::-1]).astype(int)
        lo, hi = np.maximum(ijk - half, 0), np.minimum(ijk + half + 1, arr.shape)
        self.empty = bool(np.any(hi <= lo))
        self.lo = lo
        crop = arr[lo[0]:hi[0], lo[1]:hi[1], lo[2]:hi[2]].astype(np.float32)
        self.data = ndimage.gaussian_filter(crop, sigma_voxels, mode="nearest") \
            if sigma_voxels > 0 and not self.empty else crop
        self._bright: dict[float, np.ndarray] = {}

    def distance_to_bright(self, lps, above_hu: float) -> np.ndarray:
        """Distance (mm) from LPS points (..., 3) to the nearest voxel brighter than
        ``above_hu`` (calcium; the level is rounded to 25 HU so that the distance map
        is computed once for nearby levels); large where there is none in the crop."""
        key = 25.0 * round(above_hu / 25.0)
        if key not in self._bright:
            bright = self.data > key
            self._bright[key] = np.full(self.data.shape, 1e3, np.float32) if not bright.any() \
                else ndimage.distance_transform_edt(~bright, sampling=self.spacing[::-1]).astype(
                    np.float32)
        zyx = self.to_zyx(np.asarray(lps, float).reshape(-1, 3)).T
        d = ndimage.map_coordinates(self._bright[key], zyx, order=1, mode="nearest")
        return d.reshape(np.shape(lps)[:-1])


@dataclass
class Section:
    """One closed cross-section contour (LPS mm)."""

    centroid: np.ndarray
    normal: np.ndarray
    area_mm2: float
    perimeter_mm: float
    min_diameter_mm: float
    max_diameter_mm: float
    min_axis: np.ndarray
    max_axis: np.ndarray
    contour: np.ndarray  # (N, 3) LPS

    @property
    def area_diameter_mm(self) -> float:
        return 2.0 * float(np.sqrt(self.area_mm2 / np.pi))

    @property
    def perimeter_diameter_mm(self) -> float:
        return self.perimeter_mm / np.pi

    @property
    def eccentricity(self) -> float:
        return 1.0 - self.min_diameter_mm / self.max_diameter_mm if self.max_diameter_mm else 0.0


#: the size figures of a section, by JSON key (annulus, valve planes)
SECTION_SIZES = {
    "area_mm2": lambda s: s.area_mm2,
    "perimeter_mm": lambda s: s.perimeter_mm,
    "area_derived_diameter_mm": lambda s: s.area_diameter_mm,
    "perimeter_derived_diameter_mm": lambda s: s.perimeter_diameter_mm,
    "min_diameter_mm": lambda s: s.min_diameter_mm,
    "max_diameter_mm": lambda s: s.max_diameter_mm,
}


def cross_section(field: MaskField, point, normal, radius_mm: float = 30.0,
                  step_mm: float = 0.2) -> Section | None:
    """The contour of ``field`` in the plane (point, normal) enclosing ``point``.

    Returns None when no closed contour encloses ``point`` within ``radius_mm``.
    """
    if field.empty:
        return None
    p0 = np.asarray(point, float)
    n, u, v = plane_basis(normal)
    m = int(np.ceil(radius_mm / step_mm))
    t = np.arange(-m, m + 1) * step_mm
    grid = p0 + t[:, None, None] * u + t[None, :, None] * v  # (s, t, 3)
    img = field.sample(grid)
    img[0, :] = img[-1, :] = img[:, 0] = img[:, -1] = 0.0  # every contour closes
    if img[m, m] < 0.5:
        return None
    from skimage.measure import find_contours, points_in_poly

    best = None
    for c in find_contours(img, 0.5):
        if len(c) < 8 or not np.allclose(c[0], c[-1]):
            continue
        if not points_in_poly([[m, m]], c)[0]:
            continue
        area = _shoelace(c)
        if best is None or area < best[0]:  # the innermost enclosing contour
            best = (area, c)
    if best is None:
        return None
    c = (best[1] - m) * step_mm  # (N, 2) in (u, v) mm
    return _section_from_contour(c, p0, n, u, v)


def _shoelace(c: np.ndarray) -> float:
    x, y = c[:, 0], c[:, 1]
    return 0.5 * abs(float(np.dot(x[:-1], y[1:]) - np.dot(x[1:], y[:-1])))


def _section_from_contour(c, p0, n, u, v) -> Section:
    x, y = c[:, 0], c[:, 1]
    cross = x[:-1] * y[1:] - x[1:] * y[:-1]
    a2 = cross.sum()
    area = 0.5 * abs(a2)
    cx = ((x[:-1] + x[1:]) * cross).sum() / (3.0 * a2)
    cy = ((y[:-1] + y[1:]) * cross).sum() / (3.0 * a2)
    perimeter = float(np.linalg.norm(np.diff(c, axis=0), axis=1).sum())
    dmin, dmax, amin, amax = chord_diameters(c - [cx, cy])
    to3 = lambda q: p0 + q[..., :1] * u + q[..., 1:2] * v  # noqa: E731
    return Section(
        centroid=p0 + cx * u + cy * v, normal=n, area_mm2=float(area), perimeter_mm=perimeter,
        min_diameter_mm=dmin, max_diameter_mm=dmax,
        min_axis=amin[0] * u + amin[1] * v, max_axis=amax[0] * u + amax[1] * v,
        contour=to3(np.asarray(c)),
    )


def chord_diameters(c: np.ndarray, step_deg: float = 0.5):
    """Shortest and longest chord through the origin of a closed 2D contour.

    Returns ``(d_min, d_max, dir_min, dir_max)`` with unit 2D directions.
    The contour is treated in polar form around the origin (lumen sections
    are star-shaped about their centroid).
    """
    phi = np.arctan2(c[:, 1], c[:, 0])
    r = np.hypot(c[:, 0], c[:, 1])
    order = np.argsort(phi)
    phi, r = phi[order], r[order]
    ang = np.deg2rad(np.arange(0.0, 180.0, step_deg))
    r1 = np.interp(ang, phi, r, period=2 * np.pi)
    r2 = np.interp(ang + np.pi, phi, r, period=2 * np.pi)
    d = r1 + r2
    i, j = int(np.argmin(d)), int(np.argmax(d))
    unit = lambda a: np.array([np.cos(a), np.sin(a)])  # noqa: E731
    return float(d[i]), float(d[j]), unit(ang[i]), unit(ang[j])


def polar_section(field: MaskField, point, normal, *, n_angles: int = 360,
                  radius_mm: float = 30.0, dr_mm: float = 0.1, jump_mm: float = 3.0,
                  max_rejected: float = 0.35, harmonics: int | None = 12,
                  image: ImageField | None = None) -> Section | None:
    """A star-shaped section of ``field`` around ``point``, robust to touching neighbours.

    Rays leave ``point`` in the plane every ``360 / n_angles`` degrees; each
    ray's lumen radius is its first 0.5 crossing (sub-sample, linear). Where a
    neighbouring structure touches the lumen without a gap (e.g. the LV
    cavity beside the aortic root, or a leak of the label map) the rays run
    on into it: rays longer than ``jump_mm`` over the median radius are
    rejected, with two neighbours on each side, and their radii interpolated
    from the rest (the lumen is taken as smooth there). Returns None when the
    point is outside, or more than ``max_rejected`` of the rays are rejected.
    ``harmonics``: the radius is low-passed to that many Fourier harmonics
    (the voxel staircase of a label map would otherwise lengthen the
    perimeter by a few per cent). ``image``: the lumen edge of each ray is
    then moved onto the CT (:func:`image_edges`): a label map's boundary can
    sit a voxel off the wall, the image's half-way level does not.
    """
    if field.empty:
        return None
    p0 = np.asarray(point, float)
    n, u, v = plane_basis(normal)
    th = np.arange(n_angles) * (2 * np.pi / n_angles)
    r = np.arange(0.0, radius_mm, dr_mm)
    dirs = np.cos(th)[:, None] * u + np.sin(th)[:, None] * v
    vals = field.sample(p0 + r[None, :, None] * dirs[:, None, :])  # (A, R)
    if np.median(vals[:, 0]) < 0.5:
        return None
    inside = vals >= 0.5
    k = np.argmin(inside, axis=1)  # first sample outside
    closed = ~inside[np.arange(n_angles), k]
    k = np.maximum(k, 1)
    a, b = vals[np.arange(n_angles), k - 1], vals[np.arange(n_angles), k]
    rad = r[k - 1] + dr_mm * np.clip((a - 0.5) / np.maximum(a - b, 1e-6), 0.0, 1.0)
    rad = np.where(closed, rad, np.inf)
    med = float(np.median(rad[np.isfinite(rad)])) if np.isfinite(rad).any() else np.inf
    bad = ~np.isfinite(rad) | (rad > med + jump_mm)
    bad = bad | np.roll(bad, 1) | np.roll(bad, -1) | np.roll(bad, 2) | np.roll(bad, -2)
    if bad.mean() > max_rejected:
        return None
    if bad.any():
        rad = rad.copy()
        rad[bad] = np.interp(th[bad], th[~bad], rad[~bad], period=2 * np.pi)
    if image is not None and not image.empty:
        rad = image_edges(image, p0, dirs, rad)
    if harmonics:
        spec = np.fft.rfft(rad)
        spec[harmonics + 1:] = 0.0
        rad = np.fft.irfft(spec, n_angles)
    c = np.column_stack([rad * np.cos(th), rad * np.sin(th)])
    c = np.vstack([c, c[:1]])
    return _section_from_contour(c, p0, n, u, v)


#: how far (mm) either side of the label edge the CT edge is looked for
EDGE_SEARCH_MM = 2.5
#: fewest HU between blood and the wall for an edge to count (otherwise no wall is seen)
EDGE_MIN_CONTRAST_HU = 100.0
#: calcium: voxels this much (HU, or five noise deviations) brighter than blood
CALCIUM_OVER_BLOOD_HU = 200.0
#: a ray passing within this distance (mm) of calcium, in or out of the plane, is not
#: trusted near its edge: the calcium's blur brightens it
CALCIUM_MARGIN_MM = 1.5
#: rays (fraction) that must find an image edge, else the label radii are kept
EDGE_MIN_FOUND = 0.3


def image_edges(image: ImageField, p0, dirs: np.ndarray, rad: np.ndarray,
                search_mm: float = EDGE_SEARCH_MM, step_mm: float = 0.1) -> np.ndarray:
    """Lumen radii moved from the label edge onto the CT edge, ray by ray.

    Levels: blood is the median HU of the inner half of the section, the wall
    the mean HU 0.8-1.6 mm outside the label edge (median round the ring); each
    ray's edge is where it first falls below half-way between the two,
    searching outward from ``search_mm`` inside its label edge; then once
    more with that ray's own wall level (0.8-1.6 mm outside its edge), so a
    thin wall with fat behind it and a thick myocardium both give the
    half-way point of their own step. Rays that pass within
    :data:`CALCIUM_MARGIN_MM` of calcium (voxels brighter than blood by
    :data:`CALCIUM_OVER_BLOOD_HU` or five noise deviations, in or out of the
    plane), rays with too little contrast and rays with no crossing take the
    radius interpolated from the others (the label edge has a notch at
    calcium). If fewer than :data:`EDGE_MIN_FOUND`
    of the rays find an edge, ``rad`` is returned unchanged.
    """
    n = len(rad)
    idx = np.arange(n)
    frac = np.linspace(0.1, 0.6, 6)
    inner = image.sample(p0 + (frac[None, :, None] * rad[:, None, None]) * dirs[:, None, :])
    blood = float(np.median(inner))
    noise = 1.4826 * float(np.median(np.abs(inner - blood)))
    t = np.arange(-search_mm, search_mm + 0.5 * step_mm, step_mm)
    r = np.maximum(rad[:, None] + t[None, :], 0.0)
    vals = image.sample(p0 + r[..., None] * dirs[:, None, :])  # (A, T)
    near = t <= 1.5
    dist = image.distance_to_bright(p0 + r[:, near, None] * dirs[:, None, :],
                                    blood + max(CALCIUM_OVER_BLOOD_HU, 5.0 * noise))
    calcium = dist.min(axis=1) < CALCIUM_MARGIN_MM

    def crossing(level, start):
        below = (vals < level[:, None]) & (t[None, :] >= start[:, None])
        k = np.argmax(below, axis=1)
        found = below[idx, k] & (k > 0) & (vals[idx, np.maximum(k - 1, 0)] >= level)
        k = np.maximum(k, 1)
        a, b = vals[idx, k - 1], vals[idx, k]
        return t[k - 1] + step_mm * np.clip((a - level) / np.maximum(a - b, 1e-6), 0, 1), found

    def wall_at(edge):
        w = (t[None, :] >= edge[:, None] + 0.8) & (t[None, :] <= edge[:, None] + 1.6)
        cnt = w.sum(axis=1)
        return np.where(cnt > 0, (vals * w).sum(axis=1) / np.maximum(cnt, 1), np.nan)

    wall = wall_at(np.zeros(n))
    ring_wall = float(np.nanmedian(wall[~calcium])) if (~calcium).any() else np.nan
    if not blood - ring_wall >= EDGE_MIN_CONTRAST_HU:
        return rad
    move, found = crossing(np.full(n, 0.5 * (blood + ring_wall)), np.full(n, -search_mm))
    wall = wall_at(move)
    own = np.where(np.isfinite(wall), wall, ring_wall)
    move2, found2 = crossing(0.5 * (blood + own), np.maximum(move - 1.0, -search_mm))
    ok = found & found2 & ~calcium & (blood - own >= EDGE_MIN_CONTRAST_HU)
    if ok.mean() < EDGE_MIN_FOUND:
        return rad
    th = np.arange(n) * (2 * np.pi / n)
    new = rad + move2
    # a ray through calcium has a notch in the label edge: interpolate radii, not moves
    return np.maximum(np.where(ok, new, np.interp(th, th[ok], new[ok], period=2 * np.pi)), 0.0)
