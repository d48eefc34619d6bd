"""Oblique (multiplanar) reslicing of a Volume on an arbitrary plane, in LPS mm.

A :class:`Plane` is a centre, a unit normal and two in-plane unit axes
``u`` (image columns, screen right) and ``v`` (image rows, screen down),
with ``u x v = normal``. The default plane is axial in the radiological
convention (``u`` = patient left, ``v`` = posterior, normal = superior).

The planes a TAVI planner snaps to are built from the measurements
(:func:`plane_from_annulus`, :func:`plane_on_centreline`) or a placed
device's pose (:func:`plane_from_pose`). Sampling uses
``scipy.ndimage.map_coordinates``: trilinear for the CT, nearest for labels.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InputError

#: HU given to samples outside the volume (air)
AIR_HU = -1000.0
_LETTERS = (("L", "R"), ("P", "A"), ("S", "I"))  # LPS +/- letters per axis


def _unit(vector, what: str = "vector") -> np.ndarray:
    v = np.asarray(vector, dtype=float).reshape(3)
    n = float(np.linalg.norm(v))
    if not np.isfinite(n) or n < 1e-9:
        raise InputError(f"The {what} {v.tolist()} has no direction (zero length).")
    return v / n


def _rotation(axis, degrees: float) -> np.ndarray:
    """Rotation matrix about the unit ``axis`` by ``degrees`` (right-handed, Rodrigues)."""
    a = _unit(axis, "rotation axis")
    t = np.radians(float(degrees))
    k = np.array([[0, -a[2], a[1]], [a[2], 0, -a[0]], [-a[1], a[0], 0]])
    return np.eye(3) + np.sin(t) * k + (1.0 - np.cos(t)) * (k @ k)


def _perpendicular(normal: np.ndarray, reference) -> np.ndarray:
    """The unit vector nearest ``reference`` in the plane of ``normal`` (L, then P, if parallel)."""
    for ref in ([reference] if reference is not None else []) + [(1.0, 0.0, 0.0), (0.0, 1.0, 0.0)]:
        r = np.asarray(ref, dtype=float)
        r = r - np.dot(r, normal) * normal
        if np.linalg.norm(r) > 1e-3:
            return r / np.linalg.norm(r)
    raise AssertionError("unreachable: L and P cannot both be parallel to a unit normal")


@dataclass(frozen=True)
class Plane:
    """A slicing plane in LPS mm: ``centre``, unit ``normal`` and in-plane axes ``u``, ``v``."""

    centre: np.ndarray
    normal: np.ndarray
    u: np.ndarray
    v: np.ndarray

    @classmethod
    def through(cls, centre, normal, u_hint=None) -> "Plane":
        """The plane through ``centre`` with ``normal``; ``u`` as close to ``u_hint`` as possible."""
        n = _unit(normal, "plane normal")
        u = _perpendicular(n, u_hint)
        return cls(np.asarray(centre, float).reshape(3).copy(), n, u, np.cross(n, u))

    @classmethod
    def axial(cls, centre) -> "Plane":
        """Radiological axial plane: screen right = patient left, screen down = posterior."""
        return cls.through(centre, (0.0, 0.0, 1.0), (1.0, 0.0, 0.0))

    def rotated(self, axis: str, degrees: float) -> "Plane":
        """This plane turned about its own ``"u"``, ``"v"`` or ``"normal"`` axis through the centre."""
        vec = {"u": self.u, "v": self.v, "normal": self.normal}.get(axis)
        if vec is None:
            raise ValueError(f"axis must be 'u', 'v' or 'normal', not {axis!r}")
        r = _rotation(vec, degrees)
        u, v = r @ self.u, r @ self.v
        u /= np.linalg.norm(u)
        v = v - np.dot(v, u) * u  # keep the frame orthonormal over many small turns
        v /= np.linalg.norm(v)
        return Plane(self.centre.copy(), np.cross(u, v), u, v)

    def moved(self, mm: float) -> "Plane":
        """This plane shifted ``mm`` along its normal."""
        return Plane(self.centre + float(mm) * self.normal, self.normal, self.u, self.v)

    def panned(self, du_mm: float, dv_mm: float) -> "Plane":
        """This plane with its centre moved within the plane (along ``u`` and ``v``)."""
        return Plane(self.centre + float(du_mm) * self.u + float(dv_mm) * self.v, self.normal, self.u, self.v)

    def to_lps(self, col_mm, row_mm) -> np.ndarray:
        """In-plane offsets from the centre (mm along ``u``, ``v``) -> LPS points (..., 3)."""
        a, b = np.asarray(col_mm, float)[..., None], np.asarray(row_mm, float)[..., None]
        return self.centre + a * self.u + b * self.v

    def to_plane(self, lps) -> np.ndarray:
        """LPS points (..., 3) -> (u mm, v mm, distance along the normal mm) from the centre."""
        d = np.asarray(lps, float) - self.centre
        return np.stack([d @ self.u, d @ self.v, d @ self.normal], axis=-1)


def grid_shape(size_mm, spacing_mm: float) -> tuple[int, int]:
    """(rows, cols) of a reslice covering ``size_mm`` (one value or (width, height))."""
    if spacing_mm <= 0:
        raise InputError(f"The reslice spacing must be positive (got {spacing_mm} mm).")
    w, h = (size_mm, size_mm) if np.isscalar(size_mm) else size_mm
    return max(1, int(round(float(h) / spacing_mm))), max(1, int(round(float(w) / spacing_mm)))


def sample_points(plane: Plane, shape: tuple[int, int], spacing_mm: float) -> np.ndarray:
    """LPS (rows, cols, 3) of the pixel centres of a reslice centred on ``plane.centre``."""
    rows, cols = shape
    col_mm = (np.arange(cols) - (cols - 1) / 2.0) * spacing_mm
    row_mm = (np.arange(rows) - (rows - 1) / 2.0) * spacing_mm
    return plane.to_lps(col_mm[None, :], row_mm[:, None])


def _index_grid(volume, plane: Plane, shape: tuple[int, int], spacing_mm: float) -> np.ndarray:
    """Continuous array indices (3, rows, cols), in the array's (k, j, i) order, of the pixel centres.

    The plane maps affinely to index space, so this is three outer sums rather
    than a (rows, cols, 3) LPS grid pushed through ``lps_to_index`` (25x faster).
    """
    rows, cols = shape
    step = np.asarray(volume.spacing, float)
    centre = volume.lps_to_index(plane.centre)
    du = (plane.u @ volume.direction) / step * spacing_mm  # index step per column
    dv = (plane.v @ volume.direction) / step * spacing_mm  # index step per row
    col = np.arange(cols) - (cols - 1) / 2.0
    row = np.arange(rows) - (rows - 1) / 2.0
    out = np.empty((3, rows, cols))
    for a in range(3):  # index axis a (i, j, k) is array axis 2 - a
        out[2 - a] = centre[a] + col[None, :] * du[a] + row[:, None] * dv[a]
    return out


def _sample(volume, plane, size_mm, spacing_mm, order, fill, dtype) -> np.ndarray:
    from scipy import ndimage  # here, not at the top: the window imports this module at start-up

    shape = grid_shape(size_mm, spacing_mm)
    out = np.empty(shape, dtype)
    # "grid-constant": voxels on the border are whole voxels (plain "constant" turns an edge
    # sample at index -1e-15 into ``fill``), and beyond them the image fades into ``fill``
    ndimage.map_coordinates(volume.array, _index_grid(volume, plane, shape, spacing_mm), output=out,
                            order=order, mode="grid-constant", cval=fill, prefilter=False)
    return out


def reslice(volume, plane: Plane, size_mm, spacing_mm: float, order: int = 1,
            fill: float = AIR_HU) -> np.ndarray:
    """Sample ``volume`` on ``plane``: a 2D float32 image, row 0 at ``-v``, column 0 at ``-u``.

    Parameters
    ----------
    volume : Volume
        The CT (any orientation; its direction matrix is honoured).
    plane : Plane
        Where to sample; the image is centred on ``plane.centre``.
    size_mm : float or (float, float)
        Width (along ``u``) and height (along ``v``) covered, in mm.
    spacing_mm : float
        Pixel size of the result in mm (isotropic).
    order : int
        Interpolation order: 1 trilinear (default), 0 nearest.
    fill : float
        Value outside the volume (default air, -1000 HU).

    Returns
    -------
    numpy.ndarray
        ``(rows, cols)`` float32, ``rows = round(height / spacing)``.
    """
    if order not in (0, 1):
        raise ValueError("order must be 0 (nearest) or 1 (trilinear)")
    return _sample(volume, plane, size_mm, spacing_mm, order, float(fill), np.float32)


def reslice_labels(labels, plane: Plane, size_mm, spacing_mm: float) -> np.ndarray:
    """The label map on ``plane`` (nearest neighbour, 0 outside), in the label map's dtype."""
    return _sample(labels, plane, size_mm, spacing_mm, 0, 0, labels.array.dtype)


