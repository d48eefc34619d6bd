"""Parametric device geometry: meridian profiles and closed surfaces of revolution.

Every device family is axisymmetric about its local +z axis (z = 0 the inflow
end, see the devices contract), so its outer envelope is fully described by a
meridian ``[r, z]`` polyline that starts and ends on the axis. The polyline is
built from a size's ``geometry`` parameters and revolved into a watertight
triangle mesh; :mod:`.frame` builds the strut or wire frame on the same
envelope.

Expansion state
---------------
``diameter_mm`` is the sealing-zone diameter (cylinder: the frame diameter;
flared: the inflow diameter; plug: the body diameter; double disc: the waist
diameter). Every other diameter scales by the same factor, except a double
disc's discs, which keep their size while the defect squeezes the waist. The length of a
stent frame (cylinder, flared) follows from its diamond cells: each strut
keeps its length L, so a cell that opens to half-width ``w = pi * D / (2 *
cells_around)`` has half-height ``h = sqrt(L**2 - w**2)`` and the frame
shortens when it opens wider (foreshortening), row by row with the local
diameter. Occluders keep their length.

Only the attributes of the catalogue objects named in the contract are used
(``family.shape``, ``family.size(s)``, ``size.nominal_diameter_mm``,
``min_diameter_mm``, ``max_diameter_mm``, ``geometry``), so any object with
them works.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
from vtkmodules.util.numpy_support import numpy_to_vtk, numpy_to_vtkIdTypeArray
from vtkmodules.vtkCommonCore import vtkPoints
from vtkmodules.vtkCommonDataModel import vtkCellArray, vtkPolyData

from ..errors import InputError

#: geometry keys each shape needs (all mm except the cell counts)
REQUIRED_KEYS = {
    "cylinder": ("diameter_mm", "height_mm", "cells_around", "rows"),
    "flared": ("height_mm", "inflow_diameter_mm", "waist_diameter_mm", "waist_z_mm",
               "outflow_diameter_mm", "cells_around", "rows"),
    "plug": ("diameter_mm", "length_mm"),
    "double_disc": ("waist_diameter_mm", "waist_length_mm", "left_disc_diameter_mm",
                    "right_disc_diameter_mm", "disc_thickness_mm"),
}
#: shapes whose frame is a lattice of diamond cells (foreshortening applies)
STRUT_SHAPES = ("cylinder", "flared")
_SEALING_KEY = {"cylinder": "diameter_mm", "flared": "inflow_diameter_mm",
                "plug": "diameter_mm", "double_disc": "waist_diameter_mm"}
_STEP_MM = 2.0          # longest meridian step on straight parts
_PLUG_SHOULDER = 0.4    # distal shoulder height as a share of the plug length
_PLUG_RIM = 0.1         # atrial-face rim radius as a share of the plug length
_TOL_MM = 1e-6


@dataclass
class DeviceMesh:
    """A triangle mesh in the device frame (or in LPS after :meth:`transformed`).

    Attributes
    ----------
    points : numpy.ndarray
        (N, 3) float64 coordinates in mm.
    triangles : numpy.ndarray
        (M, 3) int64 vertex ids, counter-clockwise seen from outside.
    """

    points: np.ndarray
    triangles: np.ndarray

    def transformed(self, pose) -> "DeviceMesh":
        """The mesh moved by a 4x4 rigid pose (device frame -> LPS).

        ``pose[:3, 3]`` is where the inflow centre lands, ``pose[:3, 2]`` the
        device axis. A mirroring pose is refused: it would turn the mesh inside out.
        """
        pose = np.asarray(pose, dtype=np.float64)
        if pose.shape != (4, 4) or not np.all(np.isfinite(pose)):
            raise InputError(f"a device pose must be a finite 4x4 matrix, got shape {pose.shape}")
        if np.linalg.det(pose[:3, :3]) <= 0:
            raise InputError("a device pose must be a rotation plus translation (no mirroring)")
        points = self.points @ pose[:3, :3].T + pose[:3, 3]
        return DeviceMesh(points, self.triangles)

    def to_polydata(self) -> vtkPolyData:
        """A vtkPolyData copy of the mesh (points and triangles)."""
        points = vtkPoints()
        points.SetData(numpy_to_vtk(np.ascontiguousarray(self.points, dtype=np.float64), deep=True))
        tris = np.ascontiguousarray(self.triangles, dtype=np.int64).ravel()
        cells = vtkCellArray()
        cells.SetData(numpy_to_vtkIdTypeArray(np.arange(0, tris.size + 1, 3, dtype=np.int64), deep=True),
                      numpy_to_vtkIdTypeArray(tris, deep=True))
        poly = vtkPolyData()
        poly.SetPoints(points)
        poly.SetPolys(cells)
        return poly


@dataclass(frozen=True)
class DeviceState:
    """One family and size resolved at one expansion state (see :func:`state`).

    Attributes
    ----------
    shape : str
    geometry : dict
        The size's geometry parameters as floats (nominal, unscaled).
    diameter_mm : float
        Sealing-zone diameter of this state.
    scale : float
        Factor applied to every diameter of the nominal geometry.
    levels : tuple of numpy.ndarray or None
        Strut shapes: (nominal, expanded) heights of the node rings of the
        diamond lattice; None for occluders (length kept).
    profile : numpy.ndarray
        (K, 2) meridian ``[r, z]`` of this state, axis to axis.
    """

    shape: str
    geometry: dict
    diameter_mm: float
    scale: float
    levels: tuple | None
    profile: np.ndarray

    def map_z(self, z):
        """Nominal heights -> heights at this expansion state."""
        return z if self.levels is None else np.interp(z, self.levels[0], self.levels[1])


def state(family, size, diameter_mm=None) -> DeviceState:
    """Resolve a family, a size (label or size object) and an expansion diameter.

    Raises
    ------
    InputError
        Unknown shape, missing or invalid geometry, a diameter outside the
        size's ``[min_diameter_mm, max_diameter_mm]`` or one the frame cannot reach.
    """
    where = f"device {getattr(family, 'id', family.shape)!r}"
    sz = size if hasattr(size, "nominal_diameter_mm") else family.size(size)
    where += f" size {sz.size:g}" if hasattr(sz, "size") else ""
    shape = family.shape
    g = _checked_geometry(shape, sz.geometry, where)
    d = float(sz.nominal_diameter_mm if diameter_mm is None else diameter_mm)
    lo, hi = float(sz.min_diameter_mm), float(sz.max_diameter_mm)
    if not (math.isfinite(d) and lo - _TOL_MM <= d <= hi + _TOL_MM):
        raise InputError(f"{where}: expansion diameter {d:g} mm is outside its range "
                         f"{lo:g}-{hi:g} mm; choose a diameter in that range or another size")
    nominal = _nominal_profile(shape, g, where)
    scale = d / g[_SEALING_KEY[shape]]
    levels = _levels(g, nominal, scale, d, where) if shape in STRUT_SHAPES else None
    if shape == "double_disc":  # the defect squeezes the waist; the discs keep their size
        profile = _nominal_profile(shape, {**g, "waist_diameter_mm": d}, where)
    else:
        profile = nominal.copy()
        profile[:, 0] *= scale
    if levels is not None:
        profile[:, 1] = np.interp(profile[:, 1], levels[0], levels[1])
    return DeviceState(shape, g, d, scale, levels, profile)


def profile(family, size, diameter_mm=None) -> np.ndarray:
    """The outer meridian ``[r, z]`` (K, 2) from z min to z max, starting and ending on the axis.

    ``diameter_mm`` is the sealing-zone diameter (default: the size's nominal
    one). Stent frames keep their strut length, so they shorten when opened
    wider; occluders scale radially with their length kept.
    """
    return state(family, size, diameter_mm).profile


def outer_radius(family, size, z, diameter_mm=None) -> np.ndarray:
    """Envelope radius (mm) at heights ``z`` (device frame); 0 outside the device."""
    return radius_at(state(family, size, diameter_mm).profile, z)


def dimensions(family, size, diameter_mm=None) -> dict:
    """Overall dimensions at an expansion state.

    Returns
    -------
    dict
        ``height_mm``, ``max_diameter_mm``, ``sealing_diameter_mm``, ``scale``
        (diameter factor), ``foreshortening_percent`` (height lost versus the
        catalogue height; negative when longer), and for valves
        ``skirt_height_mm`` when the catalogue gives it.
    """
    st = state(family, size, diameter_mm)
    z = st.profile[:, 1]
    height = float(z.max() - z.min())
    nominal_height = float(_nominal_profile(st.shape, st.geometry, "")[:, 1].max())
    out = {"height_mm": height, "max_diameter_mm": float(2 * st.profile[:, 0].max()),
           "sealing_diameter_mm": st.diameter_mm, "scale": st.scale,
           "foreshortening_percent": round(100.0 * (1 - height / nominal_height), 9) + 0.0}
    if "skirt_height_mm" in st.geometry:
        out["skirt_height_mm"] = float(st.map_z(st.geometry["skirt_height_mm"]))
    return out


def surface(family, size, diameter_mm=None, n_around: int = 64) -> DeviceMesh:
    """Closed, outward-oriented, manifold triangle mesh of the outer envelope.

    The meridian is revolved with ``n_around`` vertices per ring (vertices at
    angles ``2 pi j / n_around``); the ends close on single axis vertices.
    """
    n_around = int(n_around)
    if n_around < 3:
        raise InputError(f"a device surface needs at least 3 points around, got {n_around}")
    return revolve(state(family, size, diameter_mm).profile, n_around)


def frame(family, size, diameter_mm=None) -> DeviceMesh | None:
    """Strut tubes (stents, valves) or wire mesh (occluders); see :mod:`.frame`."""
    from . import frame as _frame  # frame.py builds on this module

    return _frame.frame(family, size, diameter_mm)


def revolve(meridian: np.ndarray, n_around: int) -> DeviceMesh:
    """Revolve an axis-to-axis meridian ``[r, z]`` about +z into a closed mesh."""
    r, z = meridian[1:-1, 0], meridian[1:-1, 1]
    theta = np.arange(n_around) * (2 * np.pi / n_around)
    k = len(r)
    pts = np.empty((k * n_around + 2, 3))
    pts[0] = (0.0, 0.0, meridian[0, 1])
    pts[-1] = (0.0, 0.0, meridian[-1, 1])
    ring = pts[1:-1].reshape(k, n_around, 3)
    ring[:, :, 0] = r[:, None] * np.cos(theta)
    ring[:, :, 1] = r[:, None] * np.sin(theta)
    ring[:, :, 2] = z[:, None]
    return DeviceMesh(pts, capped_grid(k, n_around))


@functools.lru_cache(maxsize=64)
def capped_grid(rings: int, n_around: int) -> np.ndarray:
    """Triangles of [pole, ``rings`` rings of ``n_around`` vertices, pole], read-only.

    Winding: with the rings advancing along a direction t and the ring angle
    turning right-handed about it, normals point away from the axis (and out
    of the end caps).
    """
    j = np.arange(n_around)
    j1 = (j + 1) % n_around
    k = np.arange(rings - 1)[:, None] * n_around + 1
    a, b = k + j, k + j1
    c, d = a + n_around, b + n_around
    side = np.stack([np.stack([a, b, c], -1), np.stack([b, d, c], -1)], 1).reshape(-1, 3)
    last = 1 + (rings - 1) * n_around
    top = rings * n_around + 1
    tris = np.concatenate([
        np.stack([np.zeros(n_around, np.int64), 1 + j1, 1 + j], -1),
        side,
        np.stack([last + j, last + j1, np.full(n_around, top)], -1),
    ]).astype(np.int64)
    tris.setflags(write=False)
    return tris


def radius_at(meridian: np.ndarray, z) -> np.ndarray:
    """Largest radius of a meridian polyline at heights ``z``; 0 outside it."""
    z = np.asarray(z, dtype=np.float64)
    flat = np.atleast_1d(z).ravel()
    ra, rb = meridian[:-1, 0], meridian[1:, 0]
    za, zb = meridian[:-1, 1], meridian[1:, 1]
    lo, hi = np.minimum(za, zb), np.maximum(za, zb)
    dz = np.where(zb != za, zb - za, 1.0)
    out = np.zeros(flat.shape)
    step = max(1, 400_000 // len(ra))  # bounded memory for long query arrays
    for s in range(0, flat.size, step):
        q = flat[s:s + step, None]
        r = np.where(zb == za, np.maximum(ra, rb), ra + (q - za) / dz * (rb - ra))
        inside = (q >= lo - 1e-9) & (q <= hi + 1e-9)
        out[s:s + step] = np.where(inside, r, 0.0).max(axis=1)
    return out.reshape(z.shape)


def _checked_geometry(shape, geometry, where) -> dict:
    if shape not in REQUIRED_KEYS:
        raise InputError(f"{where}: unknown shape {shape!r}; use one of {', '.join(REQUIRED_KEYS)}")
    missing = [k for k in REQUIRED_KEYS[shape] if k not in geometry]
    if missing:
        raise InputError(f"{where}: geometry lacks {', '.join(missing)} "
                         f"(a {shape} needs {', '.join(REQUIRED_KEYS[shape])})")
    g = {}
    for key, value in geometry.items():
        try:
            g[key] = float(value)
        except (TypeError, ValueError):
            if key in REQUIRED_KEYS[shape] or key.endswith("_mm"):
                raise InputError(f"{where}: geometry {key} must be a number, got {value!r}") from None
            continue  # a descriptive extra, not a dimension
        required = key in REQUIRED_KEYS[shape]
        if not math.isfinite(g[key]) or g[key] < 0 or (required and g[key] == 0):
            kind = "a positive" if required else "a non-negative"
            raise InputError(f"{where}: geometry {key} must be {kind} number, got {value!r}")
    for key, least in (("cells_around", 3), ("rows", 1)):
        if key in REQUIRED_KEYS[shape] and (g[key] != int(g[key]) or g[key] < least):
            raise InputError(f"{where}: geometry {key} must be a whole number "
                             f"(at least {least}), got {geometry[key]!r}")
    return g


def _nominal_profile(shape, g, where) -> np.ndarray:
    build = {"cylinder": _cylinder, "flared": _flared, "plug": _plug, "double_disc": _double_disc}
    pts = build[shape](g, where)
    keep = np.ones(len(pts), bool)
    keep[1:] = np.any(np.abs(np.diff(pts, axis=0)) > _TOL_MM, axis=1)
    return pts[keep]


def _pieces(*parts) -> np.ndarray:
    return np.concatenate([np.column_stack(p) for p in parts])


def _cylinder(g, where):
    r, h, rows = g["diameter_mm"] / 2, g["height_mm"], int(g["rows"])
    per_level = max(1, math.ceil(h / (2 * rows * _STEP_MM)))
    z = np.linspace(0.0, h, 2 * rows * per_level + 1)  # node levels are among the rings
    return _pieces(([0.0], [0.0]), (np.full_like(z, r), z), ([0.0], [h]))


def _flared(g, where):
    h, zw = g["height_mm"], g["waist_z_mm"]
    if zw >= h:
        raise InputError(f"{where}: geometry waist_z_mm ({zw:g}) must be below height_mm ({h:g})")
    ri, rw, ro = (g[k] / 2 for k in ("inflow_diameter_mm", "waist_diameter_mm", "outflow_diameter_mm"))
    t1 = np.linspace(0.0, 1.0, max(12, math.ceil(zw / 0.75)) + 1)
    t2 = np.linspace(0.0, 1.0, max(12, math.ceil((h - zw) / 0.75)) + 1)[1:]
    # cosine blends: radius flat at inflow, waist and outflow, smooth (C1) throughout
    r1 = rw + (ri - rw) * (1 + np.cos(np.pi * t1)) / 2
    r2 = rw + (ro - rw) * (1 - np.cos(np.pi * t2)) / 2
    return _pieces(([0.0], [0.0]), (r1, zw * t1), (r2, zw + (h - zw) * t2), ([0.0], [h]))


def _plug(g, where):
    r, length = g["diameter_mm"] / 2, g["length_mm"]
    a = min(_PLUG_SHOULDER * length, r)          # rounded distal shoulder (half ellipsoid)
    b = min(_PLUG_RIM * length, 0.5 * r, length - a)  # rounded rim of the flat atrial face
    phi = np.linspace(0.0, np.pi / 2, 17)
    side = np.linspace(a, length - b, max(2, math.ceil((length - a - b) / _STEP_MM) + 1))[1:-1]
    psi = np.linspace(0.0, np.pi / 2, 9)
    face = np.linspace(r - b, 0.0, max(2, math.ceil((r - b) / _STEP_MM) + 1))[1:]
    return _pieces((r * np.sin(phi), a * (1 - np.cos(phi))), (np.full_like(side, r), side),
                   (r - b + b * np.cos(psi), length - b + b * np.sin(psi)),
                   (face, np.full_like(face, length)))


def _double_disc(g, where):
    t, wl = g["disc_thickness_mm"], g["waist_length_mm"]
    rw = g["waist_diameter_mm"] / 2
    cl, cr = g["left_disc_diameter_mm"] / 2 - t / 2, g["right_disc_diameter_mm"] / 2 - t / 2
    if min(cl, cr) <= rw:
        raise InputError(f"{where}: each disc diameter must exceed waist_diameter_mm by more than "
                         f"disc_thickness_mm (discs have half-round rims)")
    phi = np.linspace(-np.pi / 2, np.pi / 2, 13)
    arc_r, arc_z = t / 2 * np.cos(phi), t / 2 * (1 + np.sin(phi))
    wz = np.linspace(t, t + wl, max(2, math.ceil(wl / _STEP_MM) + 1))
    return _pieces(([0.0], [0.0]), (cl + arc_r, arc_z), (np.full_like(wz, rw), wz),
                   (cr + arc_r, t + wl + arc_z), ([0.0], [2 * t + wl]))


def _levels(g, nominal, scale, d, where):
    """(nominal, expanded) node-ring heights of the diamond lattice, strut length kept."""
    n, rows = int(g["cells_around"]), int(g["rows"])
    h0 = g["height_mm"] / (2 * rows)
    z0 = h0 * np.arange(2 * rows + 1)
    w0 = np.pi * radius_at(nominal, (z0[:-1] + z0[1:]) / 2) / n  # half cell width per strut row
    length2 = h0 ** 2 + w0 ** 2
    w = scale * w0
    if np.any(w ** 2 >= length2):
        reach = d * float(np.min(np.sqrt(length2) / w))
        raise InputError(f"{where}: the frame cannot open to {d:g} mm (its struts are straight "
                         f"around at {reach:.1f} mm); check max_diameter_mm in the catalogue")
    return z0, np.concatenate([[0.0], np.cumsum(np.sqrt(length2 - w ** 2))])
