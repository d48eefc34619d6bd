"""Vessels: aorta, pulmonary arteries, caval and pulmonary veins, LAA, coronaries.

Each function returns :class:`~shapes.Tube` objects (or centrelines) built
from a few anatomical control points relative to the heart layout, smoothed
by :func:`curves.smooth_path`. Vessels do not move over the cycle except
where they hang on a chamber (the LAA and the coronaries follow the LV).
"""

from __future__ import annotations

import numpy as np

from .chambers import Chambers, Layout
from .curves import perp, ray_ellipsoid_exit, smooth_path, unit
from .params import AnatomyParams
from .shapes import Tube


def aorta(anat: AnatomyParams, lay: Layout, z_bottom: float) -> Tube:
    """Ascending aorta from the sinotubular junction, arch, descending aorta."""
    r = lay.root
    start = r.centre + (r.h_stj - 1.0) * r.normal
    a0 = lay.anchor
    ctrl = [
        start,
        start + 22.0 * r.normal,
        a0 + [-8.0, -8.0, 62.0],
        a0 + [2.0, 12.0, 80.0],
        a0 + [20.0, 40.0, 72.0],
        a0 + [25.0, 58.0, 45.0],
        a0 + [24.0, 60.0, 10.0],
        [a0[0] + 22.0, a0[1] + 60.0, z_bottom],
    ]
    pts = smooth_path(ctrl, step=4.0, start_tangent=r.normal)
    s = np.r_[0.0, np.cumsum(np.linalg.norm(np.diff(pts, axis=0), axis=1))]
    knots = [0.0, 30.0, 110.0, 170.0, s[-1] + 1.0]
    radius = np.interp(s, knots, [r.r_stj, anat.asc_radius, 0.92 * anat.asc_radius,
                                  anat.desc_radius, 0.95 * anat.desc_radius])
    return Tube(pts, radius, flat_start=True)


def pulmonary_arteries(anat: AnatomyParams, lay: Layout) -> tuple[Tube, Tube, Tube, np.ndarray]:
    """(RVOT, trunk, left PA, right PA) tubes and the pulmonary valve centre."""
    a0 = lay.anchor
    pv = a0 + [16.0, -22.0, 18.0]
    t_pa = unit([0.30, 0.62, 0.72])
    rp = anat.pa_radius
    rvot_pts = smooth_path([lay.rv_centre + 8.0 * lay.e3 - 18.0 * lay.u, pv - 14.0 * t_pa, pv],
                           step=3.0, end_tangent=t_pa)
    rvot = Tube(rvot_pts, np.linspace(0.9 * rp, rp, len(rvot_pts)), flat_end=True)
    bif = pv + 38.0 * t_pa
    trunk = Tube(smooth_path([pv, pv + 18.0 * t_pa, bif], 3.0, start_tangent=t_pa),
                 rp, flat_start=True)
    lpa = smooth_path([bif - 6.0 * t_pa, bif + [20.0, 16.0, 6.0], bif + [38.0, 34.0, -6.0],
                       bif + [52.0, 44.0, -22.0]], 3.0)
    rpa = smooth_path([bif - 6.0 * t_pa, bif + [-22.0, 16.0, -4.0], bif + [-50.0, 24.0, -8.0],
                       bif + [-80.0, 26.0, -14.0]], 3.0)
    left = Tube(lpa, np.linspace(0.8 * rp, 0.55 * rp, len(lpa)))
    right = Tube(rpa, np.linspace(0.75 * rp, 0.55 * rp, len(rpa)))
    return rvot, trunk, left, right, pv


def caval_veins(lay: Layout, ch: Chambers, z_top: float, z_bottom: float) -> list[Tube]:
    """Superior and inferior vena cava running into the RA."""
    c = lay.ra_centre
    svc = smooth_path([c + [2.0, -2.0, 0.0], c + [4.0, 2.0, 30.0], c + [6.0, 6.0, 60.0],
                       [c[0] + 8.0, c[1] + 8.0, z_top]], 4.0)
    ivc = smooth_path([c + [4.0, 6.0, 0.0], c + [10.0, 18.0, -30.0], [c[0] + 14.0, c[1] + 24.0, z_bottom]],
                      4.0)
    return [Tube(svc, 9.5), Tube(ivc, 11.5)]


def pulmonary_veins(lay: Layout, ch: Chambers) -> list[Tube]:
    """Four pulmonary-vein stubs leaving the LA towards the lungs."""
    la = ch.la
    tubes = []
    for d in ([0.85, 0.45, 0.35], [0.85, 0.50, -0.30], [-0.85, 0.45, 0.30], [-0.85, 0.50, -0.30]):
        d = unit(d)
        exit_ = ray_ellipsoid_exit(la.centre, la.radii, la.axes, la.centre, d)
        out = unit(d + [0.0, 0.4, 0.0])
        p0 = la.centre + 0.5 * exit_ * d
        p1 = la.centre + exit_ * d
        pts = smooth_path([p0, p1, p1 + 14.0 * d, p1 + 14.0 * d + 16.0 * out], 3.0)
        tubes.append(Tube(pts, np.linspace(7.5, 6.0, len(pts))))
    return tubes


