"""Standard cameras on a plan's scene: anterior, coplanar (annulus edge-on), en face.

A :class:`View` is a parallel-projection camera in LPS millimetres: where it
looks (``focal_lps``), from which side (``direction_lps``: unit vector from
the focal point toward the camera), which way is up, and how much it shows
(``half_height_mm``). Cut-away views clip the anatomy on the camera's side of
a plane through the focal point, opening the lumen so the device shows in it;
they show only the device's lumen (e.g. LV and aorta for an aortic valve).

* :func:`anterior`: the whole heart from the front (patient's left on the
  right of the image, head up), as on an AP fluoroscopy view.
* :func:`coplanar`: perpendicular to the device axis, the device seen
  edge-on at its inflow as on the implant (coplanar) C-arm view; the C-arm
  angle nearest the measured coplanar view when measurements give one.
* :func:`en_face`: down the device axis from its outflow side.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..core.errors import InputError

#: LPS anterior (the patient's front faces -y)
ANTERIOR = np.array([0.0, -1.0, 0.0])
#: LPS superior
SUPERIOR = np.array([0.0, 0.0, 1.0])
#: default image aspect (width / height) the framing assumes
ASPECT = 4.0 / 3.0


@dataclass(frozen=True)
class View:
    """A parallel-projection camera (LPS mm)."""

    name: str
    title: str
    focal_lps: np.ndarray
    direction_lps: np.ndarray
    view_up_lps: np.ndarray
    half_height_mm: float
    cutaway: bool = False
    anatomy_opacity: float = 1.0
    labels: tuple | None = None  # structures shown (None: all)

    def camera_position(self, distance_mm: float = 600.0) -> np.ndarray:
        return np.asarray(self.focal_lps, float) + distance_mm * np.asarray(self.direction_lps, float)


def _unit(v) -> np.ndarray:
    v = np.asarray(v, float)
    n = float(np.linalg.norm(v))
    if n < 1e-9:
        raise InputError("A view direction is undefined (zero vector).")
    return v / n


def _perpendicular(v, to) -> np.ndarray | None:
    """Component of ``v`` perpendicular to the unit vector ``to`` (unit), or None when parallel."""
    p = np.asarray(v, float) - float(np.dot(v, to)) * to
    n = float(np.linalg.norm(p))
    return None if n < 1e-6 else p / n


def _up(direction: np.ndarray, *preferred) -> np.ndarray:
    for cand in preferred + (SUPERIOR, ANTERIOR, np.array([1.0, 0.0, 0.0])):
        up = _perpendicular(cand, direction)
        if up is not None:
            return up
    raise InputError("No up direction for this view.")  # unreachable: three axes span 3D


def _half_height(extent_w: float, extent_h: float, margin: float = 1.08) -> float:
    return margin * 0.5 * max(extent_h, extent_w / ASPECT)


def c_arm_label(direction_lps) -> str:
    """C-arm angle of a detector direction (LAO/RAO, CRA/CAU, whole degrees).

    The convention of the measurements' coplanar view: direction
    ``(sin a cos b, -cos a cos b, sin b)``, LAO ``a > 0``, CRA ``b > 0``.
    """
    d = _unit(direction_lps)
    cra = math.degrees(math.asin(float(np.clip(d[2], -1.0, 1.0))))
    lao = math.degrees(math.atan2(d[0], -d[1]))
    return (f"{'LAO' if lao >= 0 else 'RAO'} {abs(lao):.0f} "
            f"{'CRA' if cra >= 0 else 'CAU'} {abs(cra):.0f}")


def anterior(scene) -> View:
    """The whole scene from the front; the anatomy translucent when a device is inside."""
    lo, hi = scene.bounds("anatomy" if scene.anatomy else "all")
    ext = hi - lo
    return View("anterior", "Anterior view", 0.5 * (lo + hi), ANTERIOR.copy(), SUPERIOR.copy(),
                _half_height(ext[0], ext[2]), cutaway=False,
                anatomy_opacity=0.35 if scene.device is not None else 1.0)


def _lumen(scene) -> tuple | None:
    """The labels of the device's lumen (LV and aorta for an aortic valve), or None."""
    from ..core.devices.field import LUMEN_LABELS

    wanted = LUMEN_LABELS.get(scene.device_position or "")
    shown = tuple(k for k in (wanted or ()) if k in scene.anatomy)
    return shown or None


def _device_frame(scene) -> tuple[np.ndarray, np.ndarray, float]:
    if scene.device is None or scene.device_pose is None:
        raise InputError("This view needs a placed device; plan one first.")
    axis = _unit(scene.device_pose[:3, 2])
    lo, hi = scene.bounds("device")
    size = float(np.linalg.norm(hi - lo))
    return axis, np.asarray(scene.device_centre, float), size


def coplanar(scene, measurements: dict | None = None) -> View:
    """Perpendicular to the device axis (device edge-on), nearest the measured coplanar view."""
    axis, centre, size = _device_frame(scene)
    wanted = ANTERIOR
    try:
        wanted = _unit(measurements["coplanar_view"]["recommended"]["detector_direction_lps"])
    except (KeyError, TypeError, InputError):
        pass
    direction = _perpendicular(wanted, axis)
    if direction is None:
        direction = _perpendicular(ANTERIOR, axis)
    if direction is None:
        direction = _perpendicular(np.array([1.0, 0.0, 0.0]), axis)
    return View("coplanar", f"Coplanar view ({c_arm_label(direction)}), device edge-on",
                centre, direction, axis.copy(), 1.5 * size / 2.0 + 10.0, cutaway=True,
                labels=_lumen(scene))


def en_face(scene) -> View:
    """Down the device axis from its outflow side, the anatomy cut open at the device."""
    axis, centre, size = _device_frame(scene)
    return View("en_face", "En-face view down the device axis (from the outflow)", centre, axis.copy(),
                _up(axis, ANTERIOR), 1.5 * size / 2.0 + 10.0, cutaway=True, labels=_lumen(scene))


def standard_views(scene, measurements: dict | None = None) -> list[View]:
    """Anterior, and with a device the coplanar and en-face views."""
    views = [anterior(scene)]
    if scene.device is not None:
        views += [coplanar(scene, measurements), en_face(scene)]
    return views
