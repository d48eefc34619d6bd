"""Smooth centrelines and small vector helpers for the anatomy builders."""

from __future__ import annotations

import numpy as np
from scipy.interpolate import CubicSpline


def unit(v) -> np.ndarray:
    v = np.asarray(v, dtype=float)
    return v / np.linalg.norm(v)


def perp(v, axis) -> np.ndarray:
    """``v`` without its component along unit vector ``axis``, normalised."""
    v = np.asarray(v, dtype=float)
    return unit(v - np.dot(v, axis) * axis)


def rotate(v, axis, degrees: float) -> np.ndarray:
    """Rotate ``v`` about unit ``axis`` (Rodrigues)."""
    k = unit(axis)
    t = np.deg2rad(degrees)
    v = np.asarray(v, dtype=float)
    return v * np.cos(t) + np.cross(k, v) * np.sin(t) + k * np.dot(k, v) * (1 - np.cos(t))


def smooth_path(points, step: float = 3.0, start_tangent=None, end_tangent=None) -> np.ndarray:
    """A C2 curve through ``points`` resampled every ~``step`` mm.

    Parameters
    ----------
    points : (N, 3) array_like
        Control points the curve passes through (N >= 2).
    step : float
        Approximate spacing of the returned points (mm).
    start_tangent, end_tangent : array_like, optional
        Clamp the direction at the ends (unit vectors); natural ends otherwise.
    """
    pts = np.asarray(points, dtype=float)
    chord = np.r_[0.0, np.cumsum(np.linalg.norm(np.diff(pts, axis=0), axis=1))]
    bc0 = (1, unit(start_tangent)) if start_tangent is not None else (2, np.zeros(3))
    bc1 = (1, unit(end_tangent)) if end_tangent is not None else (2, np.zeros(3))
    spline = CubicSpline(chord, pts, bc_type=(bc0, bc1))
    n = max(int(np.ceil(chord[-1] / step)), 1) + 1
    return spline(np.linspace(0.0, chord[-1], n))


def path_length(points) -> float:
    return float(np.linalg.norm(np.diff(np.asarray(points), axis=0), axis=1).sum())


def ray_ellipsoid_exit(centre, radii, axes, origin, direction) -> float:
    """Distance along ``direction`` from ``origin`` (inside) to an ellipsoid's surface."""
    a = np.asarray(axes, dtype=float)
    o = (np.asarray(origin, float) - centre) @ a / radii
    d = (np.asarray(direction, float) @ a) / radii
    qa, qb, qc = d @ d, 2 * o @ d, o @ o - 1.0
    return float((-qb + np.sqrt(qb * qb - 4 * qa * qc)) / (2 * qa))
