"""Static fit of a placed device against the anatomy (one cardiac phase).

The device is its outer envelope, a surface of revolution given by its
meridian ``profile_rz`` ([r, z] rows in the device frame: axis +z, z = 0 the
inflow end) and placed by a 4x4 ``pose`` (device -> LPS). The anatomy is an
:class:`~.field.AnatomyField` (signed distance to the lumen wall, built once),
so a fit after a move only samples that field: a few thousand trilinear
look-ups, a few milliseconds.

Models and tolerances (stated, simple)
--------------------------------------
* Sizing against the annulus measurement: the device's nominal sealing
  diameter ``D`` against the annulus area and perimeter
  (``oversizing_*_percent = 100 * (device / annulus - 1)``).
* Expected constrained frame: along each direction, frame diameter =
  annulus diameter + ``radial_stiffness`` x (``D`` - annulus diameter), with
  the annulus minimum/maximum diameters as the two directions, so the frame's
  eccentricity follows the annulus by about (1 - stiffness).
  ``expansion_percent`` = 100 x area-equivalent frame diameter / ``D``;
  ``compression_percent`` = 100 - ``expansion_percent``.
* Sealing: ``n_levels`` cross-sections through the sealing zone, ``n_around``
  rays each, cast outwards from the nominal envelope along the radial
  direction (sphere tracing in the distance field). The gap is the distance
  along the ray to the wall (capped at :data:`GAP_CAP_MM`: a ray escaping
  through an opening such as a coronary ostium counts as that much); the
  frame touches the wall where the gap is <= :data:`APPOSITION_TOLERANCE_MM`.
  Per level (``levels``): the share of touching rays, the largest gap and the
  gap area. Headline figures (paravalvular leak risk, :func:`leak_channels`):
  a leak needs a channel along the whole sealing zone, so
  ``apposition_percent`` is the share of the circumference sealed at one
  level at least, ``max_gap_mm`` / ``gap_area_mm2`` the channels' width and
  area at their narrowest.
* Penetration: how deep the nominal envelope lies outside the lumen (minus
  the signed distance), over the whole envelope, split by the nearest
  tissue label: myocardium (label 5) or other wall.
* Coronary distance (virtual valve-to-coronary): from the ostium to the
  envelope, horizontally (perpendicular to the device axis) when the ostium
  lies within the device height (negative: the envelope covers the ostium),
  else the 3D distance to the envelope surface.
* Implant depth: distance of the inflow-end centre below the annulus plane
  along the annulus normal, the normal taken pointing the way the device
  axis points; positive = the inflow end lies on the inflow (ventricular)
  side of the annulus.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import InputError
from .field import AnatomyField

#: the frame touches the wall where the radial gap is at most this (mm)
APPOSITION_TOLERANCE_MM = 0.5
#: gaps are followed at most this far (mm) along a ray
GAP_CAP_MM = 10.0
#: sphere-tracing steps along each sealing ray, and the step (mm) at which a ray has arrived
TRACE_STEPS = 24
TRACE_TOLERANCE_MM = 0.01
#: spacing (mm) of the envelope rings sampled for penetration
RING_STEP_MM = 1.0
#: levels per mm of sealing zone when ``n_levels`` is not given
LEVELS_PER_MM = 1.0
MYOCARDIUM = 5


@dataclass
class FitResult:
    """Outcome of :func:`static_fit`.

    Attributes
    ----------
    metrics : dict
        DESIGN.md metric names -> float (mm, mm2, %) or None when not applicable.
    levels : list of dict
        Per sealing level: ``z_mm`` (device frame), ``apposition_percent``,
        ``max_gap_mm``, ``gap_area_mm2``, ``max_penetration_mm``.
    points_lps : ndarray (K, n_around, 3)
        Envelope sample points (rings at ``ring_z_mm``).
    penetration : ndarray (K, n_around)
        Depth (mm, >= 0) of each sample point outside the lumen.
    penetration_label : ndarray (K, n_around)
        Nearest tissue label at each sample point.
    ring_z_mm : ndarray (K,)
        Device-frame height of each ring.
    sealing_gap_mm : ndarray (L, n_around)
        Per sealing level and ray: first wall radius minus envelope radius
        (> 0 gap, < 0 envelope pressed into the wall), None without levels.
    """

    metrics: dict
    levels: list = field(default_factory=list)
    points_lps: np.ndarray | None = None
    penetration: np.ndarray | None = None
    penetration_label: np.ndarray | None = None
    ring_z_mm: np.ndarray | None = None
    sealing_gap_mm: np.ndarray | None = None


def penetration_map(points_lps, anatomy: AnatomyField) -> np.ndarray:
    """Depth (mm, >= 0) of each LPS point outside the lumen: for colouring a device mesh."""
    return np.maximum(-anatomy.sample(points_lps), 0.0)


def static_fit(profile_rz, pose, anatomy: AnatomyField, *, sealing_zone, nominal_diameter_mm: float,
               radial_stiffness: float, annulus: dict | None = None, ostia: dict | None = None,
               n_around: int = 72, n_levels: int | None = None) -> FitResult:
    """Fit metrics of a device envelope placed by ``pose`` in ``anatomy``.

    Parameters
    ----------
    profile_rz : array_like (K, 2)
        Outer meridian [r, z] (device frame, mm), from z min to z max.
    pose : array_like (4, 4)
        Device frame -> LPS (rigid).
    anatomy : AnatomyField
        Signed distance field of the lumen the device sits in.
    sealing_zone : (float, float)
        Device-frame z-range (mm) that must seal.
    nominal_diameter_mm : float
        Outer diameter of the sealing zone at nominal expansion.
    radial_stiffness : float
        0..1, share of the device/annulus mismatch the frame wins.
    annulus : dict, optional
        Measurement (``area_mm2``, ``perimeter_mm``, ``min_diameter_mm``,
        ``max_diameter_mm``, ``eccentricity``, ``centre_lps``, ``normal_lps``;
        a ``diameter_mm`` alone serves as the reference diameter).
    ostia : dict, optional
        ``{"left": {"point_lps": [x, y, z]}, "right": {...}}``.
    n_around : int
        Rays (and envelope samples) around the circumference.
    n_levels : int, optional
        Sealing cross-sections; default one per mm of the zone.

    Returns
    -------
    FitResult
    """
    prof = _check_profile(profile_rz)
    pose = np.asarray(pose, float)
    if pose.shape != (4, 4):
        raise InputError(f"A device pose must be a 4x4 matrix, got shape {pose.shape}.")
    if nominal_diameter_mm <= 0:
        raise InputError(f"Nominal device diameter must be positive, got {nominal_diameter_mm} mm.")
    if not 0.0 <= radial_stiffness <= 1.0:
        raise InputError(f"Radial stiffness must lie in 0..1, got {radial_stiffness}.")
    rot, centre = pose[:3, :3], pose[:3, 3]
    theta = np.arange(n_around) * (2 * np.pi / n_around)
    cos, sin = np.cos(theta), np.sin(theta)

    # penetration over the whole envelope
    ring_r, ring_z = _rings(prof)
    local = np.stack([ring_r[:, None] * cos, ring_r[:, None] * sin,
                      np.broadcast_to(ring_z[:, None], (len(ring_z), n_around))], axis=-1)
    pts = local @ rot.T + centre
    pen = np.maximum(-anatomy.sample(pts), 0.0)
    lab = anatomy.label_at(pts)
    metrics = {"max_penetration_mm": float(pen.max())}
    myo = lab == MYOCARDIUM
    metrics["max_penetration_myocardium_mm"] = float(pen[myo].max()) if myo.any() else 0.0
    metrics["max_penetration_wall_mm"] = float(pen[~myo].max()) if (~myo).any() else 0.0

    levels, radial_gap = _sealing(prof, rot, centre, anatomy, sealing_zone, cos, sin, n_levels)
    if levels:
        metrics.update(leak_channels(prof, radial_gap, sealing_zone))
        metrics["apposition_mean_level_percent"] = float(np.mean([lv["apposition_percent"]
                                                                  for lv in levels]))
        metrics["apposition_worst_level_percent"] = min(lv["apposition_percent"] for lv in levels)
        # a wall met before the envelope radius is pressed in by that much
        metrics["max_penetration_mm"] = max(metrics["max_penetration_mm"],
                                            max(lv["max_penetration_mm"] for lv in levels))
    else:
        metrics.update(apposition_percent=None, apposition_mean_level_percent=None,
                       apposition_worst_level_percent=None, max_gap_mm=None, gap_area_mm2=None)

    metrics.update(sizing_metrics(nominal_diameter_mm, radial_stiffness, annulus))
    metrics["implant_depth_mm"] = implant_depth(pose, annulus)
    for side in ("left", "right"):
        o = (ostia or {}).get(side) or {}
        p = o.get("point_lps") if isinstance(o, dict) else None
        metrics[f"coronary_distance_{side}_mm"] = None if p is None else coronary_distance(prof, pose, p)
    metrics = {k: (None if v is None else round(float(v), 3)) for k, v in metrics.items()}
    return FitResult(metrics, levels, pts, pen, lab, ring_z, radial_gap)


def leak_channels(prof, radial_gap, sealing_zone) -> dict:
    """Paravalvular leak channels: where the frame touches the wall at no level.

    Blood leaks around a device only through a channel that runs the whole
    length of the sealing zone; a gap at one level closed at another does not
    leak (e.g. a label map's LV cavity beside the root below the annulus,
    where the anterior mitral leaflet is not segmented). Per direction around
    the device the channel is as narrow as its narrowest level.
    ``apposition_percent`` is the share of the circumference sealed (touching
    at one level at least), ``max_gap_mm`` the widest channel's narrowest
    width, ``gap_area_mm2`` the channels' area at their narrowest.
    """
    gap = np.clip(radial_gap, 0.0, GAP_CAP_MM)
    n_levels, n_around = gap.shape
    z0, z1 = sorted(float(v) for v in sealing_zone)
    zs = np.linspace(max(z0, prof[:, 1].min()), min(z1, prof[:, 1].max()), n_levels)
    r = radius_at(prof, zs)[:, None]
    area = 0.5 * (2 * np.pi / n_around) * ((r + gap) ** 2 - r ** 2)   # (L, A)
    channel = gap.min(axis=0)
    return {"apposition_percent": 100.0 * float(np.mean(channel <= APPOSITION_TOLERANCE_MM)),
            "max_gap_mm": float(channel.max()),
            "gap_area_mm2": float(np.where(channel > APPOSITION_TOLERANCE_MM,
                                           area.min(axis=0), 0.0).sum())}


def sizing_metrics(nominal_diameter_mm: float, radial_stiffness: float, annulus: dict | None) -> dict:
    """Oversizing, expected expansion and eccentricity of the constrained frame (module docstring)."""
    keys = ("oversizing_area_percent", "oversizing_perimeter_percent", "expansion_percent",
            "compression_percent", "eccentricity_device")
    out = dict.fromkeys(keys)
    if not annulus:
        return out
    d = float(nominal_diameter_mm)
    area, perim = annulus.get("area_mm2"), annulus.get("perimeter_mm")
    if area:
        out["oversizing_area_percent"] = 100.0 * (np.pi * d * d / 4.0 / float(area) - 1.0)
    if perim:
        out["oversizing_perimeter_percent"] = 100.0 * (np.pi * d / float(perim) - 1.0)
    ref = _reference_diameter(annulus)
    if ref is None:
        return out
    k = float(radial_stiffness)
    dmin, dmax = annulus.get("min_diameter_mm"), annulus.get("max_diameter_mm")
    if not (dmin and dmax):
        e = float(annulus.get("eccentricity") or 0.0)
        # an ellipse of the reference area with min/max = 1 - e
        dmax, dmin = ref / np.sqrt(max(1.0 - e, 1e-6)), ref * np.sqrt(max(1.0 - e, 1e-6))
    fmin, fmax = float(dmin) + k * (d - float(dmin)), float(dmax) + k * (d - float(dmax))
    frame = ref + k * (d - ref)
    out["expansion_percent"] = 100.0 * frame / d
    out["compression_percent"] = 100.0 - out["expansion_percent"]
    out["eccentricity_device"] = 1.0 - min(fmin, fmax) / max(fmin, fmax)
    return out


def implant_depth(pose, annulus: dict | None) -> float | None:
    """Depth (mm) of the inflow-end centre below the annulus plane (module docstring)."""
    if not annulus or annulus.get("centre_lps") is None or annulus.get("normal_lps") is None:
        return None
    pose = np.asarray(pose, float)
    n = np.asarray(annulus["normal_lps"], float)
    n = n / np.linalg.norm(n)
    axis = pose[:3, 2]
    if n @ axis < 0:
        n = -n
    return float((np.asarray(annulus["centre_lps"], float) - pose[:3, 3]) @ n)


def coronary_distance(profile_rz, pose, point_lps) -> float:
    """Ostium to device envelope (mm): horizontal within the device height, else 3D."""
    prof = _check_profile(profile_rz)
    q = np.linalg.solve(np.asarray(pose, float), np.append(np.asarray(point_lps, float), 1.0))[:3]
    rho, z = float(np.hypot(q[0], q[1])), float(q[2])
    zmin, zmax = prof[:, 1].min(), prof[:, 1].max()
    if zmin <= z <= zmax:
        return rho - float(radius_at(prof, np.array([z]))[0])
    return _meridian_distance(prof, rho, z)


def radius_at(profile_rz, z) -> np.ndarray:
    """Outer envelope radius at device heights ``z`` (largest over the meridian; 0 outside)."""
    prof = np.asarray(profile_rz, float)
    z = np.atleast_1d(np.asarray(z, float))[:, None]
    r0, z0, r1, z1 = prof[:-1, 0], prof[:-1, 1], prof[1:, 0], prof[1:, 1]
    lo, hi = np.minimum(z0, z1), np.maximum(z0, z1)
    inside = (z >= lo - 1e-9) & (z <= hi + 1e-9)
    dz = z1 - z0
    flat = np.abs(dz) < 1e-12
    t = np.where(flat, 0.0, (z - z0) / np.where(flat, 1.0, dz))
    r = np.where(flat, np.maximum(r0, r1), r0 + np.clip(t, 0, 1) * (r1 - r0))
    return np.where(inside, r, 0.0).max(axis=1)


def _check_profile(profile_rz) -> np.ndarray:
    prof = np.asarray(profile_rz, float)
    if prof.ndim != 2 or prof.shape[1] != 2 or len(prof) < 2:
        raise InputError(f"A device profile must be [r, z] rows (at least 2), got shape {prof.shape}.")
    if np.any(prof[:, 0] < 0) or not np.all(np.isfinite(prof)):
        raise InputError("A device profile must have finite, non-negative radii.")
    return prof


def _rings(prof: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Points along the meridian every :data:`RING_STEP_MM` of arc length (vertices kept)."""
    seg = np.hypot(*np.diff(prof, axis=0).T)
    s = np.concatenate([[0.0], np.cumsum(seg)])
    steps = np.linspace(0.0, s[-1], max(int(np.ceil(s[-1] / RING_STEP_MM)) + 1, 2))
    s_all = np.unique(np.concatenate([steps, s]))
    return np.interp(s_all, s, prof[:, 0]), np.interp(s_all, s, prof[:, 1])


