"""Neo-LVOT: the LV outflow left between a mitral device and the septum.

A valve in the mitral position pushes the anterior mitral leaflet towards
the septum and can obstruct the LV outflow tract (LVOT). The stated model:

* the device is a solid body of revolution (its outer meridian
  ``profile_rz``, placed by ``pose``);
* its skirt is extended beyond the ventricular end by
  ``leaflet_extension_mm`` at the end radius: the displaced anterior leaflet,
  held open by the frame, continues the frame into the ventricle. The
  ventricular end is the end whose centre lies in the LV blood pool (label
  1); when neither or both do, the inflow end z = 0 (contract convention);
* the LVOT axis is the line through the aortic annulus centre along its
  normal; planes perpendicular to it are cut every ``step_mm`` from
  ``depth_range_mm[0]`` to ``depth_range_mm[1]`` below the annulus;
* on each plane, within ``radius_mm`` of the axis (default: the annulus
  maximum radius + 10 mm), the LV blood pool (label 1, nearest voxel) not
  inside the device is the free outflow; the neo-LVOT at that level is the
  connected part of it that holds the free pixel nearest the axis;
* ``neo_lvot_area_mm2`` is the smallest such area; the native area (same
  construction without the device) at that level and the native minimum are
  reported beside it.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from ..anatomy.sections import plane_basis
from ..errors import InputError
from .fit import _check_profile, radius_at

LV = 1
#: default extension (mm) of the skirt as the displaced anterior leaflet
LEAFLET_EXTENSION_MM = 5.0
#: default range of depths (mm) below the aortic annulus searched for the narrowest section
DEPTH_RANGE_MM = (2.0, 30.0)


def neo_lvot_area(labels, profile_rz, pose, aortic_annulus: dict, *,
                  leaflet_extension_mm: float = LEAFLET_EXTENSION_MM,
                  depth_range_mm=DEPTH_RANGE_MM, step_mm: float = 1.0, pixel_mm: float = 0.5,
                  radius_mm: float | None = None) -> dict:
    """Smallest LV outflow cross-section left by a mitral device (module docstring).

    Parameters
    ----------
    labels : Volume
        Label map (label 1 = LV blood pool, LVOT included).
    profile_rz : array_like (K, 2)
        The device's outer meridian [r, z] (device frame).
    pose : array_like (4, 4)
        Device frame -> LPS.
    aortic_annulus : dict
        Aortic annulus measurement with ``centre_lps``, ``normal_lps`` (LV ->
        aorta) and, optionally, ``max_diameter_mm``.
    leaflet_extension_mm, depth_range_mm, step_mm, pixel_mm, radius_mm
        Model parameters (module docstring); lengths in mm.

    Returns
    -------
    dict
        ``neo_lvot_area_mm2``, ``neo_lvot_depth_mm`` (below the annulus),
        ``native_lvot_area_mm2`` (same level, no device),
        ``native_lvot_min_area_mm2``, ``obstruction_percent`` (share of the
        native area at that level taken by the device). Areas are None when
        the LV outflow is not found.
    """
    prof = _check_profile(profile_rz)
    if not aortic_annulus or aortic_annulus.get("centre_lps") is None \
            or aortic_annulus.get("normal_lps") is None:
        raise InputError("Neo-LVOT needs the aortic annulus (centre and normal): measure the "
                         "aortic annulus first (label 1 must meet label 6).")
    pose = np.asarray(pose, float)
    inv = np.linalg.inv(pose)
    centre = np.asarray(aortic_annulus["centre_lps"], float)
    n, u, v = plane_basis(aortic_annulus["normal_lps"])
    if radius_mm is None:
        radius_mm = 0.5 * float(aortic_annulus.get("max_diameter_mm") or 30.0) + 10.0
    ticks = np.arange(-radius_mm, radius_mm + 1e-9, pixel_mm)
    gu, gv = np.meshgrid(ticks, ticks, indexing="ij")
    disk = gu ** 2 + gv ** 2 <= radius_mm ** 2
    depths = np.arange(depth_range_mm[0], depth_range_mm[1] + 1e-9, step_mm)

    zmin, zmax = prof[:, 1].min(), prof[:, 1].max()
    ends = [zmin, zmax]
    end_labels = _labels_at(labels, np.array([pose[:3, :3] @ [0, 0, z] + pose[:3, 3] for z in ends]))
    ventricular = 1 if (end_labels[1] == LV and end_labels[0] != LV) else 0
    end_r = float(radius_at(prof, np.array([ends[ventricular]]))[0])

    best = None
    native_areas = []
    pix_area = pixel_mm ** 2
    for depth in depths:
        pts = centre - depth * n + gu[..., None] * u + gv[..., None] * v
        lv = (_labels_at(labels, pts) == LV) & disk
        q = pts @ inv[:3, :3].T + inv[:3, 3]
        rho, z = np.hypot(q[..., 0], q[..., 1]), q[..., 2]
        solid = rho <= radius_at(prof, z.ravel()).reshape(z.shape)
        if ventricular == 0:
            solid |= (z < zmin) & (z >= zmin - leaflet_extension_mm) & (rho <= end_r)
        else:
            solid |= (z > zmax) & (z <= zmax + leaflet_extension_mm) & (rho <= end_r)
        native = _component_area(lv, gu, gv) * pix_area
        free = _component_area(lv & ~solid, gu, gv) * pix_area
        native_areas.append(native)
        if native > 0 and (best is None or free < best[0]):
            best = (free, float(depth), native)
    if best is None:
        return {"neo_lvot_area_mm2": None, "neo_lvot_depth_mm": None, "native_lvot_area_mm2": None,
                "native_lvot_min_area_mm2": None, "obstruction_percent": None}
    free, depth, native = best
    return {"neo_lvot_area_mm2": round(free, 2), "neo_lvot_depth_mm": round(depth, 2),
            "native_lvot_area_mm2": round(native, 2),
            "native_lvot_min_area_mm2": round(min(a for a in native_areas if a > 0), 2),
            "obstruction_percent": round(100.0 * (1.0 - free / native), 2)}


def _labels_at(labels, points_lps) -> np.ndarray:
    """Label of the nearest voxel at LPS points (..., 3); 0 outside the image."""
    ijk = np.rint(labels.lps_to_index(points_lps)).astype(np.intp)
    arr = np.asarray(labels.array)
    nz, ny, nx = arr.shape
    ok = ((ijk[..., 0] >= 0) & (ijk[..., 0] < nx) & (ijk[..., 1] >= 0) & (ijk[..., 1] < ny)
          & (ijk[..., 2] >= 0) & (ijk[..., 2] < nz))
    out = np.zeros(ijk.shape[:-1], arr.dtype)
    out[ok] = arr[ijk[ok][:, 2], ijk[ok][:, 1], ijk[ok][:, 0]]
    return out


def _component_area(mask: np.ndarray, gu, gv) -> int:
    """Pixels of the connected part of ``mask`` holding its pixel nearest the axis."""
    if not mask.any():
        return 0
    comp, _ = ndimage.label(mask)
    d2 = np.where(mask, gu ** 2 + gv ** 2, np.inf)
    seed = np.unravel_index(np.argmin(d2), mask.shape)
    return int((comp == comp[seed]).sum())
