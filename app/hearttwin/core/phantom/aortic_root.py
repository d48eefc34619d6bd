"""The aortic root: elliptic annulus, three sinuses of Valsalva, sinotubular junction.

The root is described in its own frame: ``e_max`` and ``e_min`` span the
annulus plane (the major and minor axes of the elliptic annulus) and
``normal`` points from the LV into the aorta. At height ``h`` above the
annulus plane and angle ``theta`` (from ``e_max`` towards ``e_min``) the lumen
radius is

    R(h, theta) = (1 - s) * r_ellipse(theta) + s * r_stj + bulge(h) * lobes(theta)

with ``s`` a smoothstep of ``h / h_stj``. At ``h = 0`` the cross-section is
exactly the ellipse, so the annulus ground truth is analytic; below the plane
(the LVOT) the cross-section stays elliptic.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .grid import Box
from .shapes import Shape

SINUS_NAMES = ("right", "left", "non")


@dataclass
class AorticRoot:
    """Analytic aortic root geometry (LPS mm)."""

    centre: np.ndarray          # annulus centre
    e_max: np.ndarray           # unit vector, major axis of the annulus ellipse
    e_min: np.ndarray           # unit vector, minor axis
    normal: np.ndarray          # unit vector, LV -> aorta
    a: float                    # annulus semi-major axis
    b: float                    # annulus semi-minor axis
    r_stj: float                # radius at the sinotubular junction
    h_stj: float                # height of the sinotubular junction above the annulus
    bulge: float                # sinus bulge at mid-sinus height (mm)
    sinus_angles: dict          # name -> angle of the sinus centre (rad)

    @property
    def frame(self) -> np.ndarray:
        return np.column_stack([self.e_max, self.e_min, self.normal])

    def direction(self, theta: float) -> np.ndarray:
        return math.cos(theta) * self.e_max + math.sin(theta) * self.e_min

    def radius(self, h, theta):
        """Lumen radius (mm) at height ``h`` and angle ``theta`` (arrays broadcast)."""
        h = np.asarray(h, dtype=np.float32)
        theta = np.asarray(theta, dtype=np.float32)
        a, b = np.float32(self.a), np.float32(self.b)
        r_ell = a * b / np.sqrt((b * np.cos(theta)) ** 2 + (a * np.sin(theta)) ** 2)
        q = np.clip(h / np.float32(self.h_stj), 0.0, 1.0)
        s = q * q * (3.0 - 2.0 * q)
        theta0 = np.float32(self.sinus_angles["right"])
        lobes = ((1.0 + np.cos(3.0 * (theta - theta0))) * 0.5) ** 2
        bulge = np.float32(self.bulge) * np.maximum(np.sin(np.float32(np.pi) * q), 0.0) ** 1.5
        return (1.0 - s) * r_ell + s * np.float32(self.r_stj) + bulge * lobes

    def surface_point(self, h: float, theta: float) -> np.ndarray:
        """LPS point on the lumen surface at height ``h`` and angle ``theta``."""
        r = float(self.radius(h, theta))
        return self.centre + h * self.normal + r * self.direction(theta)

    def annulus_truth(self) -> dict:
        """Exact annulus measurements of the elliptic annulus (DESIGN.md keys)."""
        a, b = self.a, self.b
        area = math.pi * a * b
        hq = ((a - b) / (a + b)) ** 2
        perimeter = math.pi * (a + b) * (1 + 3 * hq / (10 + math.sqrt(4 - 3 * hq)))  # Ramanujan II
        return {
            "centre_lps": [float(v) for v in self.centre],
            "normal_lps": [float(v) for v in self.normal],
            "major_axis_lps": [float(v) for v in self.e_max],
            "area_mm2": area,
            "perimeter_mm": perimeter,
            "area_derived_diameter_mm": 2.0 * math.sqrt(area / math.pi),
            "perimeter_derived_diameter_mm": perimeter / math.pi,
            "min_diameter_mm": 2.0 * b,
            "max_diameter_mm": 2.0 * a,
            "eccentricity": 1.0 - b / a,
        }


class RootShape(Shape):
    """The root lumen between heights ``h0`` and ``h1`` (flat ends).

    With ``h0 < 0 = h1`` it is the elliptic LVOT; with ``0 = h0 < h1`` the
    aortic root from the annulus to above the sinotubular junction.
    """

    def __init__(self, root: AorticRoot, h0: float, h1: float) -> None:
        self.root, self.h0, self.h1 = root, float(h0), float(h1)
        rmax = max(root.a, root.r_stj) + root.bulge + 1.0
        ends = [root.centre + h * root.normal for h in (self.h0, self.h1)]
        self.lo = np.min(ends, axis=0) - rmax
        self.hi = np.max(ends, axis=0) + rmax

    def sdf(self, box: Box) -> np.ndarray:
        f = self.root.frame.astype(np.float32)
        dx, dy, dz = box.centred(self.root.centre)
        u1 = dx * f[0, 0] + dy * f[1, 0] + dz * f[2, 0]
        u2 = dx * f[0, 1] + dy * f[1, 1] + dz * f[2, 1]
        h = dx * f[0, 2] + dy * f[1, 2] + dz * f[2, 2]
        rho = np.sqrt(u1 * u1 + u2 * u2)
        d = rho - self.root.radius(h, np.arctan2(u2, u1))
        d = np.maximum(d, np.float32(self.h0) - h)
        return np.maximum(d, h - np.float32(self.h1)).astype(np.float32, copy=False)


def make_root(centre, normal, major_hint, area_diameter, eccentricity, stj_ratio, h_stj,
              bulge, anterior) -> AorticRoot:
    """Build an :class:`AorticRoot` from clinical-style parameters.

    Parameters
    ----------
    centre, normal : array_like
        Annulus centre and LV->aorta direction (LPS).
    major_hint : array_like
        Approximate direction of the annulus major axis (projected to the plane).
    area_diameter : float
        Area-derived annulus diameter (mm).
    eccentricity : float
        ``1 - min/max`` diameter.
    stj_ratio : float
        Sinotubular-junction radius over the area-derived annulus radius.
    h_stj, bulge : float
        Sinotubular-junction height and sinus bulge (mm).
    anterior : array_like
        Direction the right coronary sinus faces (roughly anterior).
    """
    n = np.asarray(normal, float)
    n /= np.linalg.norm(n)
    e_max = np.asarray(major_hint, float) - np.dot(major_hint, n) * n
    e_max /= np.linalg.norm(e_max)
    e_min = np.cross(n, e_max)
    r_area = area_diameter / 2.0
    ratio = 1.0 - eccentricity  # b / a, with a * b = r_area^2
    a = r_area / math.sqrt(ratio)
    b = r_area * math.sqrt(ratio)
    ant = np.asarray(anterior, float) - np.dot(anterior, n) * n
    theta_r = math.atan2(float(ant @ e_min), float(ant @ e_max))
    # the left sinus is the one of theta_r +- 120 deg that faces patient-left (+x)
    cand = [theta_r + 2 * math.pi / 3, theta_r - 2 * math.pi / 3]
    left_x = [(math.cos(t) * e_max + math.sin(t) * e_min)[0] for t in cand]
    theta_l = cand[int(np.argmax(left_x))]
    theta_n = cand[int(np.argmin(left_x))]
    return AorticRoot(
        centre=np.asarray(centre, float), e_max=e_max, e_min=e_min, normal=n, a=a, b=b,
        r_stj=stj_ratio * r_area, h_stj=h_stj, bulge=bulge,
        sinus_angles={"right": theta_r, "left": theta_l, "non": theta_n},
    )
