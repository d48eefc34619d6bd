"""Strut and wire frames of devices, as closed tubes just inside the outer envelope.

- Stent frames (cylinder, flared): a lattice of diamond cells, ``cells_around``
  cells around and ``rows`` rows up. Nodes sit on ``2 * rows + 1`` rings,
  alternate rings turned by half a cell; each strut joins a node to the two
  nearest nodes of the next ring along a helix on the envelope. The rings are
  at the expanded heights of :func:`.geometry.state` (``levels``), so strut
  length is kept as the frame opens (foreshortening); the rings are drawn
  between one strut radius above the inflow and below the outflow so the tubes
  stay inside the envelope.
- Occluders (plug, double disc): ``wires`` meridian wires following the
  envelope from hub to hub, which draws the radial wires of each disc face.

Tubes are closed prisms (one per strut or wire, capped at both ends) of
diameter ``strut_diameter_mm`` (optional geometry key; default 0.5 mm for
stents, 0.3 mm for occluder wires), their outer side touching the envelope.
"""

from __future__ import annotations

import numpy as np

from .geometry import STRUT_SHAPES, DeviceMesh, capped_grid, radius_at, state

_STRUT_MM = {"cylinder": 0.5, "flared": 0.5, "plug": 0.3, "double_disc": 0.3}
_WIRES = 8
_SIDES = 6
_SAMPLES = 4  # helix segments per strut


def frame(family, size, diameter_mm=None) -> DeviceMesh | None:
    """Frame tube mesh in the device frame at an expansion state.

    Returns
    -------
    DeviceMesh or None
        Closed, outward-oriented tubes; None for a shape without a frame
        (all current shapes have one).
    """
    st = state(family, size, diameter_mm)
    lines, ref = _centrelines(st)
    if lines is None:
        return None
    return tubes(lines, ref, _strut_radius(st))


def strut_centrelines(family, size, diameter_mm=None) -> np.ndarray:
    """(S, P, 3) centre polylines of every strut or wire, device frame, mm."""
    return _centrelines(state(family, size, diameter_mm))[0]


def tubes(lines: np.ndarray, ref: np.ndarray, radius: float, sides: int = _SIDES) -> DeviceMesh:
    """Closed tubes around polylines.

    Parameters
    ----------
    lines : numpy.ndarray
        (S, P, 3) polylines, P >= 2 points each.
    ref : numpy.ndarray
        (S, P, 3) directions not along the lines, fixing the cross-sections' turn.
    radius : float
        Tube radius, mm.
    sides : int
        Vertices around each cross-section.
    """
    s_count, p_count = lines.shape[:2]
    t = np.gradient(lines, axis=1)
    t /= np.maximum(np.linalg.norm(t, axis=-1, keepdims=True), 1e-12)
    n1 = ref - np.sum(ref * t, axis=-1, keepdims=True) * t
    n1 /= np.maximum(np.linalg.norm(n1, axis=-1, keepdims=True), 1e-12)
    n2 = np.cross(t, n1)  # (n1, n2, t) right-handed: the winding of capped_grid faces out
    phi = np.arange(sides) * (2 * np.pi / sides)
    rings = (lines[:, :, None, :] + radius * (np.cos(phi)[:, None] * n1[:, :, None, :]
                                              + np.sin(phi)[:, None] * n2[:, :, None, :]))
    pts = np.concatenate([lines[:, :1], rings.reshape(s_count, -1, 3), lines[:, -1:]], axis=1)
    per_tube = pts.shape[1]
    tris = capped_grid(p_count, sides)[None] + (np.arange(s_count) * per_tube)[:, None, None]
    return DeviceMesh(pts.reshape(-1, 3), tris.reshape(-1, 3))


def _strut_radius(st) -> float:
    return st.geometry.get("strut_diameter_mm", _STRUT_MM[st.shape]) / 2


def _centrelines(st):
    if st.shape in STRUT_SHAPES:
        return _lattice(st)
    if st.shape in ("plug", "double_disc"):
        return _meridian_wires(st)
    return None, None


def _lattice(st):
    """Diamond-cell struts as helices on the envelope, inset by the strut radius."""
    n, rows = int(st.geometry["cells_around"]), int(st.geometry["rows"])
    # rings drawn in [rho, H - rho] so the tubes stay inside the envelope's ends
    rho, top = _strut_radius(st), st.levels[1][-1]
    z_levels = rho + st.levels[1] * (top - 2 * rho) / top
    layer = np.arange(2 * rows)[:, None]
    theta_a = (np.arange(n)[None, :] + 0.5 * (layer % 2)) * (2 * np.pi / n)  # (layers, n)
    t = np.linspace(0.0, 1.0, _SAMPLES + 1)
    lines = []
    for sign in (-1.0, 1.0):  # each node climbs to the two nearest nodes of the next ring
        theta = theta_a[..., None] + sign * (np.pi / n) * t
        z = np.broadcast_to((z_levels[:-1, None] + np.diff(z_levels)[:, None] * t)[:, None, :], theta.shape)
        lines.append((theta, z))
    theta = np.concatenate([q[0] for q in lines]).reshape(-1, _SAMPLES + 1)
    z = np.concatenate([q[1] for q in lines]).reshape(-1, _SAMPLES + 1)
    r = radius_at(st.profile, z) - rho
    c, s = np.cos(theta), np.sin(theta)
    pts = np.stack([r * c, r * s, z], axis=-1)
    radial = np.stack([c, s, np.zeros_like(c)], axis=-1)
    return pts, radial


def _meridian_wires(st):
    """Wires along the meridian, inset along the envelope's inward normal."""
    m = st.profile
    tangent = np.gradient(m, axis=0)
    tangent /= np.maximum(np.linalg.norm(tangent, axis=1, keepdims=True), 1e-12)
    inward = np.column_stack([-tangent[:, 1], tangent[:, 0]])
    off = m + _strut_radius(st) * inward
    r, z = np.maximum(off[:, 0], 0.0), off[:, 1]
    wires = int(st.geometry.get("wires", _WIRES))
    theta = np.arange(wires)[:, None] * (2 * np.pi / wires)
    c, s = np.cos(theta), np.sin(theta)
    pts = np.stack([r * c, r * s, np.broadcast_to(z, (wires, len(z)))], axis=-1)
    around = np.broadcast_to(np.stack([-s, c, np.zeros_like(c)], axis=-1), pts.shape)
    return pts, np.ascontiguousarray(around)