def _sealing(prof, rot, centre, anatomy, sealing_zone, cos, sin, n_levels):
    """Per-level apposition, gaps and gap area over the sealing zone, and the (L, A) radial gaps.

    Each ray starts on the device axis and is sphere-traced outwards to the
    first wall (a step of the distance to the wall never crosses it), so an
    envelope that pokes through a thin wall into a neighbouring cavity of the
    same lumen still counts as pressed into that wall.
    """
    z0, z1 = sorted(float(v) for v in sealing_zone)
    z0, z1 = max(z0, prof[:, 1].min()), min(z1, prof[:, 1].max())
    if z1 < z0:
        return [], None
    if n_levels is None:
        n_levels = int(np.ceil((z1 - z0) * LEVELS_PER_MM)) + 1
    zs = np.linspace(z0, z1, max(int(n_levels), 1)) if z1 > z0 else np.array([z0])
    r = radius_at(prof, zs)
    radial = np.stack([cos, sin, np.zeros_like(cos)], axis=-1) @ rot.T               # (A, 3) LPS
    axis_pts = np.stack([np.zeros_like(zs), np.zeros_like(zs), zs], axis=-1) @ rot.T + centre
    start = np.broadcast_to(axis_pts[:, None, :], (len(zs), len(cos), 3))
    dirs = np.broadcast_to(radial[None], start.shape)
    reach = (r + GAP_CAP_MM)[:, None] * np.ones((1, len(cos)))
    t = np.zeros(start.shape[:2])
    step = np.broadcast_to(np.maximum(anatomy.sample(axis_pts), 0.0)[:, None], t.shape).copy()
    for _ in range(TRACE_STEPS):
        t = np.minimum(t + step, reach)
        live = (step > TRACE_TOLERANCE_MM) & (t < reach)
        if not live.any():
            break
        step = np.zeros_like(t)
        step[live] = np.maximum(anatomy.sample(start[live] + t[live, None] * dirs[live]), 0.0)
    radial_gap = t - r[:, None]                       # > 0 gap, < 0 envelope beyond the first wall
    gap = np.clip(radial_gap, 0.0, GAP_CAP_MM)
    touch = gap <= APPOSITION_TOLERANCE_MM
    dtheta = 2 * np.pi / len(cos)
    area = 0.5 * dtheta * ((r[:, None] + gap) ** 2 - r[:, None] ** 2)
    pen = np.maximum(-radial_gap, 0.0)
    levels = [{"z_mm": round(float(zs[i]), 3),
               "apposition_percent": round(100.0 * float(touch[i].mean()), 3),
               "max_gap_mm": round(float(gap[i].max()), 3),
               "gap_area_mm2": round(float(area[i].sum()), 3),
               "max_penetration_mm": round(float(pen[i].max()), 3)} for i in range(len(zs))]
    return levels, radial_gap