def direction_letters(vector, threshold: float = 0.3) -> str:
    """Patient letters of an LPS direction, strongest first (e.g. (0.8, 0, 0.6) -> "LS")."""
    d = _unit(vector)
    order = np.argsort(-np.abs(d))
    return "".join(_LETTERS[a][0 if d[a] > 0 else 1] for a in order if abs(d[a]) >= threshold)


# -- planes a TAVI planner snaps to -------------------------------------------------------------
def plane_from_annulus(measurements: dict) -> Plane:
    """The annulus plane: centred on the annulus, ``u`` along its major axis when known."""
    ann = (measurements or {}).get("annulus") or {}
    if "centre_lps" not in ann or "normal_lps" not in ann:
        raise InputError("The aortic annulus has not been measured: run Measure in the "
                         "Model & measure step first.")
    return Plane.through(ann["centre_lps"], ann["normal_lps"], ann.get("major_axis_lps"))


def plane_from_pose(pose, centre=None, perpendicular: bool = False) -> Plane:
    """A plane along a placed device's axis (pose: 4x4 device -> LPS, device +z = axis).

    By default the plane *contains* the device axis, as a TAVI planner's
    longitudinal view does to judge implant depth against the annulus: the axis
    runs up the screen (``v = -axis``, outflow on top), ``u`` is the device's
    x axis; rotating about ``v`` turns the view around the device axis.
    ``perpendicular=True`` gives the cross-section instead (normal = axis).

    ``centre`` (LPS), when given, is projected onto the axis (e.g. the annulus
    centre, so the view is centred on the landing zone); otherwise the pose
    origin (the device's inflow end) is used.
    """
    p = np.asarray(pose, dtype=float)
    if p.shape != (4, 4) or not np.all(np.isfinite(p)):
        raise InputError("The device pose must be a finite 4x4 matrix: place a device first.")
    origin, x_axis, axis = p[:3, 3], _unit(p[:3, 0], "device x axis"), _unit(p[:3, 2], "device axis")
    if centre is not None:
        origin = origin + np.dot(np.asarray(centre, float) - origin, axis) * axis
    if perpendicular:
        return Plane.through(origin, axis, x_axis)
    u = _perpendicular(axis, x_axis)
    v = -axis
    return Plane(origin, np.cross(u, v), u, v)


