"""Valve planes other than the aortic annulus: mitral annulus and pulmonary valve.

Both are where two blood pools of the label map meet at a valve (DESIGN.md
boundaries): the mitral annulus where the LV blood pool (1) meets the LA (3),
the pulmonary valve where the RV (2) meets the pulmonary artery (7). As for
the aortic annulus, the face-adjacent voxel pairs of the two labels give
interface points, a plane is fitted to them, and the two lumens together are
cut parallel to that plane within a few mm on either side (star-shaped from
the interface axis, so a neighbouring cavity does not enter the contour); the
valve is the narrowest of those sections (the orifice between the cavities). The normal points downstream (LA -> LV,
RV -> PA). Uncertainty: the same cut with the lumen eroded / dilated by one
voxel.
"""

from __future__ import annotations

import numpy as np

from . import uncertainty
from .annulus import fit_plane, interface_points
from .sections import SECTION_SIZES, MaskField, polar_section

LV, RV, LA, PA = 1, 2, 3, 7

#: radius (mm) around the interface centre whose cavity centroids give the flow axis
AXIS_RADIUS_MM = 20.0


def _valve_plane(labels, upstream: int, downstream: int):
    """``(centre, normal upstream -> downstream)`` at the interface, or None.

    The interface of two painted cavities is usually curved (one cavity's wall
    bulges into the other's opening), so its fitted plane can lie sideways;
    the flow axis is taken instead from the centroids of the two cavities
    within :data:`AXIS_RADIUS_MM` of the interface centre.
    """
    pts = interface_points(labels, upstream, downstream)
    if len(pts) < 12:
        return None
    centre = pts.mean(axis=0)
    arr = np.asarray(labels.array)
    means = []
    for lab in (upstream, downstream):
        idx = np.argwhere(_crop_near(labels, arr == lab, centre, AXIS_RADIUS_MM))
        lps = labels.index_to_lps(idx[:, ::-1].astype(float))
        lps = lps[np.linalg.norm(lps - centre, axis=1) < AXIS_RADIUS_MM]
        if len(lps) == 0:
            return None
        means.append(lps.mean(axis=0))
    normal = means[1] - means[0]
    if np.linalg.norm(normal) < 1e-6:
        normal = fit_plane(pts)[1]
    return centre, normal / np.linalg.norm(normal)


def _crop_near(labels, mask: np.ndarray, centre, within_mm: float = 40.0) -> np.ndarray:
    """``mask`` kept only within a box of ``within_mm`` around ``centre``."""
    ijk = np.round(labels.lps_to_index(np.asarray(centre, float)[None])[0]).astype(int)[::-1]
    half = np.ceil(within_mm / np.asarray(labels.spacing)[::-1]).astype(int)
    lo, hi = np.maximum(ijk - half, 0), np.minimum(ijk + half + 1, mask.shape)
    out = np.zeros_like(mask, dtype=bool)
    out[lo[0]:hi[0], lo[1]:hi[1], lo[2]:hi[2]] = mask[lo[0]:hi[0], lo[1]:hi[1], lo[2]:hi[2]]
    return out


#: offsets (mm, along the normal) searched for the narrowest section
LEVELS_MM = np.arange(-5.0, 5.01, 0.5)


def _narrowest_level(field: MaskField, centre, normal) -> float | None:
    areas = []
    for h in LEVELS_MM:
        s = polar_section(field, centre + h * normal, normal, n_angles=120, dr_mm=0.2)
        areas.append(np.inf if s is None else s.area_mm2)
    areas = np.asarray(areas)
    return None if not np.isfinite(areas).any() else float(LEVELS_MM[int(np.argmin(areas))])


def measure_valve_plane(labels, upstream: int, downstream: int, name: str) -> tuple[dict, list[str]]:
    """Area, perimeter, diameters, centre and normal of a valve plane (JSON-ready)."""
    found = _valve_plane(labels, upstream, downstream)
    if found is None:
        return {}, [f"{name} not measured: labels {upstream} and {downstream} do not touch."]
    centre, normal = found
    arr = np.asarray(labels.array)
    lumen = _crop_near(labels, (arr == upstream) | (arr == downstream), centre)
    fields = [MaskField(labels, uncertainty.shifted(lumen, v)) for v in uncertainty.VARIANTS]
    level = _narrowest_level(fields[0], centre, normal)
    if level is None:
        return {}, [f"{name} not measured: no closed lumen contour near the valve plane."]
    secs = [polar_section(f, centre + level * normal, normal) for f in fields]
    if secs[0] is None:
        return {}, [f"{name} not measured: no closed lumen contour on the valve plane."]
    out: dict = {}
    for key, get in SECTION_SIZES.items():
        uncertainty.put(out, key, [None if s is None else get(s) for s in secs])
    out["eccentricity"] = round(secs[0].eccentricity, 3)
    out["centre_lps"] = [round(float(v), 2) for v in secs[0].centroid]
    out["normal_lps"] = [round(float(v), 4) for v in normal]
    return out, []


def measure_mitral_annulus(labels) -> tuple[dict, list[str]]:
    """The mitral annulus (LA -> LV interface plane)."""
    return measure_valve_plane(labels, LA, LV, "Mitral annulus")


def measure_pulmonary_valve(labels) -> tuple[dict, list[str]]:
    """The pulmonary valve plane (RV -> PA interface)."""
    return measure_valve_plane(labels, RV, PA, "Pulmonary valve")