def _reference_diameter(annulus: dict) -> float | None:
    if annulus.get("area_mm2"):
        return float(np.sqrt(4.0 * float(annulus["area_mm2"]) / np.pi))
    for key in ("area_derived_diameter_mm", "diameter_mm"):
        if annulus.get(key):
            return float(annulus[key])
    if annulus.get("min_diameter_mm") and annulus.get("max_diameter_mm"):
        return 0.5 * (float(annulus["min_diameter_mm"]) + float(annulus["max_diameter_mm"]))
    return None


def _meridian_distance(prof: np.ndarray, rho: float, z: float) -> float:
    """3D distance from a point (rho, z) to the closed envelope of revolution (caps included)."""
    pts = prof
    if pts[0, 0] > 0:
        pts = np.vstack([[0.0, pts[0, 1]], pts])
    if pts[-1, 0] > 0:
        pts = np.vstack([pts, [0.0, pts[-1, 1]]])
    a, b = pts[:-1], pts[1:]
    ab = b - a
    q = np.array([rho, z])
    t = np.clip(((q - a) * ab).sum(axis=1) / np.maximum((ab * ab).sum(axis=1), 1e-12), 0.0, 1.0)
    near = a + t[:, None] * ab
    return float(np.hypot(*(near - q).T).min())