def centreline_points(measurements: dict) -> np.ndarray:
    """The aortic centreline (N >= 2, 3) from the measurements, or a clear InputError."""
    line = (measurements or {}).get("aortic_centreline") or {}
    pts = np.asarray(line.get("points_lps") or [], dtype=float).reshape(-1, 3)
    if len(pts) < 2:
        raise InputError("The aortic centreline has not been measured: run Measure in the "
                         "Model & measure step first (it needs the annulus and the aorta).")
    return pts


def plane_on_centreline(measurements: dict, t: float, u_hint=None, smooth_mm: float = 4.0) -> Plane:
    """The plane perpendicular to the aortic centreline at fraction ``t`` (0 annulus, 1 end) of its length.

    The tangent is the chord between the points ``smooth_mm`` before and after
    (so the plane does not flicker between 2 mm centreline segments); ``u`` is
    kept near ``u_hint`` (pass the previous plane's ``u`` for a steady picture).
    """
    pts = centreline_points(measurements)
    seg = np.linalg.norm(np.diff(pts, axis=0), axis=1)
    arc = np.concatenate([[0.0], np.cumsum(seg)])
    s = float(np.clip(t, 0.0, 1.0)) * arc[-1]

    def at(a: float) -> np.ndarray:
        return np.array([np.interp(a, arc, pts[:, c]) for c in range(3)])

    h = min(smooth_mm, 0.5 * arc[-1])
    lo, hi = max(s - h, 0.0), min(s + h, arc[-1])
    if hi - lo < 1e-6:
        lo, hi = 0.0, arc[-1]
    return Plane.through(at(s), at(hi) - at(lo), u_hint)