def left_appendage(anat: AnatomyParams, lay: Layout, ch: Chambers) -> tuple[Tube, dict]:
    """The LAA: a flattened, tapering finger off the LA, and its ostium truth.

    The first part of the centreline is straight along ``d0`` through the LA
    wall, so the ostium (where the centreline crosses the LA surface) is an
    exact ellipse of diameters ``2 r`` and ``2 r * flatten``.
    """
    la = ch.la
    # left-anterior-superior off the LA, then forward and down over the LV base
    d0 = unit([0.55, -0.55, 0.62])
    d1 = unit([0.75, -0.6, -0.2])
    exit_ = ray_ellipsoid_exit(la.centre, la.radii, la.axes, la.centre, d0)
    ostium = la.centre + exit_ * d0
    r0, k = anat.laa_radius, anat.laa_flatten
    squash_dir = perp([0.0, 0.0, 1.0], d0)
    straight = [la.centre + 0.5 * exit_ * d0, ostium, ostium + 6.0 * d0]
    bend = smooth_path([ostium + 6.0 * d0, ostium + 6.0 * d0 + 0.5 * anat.laa_length * unit(d0 + d1),
                        ostium + 6.0 * d0 + anat.laa_length * unit(0.3 * d0 + d1)], 3.0,
                       start_tangent=d0)
    pts = np.vstack([straight, bend[1:]])
    s = np.r_[0.0, np.cumsum(np.linalg.norm(np.diff(pts, axis=0), axis=1))]
    s_ost = 0.5 * exit_ + 6.0
    radius = np.interp(s, [0.0, s_ost, s[-1]], [r0, r0, 0.45 * r0])
    truth = {
        "centre_lps": [float(v) for v in ostium],
        "normal_lps": [float(v) for v in d0],
        "max_diameter_mm": 2.0 * r0,
        "min_diameter_mm": 2.0 * r0 * k,
        "depth_mm": float(anat.laa_length + 6.0),
    }
    return Tube(pts, radius, squash=(squash_dir, k)), truth


def _groove_angle(lay: Layout, ch: Chambers, along: float) -> float:
    """Angle (in the e2/e3 plane) of the anterior interventricular groove."""
    out = ch.lv_outer
    phis = np.linspace(-np.pi, np.pi, 361)
    dirs = np.cos(phis)[:, None] * lay.e2 + np.sin(phis)[:, None] * lay.e3
    r = np.array([ray_ellipsoid_exit(out.centre, out.radii, out.axes,
                                     lay.base + along * lay.u, d) for d in dirs])
    pts = lay.base + along * lay.u + (r + 3.0)[:, None] * dirs
    loc = (pts - ch.rv.centre) @ ch.rv.axes / ch.rv.radii
    inside = (loc ** 2).sum(axis=1) < 1.0
    edges = np.nonzero(inside != np.roll(inside, 1))[0]
    if len(edges) == 0:
        return float(phis[np.argmin(pts[:, 1])])
    return float(phis[edges[np.argmin(pts[edges, 1])]])


def coronaries(anat: AnatomyParams, lay: Layout, ch: Chambers) -> tuple[list[Tube], dict]:
    """Left (LM, LAD, LCx) and right coronary arteries, and the ostia truth."""
    root = lay.root
    u, out = lay.u, ch.lv_outer
    ostia = {}
    for side, h in (("left", anat.ostium_height_left), ("right", anat.ostium_height_right)):
        theta = root.sinus_angles[side]
        ostia[side] = {"point_lps": [float(v) for v in root.surface_point(h, theta)],
                       "height_mm": float(h)}

    def on_lv(along: float, phi: float, gap: float) -> np.ndarray:
        d = np.cos(phi) * lay.e2 + np.sin(phi) * lay.e3
        c = lay.base + along * u
        return c + (ray_ellipsoid_exit(out.centre, out.radii, out.axes, c, d) + gap) * d

    length = float(np.dot(out.centre - lay.base, u) + out.radii[2])
    phi_a = _groove_angle(lay, ch, 0.4 * length)
    lateral = 1.0 if np.sin(phi_a) * 1.0 >= 0 else -1.0  # sweep away from the RV
    o_l = np.asarray(ostia["left"]["point_lps"])
    d_l = root.direction(root.sinus_angles["left"])
    junction = on_lv(4.0, phi_a + lateral * 0.35, 3.0)
    lm = smooth_path([o_l - 1.5 * d_l, o_l + 5.0 * d_l, junction], 2.0, start_tangent=d_l)
    lad = np.array([junction] + [on_lv(a * length, phi_a, 2.5)
                                 for a in np.linspace(0.1, 0.9, 12)])
    lcx = np.array([junction] + [on_lv(3.0, phi_a + lateral * (0.35 + a), 3.5)
                                 for a in np.linspace(0.2, 2.4, 12)])
    o_r = np.asarray(ostia["right"]["point_lps"])
    d_r = root.direction(root.sinus_angles["right"])
    axis = unit(lay.tricuspid - lay.ra_centre)
    hinge = lay.tricuspid
    w1 = perp(d_r, axis)
    w2 = np.cross(axis, w1)
    if w2[2] > 0:  # sweep downwards along the right AV groove
        w2 = -w2
    ring = [hinge + 19.0 * (np.cos(a) * w1 + np.sin(a) * w2) for a in np.linspace(0.1, 2.6, 10)]
    rca = smooth_path([o_r - 1.5 * d_r, o_r + 6.0 * d_r, *ring], 2.5, start_tangent=d_r)
    tubes = [
        Tube(lm, 2.2),
        Tube(smooth_path(lad, 2.5), np.linspace(1.8, 0.9, len(smooth_path(lad, 2.5)))),
        Tube(smooth_path(lcx, 2.5), np.linspace(1.7, 1.0, len(smooth_path(lcx, 2.5)))),
        Tube(rca, np.linspace(2.0, 1.2, len(rca))),
    ]
    return tubes, ostia
