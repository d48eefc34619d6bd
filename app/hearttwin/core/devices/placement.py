"""Placement of a device: a 4x4 pose (device frame -> LPS) and the moves on it.

The device frame (devices contract): +z is the device axis, z = 0 its
inflow end. Automatic placement puts the axis along the anchor's axis and
the device at the family's recommended depth (catalogue ``placement``):

``depth`` is how far the device sits upstream of the anchor plane, measured
from the device's *seat*: the inflow end for valves and stents (a valve
``depth_mm = 3`` has its ventricular end 3 mm below the annulus), the atrial
face for an appendage plug (depth = how far inside the ostium it sits), the
middle of the waist for a septal occluder (0 = centred in the septum), the
middle of a vascular stent (0 = centred on the target).

The move / rotate / depth functions are what the GUI's handle and the CLI's
``--move/--rotate/--depth`` call; each returns a new pose (poses are never
changed in place, so undo is keeping the previous one).
"""

from __future__ import annotations

import numpy as np

from .anchors import Anchor


def pose_from(origin, axis, reference=None) -> np.ndarray:
    """Pose whose z axis is ``axis``, x as close to ``reference`` as possible."""
    z = np.asarray(axis, float)
    z = z / np.linalg.norm(z)
    ref = None if reference is None else np.asarray(reference, float)
    if ref is None or np.linalg.norm(ref - np.dot(ref, z) * z) < 1e-6:
        ref = np.array([1.0, 0.0, 0.0]) if abs(z[0]) < 0.9 else np.array([0.0, 1.0, 0.0])
    x = ref - np.dot(ref, z) * z
    x /= np.linalg.norm(x)
    pose = np.eye(4)
    pose[:3, 0], pose[:3, 1], pose[:3, 2], pose[:3, 3] = x, np.cross(z, x), z, origin
    return pose


def seat_z(family, size) -> float:
    """The device z (mm) of the seat that ``depth`` is measured from."""
    g = family.size(size).geometry
    if family.shape == "plug":
        return float(g["length_mm"])
    if family.shape == "double_disc":
        return float(g["disc_thickness_mm"]) + 0.5 * float(g["waist_length_mm"])
    if family.position == "vessel":  # a vascular stent is centred on its target
        return 0.5 * float(g["height_mm"])
    return 0.0


def recommended_depth(family) -> float:
    return float(family.placement.get("depth_mm", 0.0))


def auto_place(family, size, anchor: Anchor, depth_mm: float | None = None) -> np.ndarray:
    """The family's initial pose at ``anchor``: coaxial, at the recommended depth."""
    depth = recommended_depth(family) if depth_mm is None else float(depth_mm)
    origin = anchor.centre - (seat_z(family, size) + depth) * anchor.axis
    return pose_from(origin, anchor.axis, anchor.reference)


def depth(pose, family, size, anchor: Anchor) -> float:
    """How far (mm) the device's seat sits upstream of the anchor plane."""
    seat = pose[:3, 3] + seat_z(family, size) * pose[:3, 2]
    return float(-np.dot(seat - anchor.centre, anchor.axis))


def set_depth(pose, family, size, anchor: Anchor, depth_mm: float) -> np.ndarray:
    """The pose moved along the anchor axis so that :func:`depth` is ``depth_mm``."""
    out = np.array(pose, float)
    out[:3, 3] -= (depth_mm - depth(pose, family, size, anchor)) * anchor.axis
    return out


def move(pose, delta_lps) -> np.ndarray:
    """The pose translated by ``delta_lps`` (mm)."""
    out = np.array(pose, float)
    out[:3, 3] += np.asarray(delta_lps, float)
    return out


def move_along_axis(pose, mm: float) -> np.ndarray:
    """The pose moved ``mm`` along its own axis (+ = downstream)."""
    return move(pose, mm * np.asarray(pose, float)[:3, 2])


def rotation(axis, angle_deg: float) -> np.ndarray:
    """3x3 rotation by ``angle_deg`` about the unit ``axis`` (Rodrigues)."""
    k = np.asarray(axis, float)
    k = k / np.linalg.norm(k)
    a = np.radians(angle_deg)
    kx = np.array([[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]])
    return np.eye(3) + np.sin(a) * kx + (1 - np.cos(a)) * (kx @ kx)


def rotate(pose, axis_lps, angle_deg: float, about_lps=None) -> np.ndarray:
    """The pose rotated by ``angle_deg`` about ``axis_lps`` through ``about_lps``
    (default: the device's inflow centre)."""
    pose = np.asarray(pose, float)
    about = pose[:3, 3] if about_lps is None else np.asarray(about_lps, float)
    r = rotation(axis_lps, angle_deg)
    out = np.eye(4)
    out[:3, :3] = r @ pose[:3, :3]
    out[:3, 3] = about + r @ (pose[:3, 3] - about)
    return out


def tilt(pose, angle_deg: float, towards: str = "x", about_lps=None) -> np.ndarray:
    """Tilt the device axis by ``angle_deg`` towards its own x (or y) axis."""
    pose = np.asarray(pose, float)
    hinge = pose[:3, 1] if towards == "x" else -pose[:3, 0]
    return rotate(pose, hinge, angle_deg, about_lps)


def axis_angle_deg(pose, anchor: Anchor) -> float:
    """Angle (degrees) between the device axis and the anchor axis."""
    c = float(np.clip(np.dot(np.asarray(pose)[:3, 2], anchor.axis), -1.0, 1.0))
    return float(np.degrees(np.arccos(c)))


def is_rigid(pose, tol: float = 1e-3) -> bool:
    """True for a rigid pose (orthonormal rotation within ``tol``, det +1, last row
    0 0 0 1): a pose written with a few decimals still counts."""
    p = np.asarray(pose, float)
    if p.shape != (4, 4) or not np.allclose(p[3], [0, 0, 0, 1], atol=1e-9):
        return False
    r = p[:3, :3]
    return bool(np.allclose(r.T @ r, np.eye(3), atol=tol) and np.linalg.det(r) > 0)


def orthonormalised(pose) -> np.ndarray:
    """The nearest exactly rigid pose (rotation part projected by SVD)."""
    out = np.array(pose, float)
    u, _, vt = np.linalg.svd(out[:3, :3])
    out[:3, :3] = u @ vt
    return out
