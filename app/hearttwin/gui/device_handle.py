"""Moving the placed device in the 3D view, and the colour map of its fit.

The 3D view has no VTK interactor (frames are rendered offscreen), so the
handle is drawn and picked on the GUI side with the view's camera
(:meth:`hearttwin.gui.view3d.View3D.project`): an arrow along the device
axis and a ring around it, painted over the frame on the Device step.
Ctrl+left drag anywhere in the view slides the device in the view plane (its
centre follows the mouse); Ctrl+Shift+left drag turns it about its own axis
(the ring follows the mouse around the device centre). Every mouse move goes
through :meth:`~hearttwin.gui.panels.device_panel.DevicePanel.set_pose`, like
a move key, so the fit table and verdicts follow; the release records one
move in the case.

The colour map: each device vertex carries its signed distance (mm) to the
tissue boundary, sampled from the plan's precomputed distance field
(:class:`hearttwin.core.devices.field.AnatomyField`: > 0 in the lumen, a gap;
< 0 in tissue, pressing in), drawn red (pressing in), green (apposed), blue (gap).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QLinearGradient, QPainter, QPen, QPolygonF

from ..core.devices import placement

#: the device surface's point array holding the signed distance to tissue (mm)
FIT_ARRAY = "fit_distance_mm"
HANDLE_COLOUR = (255, 196, 0)
HANDLE_ACTIVE_COLOUR = (255, 255, 255)
HINT = "Ctrl+drag: move device   Ctrl+Shift+drag: turn it"
#: below this |cos| between the device axis and the view direction, turning follows horizontal drag
_EDGE_ON = 0.25
#: degrees per pixel of horizontal drag when the ring is seen edge-on
_DEG_PER_PIXEL = 0.5


@dataclass(frozen=True)
class ColourMap:
    """A diverging colour map of a point array: ``points`` are ``(value, r, g, b)`` (0-1), increasing."""

    array: str
    points: tuple
    title: str
    #: (value, text) marks under the legend's bar
    marks: tuple = ()

    def colours(self, values) -> np.ndarray:
        """RGB (0-1) for ``values``, piecewise linear, clamped at the ends (like the renderer)."""
        v = np.asarray(values, float)
        xs = [p[0] for p in self.points]
        return np.stack([np.interp(v, xs, [p[c] for p in self.points]) for c in (1, 2, 3)], axis=-1)

    def paint_legend(self, p: QPainter, area) -> None:
        """A colour bar with its title and marks in the bottom-right corner of ``area`` (QRect)."""
        w, h, m = 180.0, 10.0, 34.0  # room for the end marks' text
        bar = QRectF(area.right() - w - m, area.bottom() - h - 34.0, w, h)
        lo, hi = self.points[0][0], self.points[-1][0]
        grad = QLinearGradient(bar.left(), 0, bar.right(), 0)
        for value, r, g, b in self.points:
            grad.setColorAt((value - lo) / (hi - lo), QColor.fromRgbF(r, g, b))
        p.fillRect(bar, grad)
        p.setPen(QColor(235, 235, 235))
        p.drawRect(bar)
        p.drawText(QRectF(bar.left() - 40, bar.top() - 18, w + 50, 16),
                   Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignBottom, self.title)
        for value, text in self.marks:
            x = bar.left() + (value - lo) / (hi - lo) * w
            p.drawLine(QPointF(x, bar.bottom()), QPointF(x, bar.bottom() + 3))
            p.drawText(QRectF(x - 40, bar.bottom() + 3, 80, 16), Qt.AlignmentFlag.AlignHCenter, text)


#: signed distance to tissue: red pressing in (< -0.5 mm), green apposed (within ~0.5 mm), blue gap
FIT_COLOUR_MAP = ColourMap(
    FIT_ARRAY,
    ((-3.0, 0.50, 0.00, 0.00), (-1.0, 0.95, 0.10, 0.05), (-0.6, 1.00, 0.60, 0.10),
     (-0.4, 0.20, 0.80, 0.30), (0.4, 0.20, 0.80, 0.30), (1.0, 0.25, 0.55, 1.00), (4.0, 0.05, 0.12, 0.60)),
    "Distance to tissue (mm)",
    ((-3.0, "in 3"), (0.0, "0"), (4.0, "gap 4")))


def fit_scalars(poly, distances) -> None:
    """Attach ``distances`` (mm, one per point) to the device surface ``poly`` as :data:`FIT_ARRAY`."""
    from vtkmodules.util.numpy_support import numpy_to_vtk

    values = np.ascontiguousarray(distances, dtype=np.float32).ravel()
    if values.size != poly.GetNumberOfPoints():
        raise ValueError(f"{values.size} distances for {poly.GetNumberOfPoints()} points")
    array = numpy_to_vtk(values, deep=True)
    array.SetName(FIT_ARRAY)
    poly.GetPointData().AddArray(array)
    poly.GetPointData().SetActiveScalars(FIT_ARRAY)


class DeviceHandle:
    """The device's drag handle in a :class:`~hearttwin.gui.view3d.View3D`, moving ``panel``'s device.

    ``panel`` gives ``pose`` (4x4 or None), ``extent`` ((z min, z max, max radius) in the device
    frame, or None) and ``set_pose(pose, record=...)``.
    """

    def __init__(self, panel, view) -> None:
        self.panel, self.view = panel, view
        self.active = False
        self._drag = None  # (mode, start pose, last x, last y, accumulated, start x, start y)
        view.handle = self

    @property
    def shown(self) -> bool:
        return self.active and self.panel.pose is not None and self.panel.extent is not None

    @property
    def dragging(self) -> bool:
        return self._drag is not None

    def set_active(self, active: bool) -> None:
        """Shown and draggable (the Device step is on screen) or not."""
        self.active = bool(active)
        if not self.active:
            self._drag = None
        self.view.update()

    def cancel(self) -> None:
        """Forget a drag in progress (the device was replaced), without recording it."""
        self._drag = None
        self.view.update()

    def centre(self, pose=None) -> np.ndarray:
        """The device's centre (LPS): on its axis, half-way along its height."""
        pose = self.panel.pose if pose is None else pose
        z0, z1, _ = self.panel.extent
        return pose[:3, 3] + 0.5 * (z0 + z1) * pose[:3, 2]

    # -- dragging ----------------------------------------------------------------------------
    def press(self, event) -> bool:
        """Start a drag for Ctrl(+Shift)+left press; False (not ours) otherwise."""
        mods = event.modifiers()
        if not self.shown or event.button() != Qt.MouseButton.LeftButton or \
                not mods & Qt.KeyboardModifier.ControlModifier:
            return False
        mode = "turn" if mods & Qt.KeyboardModifier.ShiftModifier else "move"
        x, y = event.position().x(), event.position().y()
        self._drag = [mode, self.panel.pose.copy(), x, y, 0.0, x, y]
        self.view.update()
        return True

    def move(self, x: float, y: float) -> None:
        """The mouse is at (x, y) pixels during a drag: put the device there (live fit)."""
        if self._drag is None:
            return
        mode, start = self._drag[0], self._drag[1]
        if mode == "move":
            pose = placement.move(start, self.view_shift(start, x - self._drag[5], y - self._drag[6]))
        else:
            self._drag[4] += self._turn_step(start, x, y)
            pose = placement.rotate(start, start[:3, 2], self._drag[4], about_lps=self.centre(start))
        self._drag[2], self._drag[3] = x, y
        self.panel.set_pose(pose, record=False)

    def release(self) -> None:
        """End the drag: record the move in the case (one step), if the device moved."""
        drag, self._drag = self._drag, None
        if drag is not None and self.panel.pose is not None and not np.allclose(self.panel.pose, drag[1]):
            self.panel.set_pose(self.panel.pose, step="move_device", record=True)
        self.view.update()

    def view_shift(self, pose, dx: float, dy: float) -> np.ndarray:
        """The LPS shift (mm) in the view plane that moves the device centre by (dx, dy) pixels."""
        _, _, right, up = self.view.camera_frame()
        return (dx * right - dy * up) * self.view.pixel_size_at(self.centre(pose))

    def _turn_step(self, start, x: float, y: float) -> float:
        """Degrees about the device axis for the mouse going from the last position to (x, y)."""
        _, view_dir, _, _ = self.view.camera_frame()
        axis = start[:3, 2]
        facing = float(np.dot(axis, -view_dir))  # > 0: the axis points at the viewer
        lx, ly = self._drag[2], self._drag[3]
        if abs(facing) < _EDGE_ON:
            return (x - lx) * _DEG_PER_PIXEL
        cx, cy = self.view.project(self.centre(start)[None])[0][0]
        before = np.arctan2(-(ly - cy), lx - cx)  # screen angles, y up: counter-clockwise positive
        after = np.arctan2(-(y - cy), x - cx)
        step = (after - before + np.pi) % (2 * np.pi) - np.pi
        return float(np.degrees(step) * np.sign(facing))

    # -- drawing -----------------------------------------------------------------------------
    def outline_lps(self, pose=None, n: int = 48) -> tuple[np.ndarray, np.ndarray]:
        """The handle in LPS: (axis arrow base and tip (2, 3), ring (n, 3) around the centre)."""
        pose = self.panel.pose if pose is None else pose
        z0, z1, radius = self.panel.extent
        height = z1 - z0
        axis, x, y = pose[:3, 2], pose[:3, 0], pose[:3, 1]
        base = pose[:3, 3] + z0 * axis
        tip = pose[:3, 3] + (z1 + max(0.35 * height, 8.0)) * axis
        t = np.linspace(0, 2 * np.pi, n, endpoint=False)
        ring = self.centre(pose) + 1.2 * radius * (np.cos(t)[:, None] * x + np.sin(t)[:, None] * y)
        return np.array([base, tip]), ring

    def paint(self, p: QPainter) -> None:
        """Draw the arrow, the ring and the hint over the 3D frame."""
        if not self.shown:
            return
        arrow, ring = self.outline_lps()
        pts, depth = self.view.project(np.vstack([arrow, ring]))
        if np.any(depth <= 0):  # part of the handle behind the camera
            return
        colour = HANDLE_ACTIVE_COLOUR if self._drag is not None else HANDLE_COLOUR
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        p.setPen(QPen(QColor(*colour), 2.5))
        p.drawPolygon(QPolygonF([QPointF(*q) for q in pts[2:]]))
        (bx, by), (tx, ty) = pts[0], pts[1]
        p.drawLine(QPointF(bx, by), QPointF(tx, ty))
        d = np.array([tx - bx, ty - by])
        length = float(np.hypot(*d))
        if length > 1:
            d /= length
            n = np.array([-d[1], d[0]])
            head = [np.array([tx, ty]) - 12 * d + s * 6 * n for s in (-1, 1)]
            p.setBrush(QColor(*colour))
            p.drawPolygon(QPolygonF([QPointF(tx, ty)] + [QPointF(*h) for h in head]))
            p.setBrush(Qt.BrushStyle.NoBrush)
        p.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        p.setPen(QColor(*HANDLE_COLOUR))
        p.drawText(self.view.rect().adjusted(8, 22, 0, 0), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop,
                   HINT)
