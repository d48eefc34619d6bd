"""A base anatomy scaled about its annulus: the virtual patient's field and measurements.

Building a signed distance field takes a fraction of a second and measuring
an anatomy seconds; a virtual patient reuses its base anatomy's field and
measurements through a scaling about the anchor centre ``c``, in the anchor
frame ``R`` (columns: annulus major axis, minor axis, device axis) with scale
factors ``s = (s_major, s_minor, s_axial)``::

    x_patient = c + R diag(s) R^T (x_base - c)
    SDF_patient(x) = k * SDF_base(c + R diag(1/s) R^T (x - c)),  k = sqrt(s_major s_minor)

For an isotropic scale ``s`` this is exact (``SDF_s(x) = s SDF(x / s)`` about
``c``). For an anisotropic one ``k``, the in-plane geometric mean, is exact
for walls parallel to the device axis (the root and annulus, where the fit
reads the field) and approximate elsewhere: a stated approximation.

The motion over the cycle (:mod:`.cycle`) multiplies the two in-plane
factors by the radial scale of each phase, so the field is never rebuilt.
Measurements scale with the same map: areas by ``s_major s_minor``,
diameters along their axes, perimeters as the scaled ellipse's (Ramanujan),
coronary ostia moved as points and their heights by ``s_axial``.
"""

from __future__ import annotations

import numpy as np

from ..core.devices.placement import pose_from


def anchor_frame(axis, major=None) -> np.ndarray:
    """(3, 3) rotation whose columns are the major axis, minor axis and device axis."""
    return pose_from(np.zeros(3), axis, major)[:3, :3]


class ScaledField:
    """An :class:`~hearttwin.core.devices.field.AnatomyField` seen through a scaling.

    Offers the two queries the static fit uses, :meth:`sample` and
    :meth:`label_at`, so :func:`~hearttwin.core.devices.fit.static_fit` runs
    on it unchanged.

    Parameters
    ----------
    base : AnatomyField
    centre : array_like (3,)
        Fixed point of the scaling (LPS mm), the anchor centre.
    frame : array_like (3, 3)
        :func:`anchor_frame`.
    scales : array_like (3,)
        (major, minor, axial) factors, all > 0.
    labels : bool
        Answer :meth:`label_at` from the base labels (True) or with 0,
        "other wall", everywhere (False: 40 % of a fit's time saved when the
        myocardium/other-wall split of the penetration is not wanted).
    """

    def __init__(self, base, centre, frame, scales, labels: bool = True):
        s = np.asarray(scales, float)
        if s.shape != (3,) or np.any(~(s > 0)):
            raise ValueError(f"scale factors must be three positive numbers, got {scales}")
        self.base = base
        self.centre = np.asarray(centre, float)
        r = np.asarray(frame, float)
        self.inverse = r @ np.diag(1.0 / s) @ r.T   # patient -> base (symmetric)
        self.forward = r @ np.diag(s) @ r.T         # base -> patient
        self.distance_scale = float(np.sqrt(s[0] * s[1]))
        self.labels = labels

    def to_base(self, points_lps) -> np.ndarray:
        p = np.asarray(points_lps, float)
        return (p - self.centre) @ self.inverse + self.centre

    def to_patient(self, points_lps) -> np.ndarray:
        p = np.asarray(points_lps, float)
        return (p - self.centre) @ self.forward + self.centre

    def sample(self, points_lps) -> np.ndarray:
        """Signed distances (mm) at patient LPS points (..., 3)."""
        return self.distance_scale * self.base.sample(self.to_base(points_lps))

    def label_at(self, points_lps) -> np.ndarray:
        """Tissue labels at patient LPS points (the base's labels at the mapped points)."""
        if not self.labels:
            return np.zeros(np.shape(points_lps)[:-1], np.uint8)
        return self.base.label_at(self.to_base(points_lps))


def ellipse_perimeter(a, b):
    """Perimeter of the ellipse of semi-axes ``a``, ``b`` (Ramanujan's second formula)."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    h = ((a - b) / (a + b)) ** 2
    return np.pi * (a + b) * (1 + 3 * h / (10 + np.sqrt(4 - 3 * h)))


def _perimeter_ratio(ring: dict, s_major: float, s_minor: float) -> float:
    dmax, dmin = ring.get("max_diameter_mm"), ring.get("min_diameter_mm")
    if not (dmax and dmin):
        return float(np.sqrt(s_major * s_minor))
    a, b = 0.5 * float(dmax), 0.5 * float(dmin)
    return float(ellipse_perimeter(a * s_major, b * s_minor) / ellipse_perimeter(a, b))


def scale_ring(ring: dict, scales) -> dict:
    """The annulus (ring) measurement of the scaled anatomy (keys as measure_all's)."""
    s1, s2 = float(scales[0]), float(scales[1])
    out = {k: v for k, v in ring.items() if not k.endswith("_range") and k != "interface_points"}
    p_ratio = _perimeter_ratio(ring, s1, s2)
    factors = {"area_mm2": s1 * s2, "perimeter_mm": p_ratio, "max_diameter_mm": s1,
               "min_diameter_mm": s2, "area_derived_diameter_mm": np.sqrt(s1 * s2),
               "perimeter_derived_diameter_mm": p_ratio, "diameter_mm": np.sqrt(s1 * s2)}
    for key, f in factors.items():
        if out.get(key) is not None:
            out[key] = float(out[key]) * float(f)
    if out.get("max_diameter_mm") and out.get("min_diameter_mm"):
        lo, hi = sorted((out["min_diameter_mm"], out["max_diameter_mm"]))
        out["eccentricity"] = 1.0 - lo / hi
    return out


def scale_sizing(sizing: dict, ring: dict, scales) -> dict:
    """Catalogue sizing values (``annulus_area_mm2`` ...) of the scaled anatomy."""
    s1, s2 = float(scales[0]), float(scales[1])
    p_ratio = _perimeter_ratio(ring, s1, s2)
    out = {}
    for key, v in sizing.items():
        if v is None:
            out[key] = None
        elif "area" in key:
            out[key] = float(v) * s1 * s2
        elif "perimeter" in key:
            out[key] = float(v) * p_ratio
        elif "diameter" in key:
            out[key] = float(v) * float(np.sqrt(s1 * s2))
        else:
            out[key] = v
    return out


def scale_ostia(ostia: dict | None, field: ScaledField, axial_scale: float) -> dict | None:
    """Coronary ostia of the scaled anatomy: points mapped, heights times ``axial_scale``."""
    if not ostia:
        return None
    out = {}
    for side, o in ostia.items():
        if not isinstance(o, dict) or o.get("point_lps") is None:
            continue
        moved = dict(o)
        moved["point_lps"] = field.to_patient(o["point_lps"]).tolist()
        if o.get("height_mm") is not None:
            moved["height_mm"] = float(o["height_mm"]) * float(axial_scale)
        out[side] = moved
    return out or None
