"""Heart layout and the four chambers at one cardiac phase.

:func:`layout` fixes where everything sits (the aortic annulus is the anchor,
the LV base and long axis follow from it); :func:`chambers` builds the
chamber shapes for a phase, scaling the ventricles about their base along
the long axis and the atria about their centres so their volumes follow the
curves of :mod:`cycle`. The LV myocardium keeps its volume over the cycle, so
the wall thickens in systole.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .aortic_root import AorticRoot, make_root
from .curves import perp, rotate, unit
from .cycle import atrial_fraction, ventricular_fraction
from .params import AnatomyParams
from .shapes import Ellipsoid

#: heart anchor (aortic annulus centre) before the seeded shift, LPS mm
ANCHOR = np.array([5.0, -12.0, 0.0])


@dataclass
class Layout:
    """Positions and frames that do not change over the cycle (LPS mm)."""

    anchor: np.ndarray
    u: np.ndarray          # LV long axis, base -> apex
    e2: np.ndarray         # short-axis direction towards the RV (septum)
    e3: np.ndarray         # short-axis direction completing the frame
    base: np.ndarray       # centre of the LV base plane (ED)
    mitral: np.ndarray     # centre of the mitral opening on the base plane
    root: AorticRoot
    la_centre: np.ndarray
    ra_centre: np.ndarray
    rv_centre: np.ndarray
    tricuspid: np.ndarray  # centre of the tricuspid opening (RA/RV junction)

    @property
    def lv_axes(self) -> np.ndarray:
        return np.column_stack([self.e2, self.e3, self.u])


def layout(anat: AnatomyParams) -> Layout:
    """Place the heart for ``anat`` (independent of phase)."""
    a0 = ANCHOR + np.asarray(anat.heart_shift, float)
    az, el = math.radians(anat.lv_azimuth_deg), math.radians(anat.lv_elevation_deg)
    u = np.array([math.cos(el) * math.sin(az), -math.cos(el) * math.cos(az), -math.sin(el)])
    e2 = rotate(perp([-0.85, -0.55, 0.1], u), u, anat.lv_roll_deg)
    e3 = np.cross(e2, u)
    d_lat = perp([0.5, 0.82, -0.23], u)  # from the LVOT towards the LV axis
    base = a0 + 13.0 * u + 16.0 * d_lat
    normal = unit([-0.35, -0.40, 0.85])
    normal = rotate(rotate(normal, [1, 0, 0], anat.root_tilt_deg[0]), [0, 1, 0],
                    anat.root_tilt_deg[1])
    major = rotate(perp([1.0, 0.0, 0.1], normal), normal, anat.annulus_rotation_deg)
    root = make_root(a0, normal, major, anat.annulus_diameter, anat.annulus_eccentricity,
                     anat.stj_ratio, anat.stj_height, anat.sinus_bulge, anterior=[-0.3, -1.0, 0.0])
    rv_centre = base + 0.38 * anat.lv_length * u + 24.0 * e2 - 4.0 * e3
    return Layout(
        anchor=a0, u=u, e2=e2, e3=e3, base=base, mitral=base + 7.0 * d_lat, root=root,
        la_centre=a0 + np.array([5.0, 36.0, 14.0]),
        ra_centre=a0 + np.array([-38.0, 2.0, -8.0]),
        rv_centre=rv_centre,
        tricuspid=a0 + np.array([-20.0, -16.0, -16.0]),
    )


def _truncated_ellipsoid_volume(r1: float, r2: float, c: float, z0: float) -> float:
    """Volume of an ellipsoid (semi-axis c along z) above the plane z = z0."""
    return math.pi * r1 * r2 * ((c - z0) - (c ** 3 - z0 ** 3) / (3 * c * c))


@dataclass
class Chambers:
    lv_blood: Ellipsoid
    lv_outer: Ellipsoid
    rv: Ellipsoid
    la: Ellipsoid
    ra: Ellipsoid
    apex: np.ndarray       # inner LV apex
    myo_cap: float         # thickness of the myocardium over the base (mm)


def chambers(anat: AnatomyParams, lay: Layout, phase: float) -> Chambers:
    """Chamber shapes at ``phase`` (0 = end-diastole)."""
    u, axes = lay.u, lay.lv_axes
    length, a, t = anat.lv_length, anat.lv_radius, anat.myo_thickness
    s = 0.15 * length          # ellipsoid centre beyond the base plane
    c = length - s
    r_in = np.array([0.95 * a, 1.05 * a, c])
    r_out = np.array([0.95 * a + t, 1.05 * a + t, c + 0.8 * t])
    cap = 0.7 * t
    v_in = _truncated_ellipsoid_volume(r_in[0], r_in[1], c, -s)
    v_out = _truncated_ellipsoid_volume(r_out[0], r_out[1], r_out[2], -s - cap)
    f = float(ventricular_fraction(phase, anat.lv_ef, anat.es_phase))
    # radial shortening dominates longitudinal: volume ~ g_s^2 * g_l
    g_s, g_l = f ** 0.4, f ** 0.2
    rho = (f * v_in + (v_out - v_in)) / v_out  # myocardial volume is conserved
    go_s, go_l = rho ** 0.4, rho ** 0.2
    base = lay.base
    lv_blood = Ellipsoid(base + s * g_l * u, r_in * [g_s, g_s, g_l], axes,
                         cuts=[(base, -u)])
    lv_outer = Ellipsoid(base + s * go_l * u, r_out * [go_s, go_s, go_l], axes,
                         cuts=[(base - cap * u, -u)])
    f_rv = float(ventricular_fraction(phase, anat.rv_ef, anat.es_phase)) ** (1 / 3)
    rv_r = np.array([26.0, 38.0, 0.6 * length]) * anat.rv_scale * f_rv
    rv = Ellipsoid(lay.rv_centre - (1 - f_rv) * 0.3 * length * u, rv_r, axes)
    fa = float(atrial_fraction(phase, anat.atrial_emptying, anat.es_phase)
               / atrial_fraction(0.0, anat.atrial_emptying, anat.es_phase)) ** (1 / 3)
    la = Ellipsoid(lay.la_centre, np.asarray(anat.la_radii) * fa)
    ra = Ellipsoid(lay.ra_centre, np.asarray(anat.ra_radii) * fa)
    return Chambers(lv_blood=lv_blood, lv_outer=lv_outer, rv=rv, la=la, ra=ra,
                    apex=base + length * g_l * u, myo_cap=cap)
