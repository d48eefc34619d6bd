"""The 3D view: heart surfaces rendered offscreen by VTK, painted by a plain QWidget.

This works the same with or without a display (offscreen Qt platform,
OSMesa or EGL VTK) and never needs a native GL window inside Qt. Frames are
drawn on a render thread (:mod:`.render_thread`) so a slow software renderer
never freezes the window; requests are coalesced (at most one in flight).
The camera lives here as plain parameters (a ``vtkCamera`` used for its
maths only). Mouse: left drag rotates, right drag or wheel zooms, middle
drag or Shift+left drag pans; R resets to the anterior view. A ``handle``
(:class:`~.device_handle.DeviceHandle`) may take Ctrl+left drags and paint
over the frame; a colour-mapped surface adds its legend. The CT can be shown
as a volume too (:meth:`View3D.set_volume_preset`, :mod:`.volume_presets`).

The beating-heart animation (:meth:`View3D.set_surface_points`) swaps the
point arrays of the shown surfaces, precomputed per phase in a worker: a
frame costs one render, nothing is rebuilt.
"""

from __future__ import annotations

import time

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtWidgets import QSizePolicy, QWidget
from vtkmodules.util.numpy_support import numpy_to_vtk, vtk_to_numpy
from vtkmodules.vtkCommonCore import vtkPoints
from vtkmodules.vtkCommonDataModel import vtkPolyData
from vtkmodules.vtkRenderingCore import vtkCamera

from . import volume_presets
from .render_thread import OffscreenRenderer, RenderThread, use_thread
from .view_state import ViewState

#: background colour (0-255 RGB)
BACKGROUND = (24, 28, 36)
_AXES = (("L", "R"), ("P", "A"), ("S", "I"))  # LPS +/- letters


def moved_copy(poly, points):
    """``poly`` with other points (N, 3): a new surface sharing its triangles and normals."""
    out = vtkPolyData()
    out.ShallowCopy(poly)
    pts = vtkPoints()
    pts.SetData(numpy_to_vtk(np.ascontiguousarray(points, np.float32), deep=True))
    out.SetPoints(pts)
    return out


def surface_points(poly) -> np.ndarray:
    """A copy of a surface's points, (N, 3)."""
    pts = poly.GetPoints()
    return np.zeros((0, 3), np.float32) if pts is None else vtk_to_numpy(pts.GetData()).copy()


class View3D(QWidget):
    """Heart surfaces (one per label) and the image box, in LPS millimetres."""

    maximise_requested = Signal(str)
    _send_surfaces = Signal(object)
    _send_outline = Signal(object)
    _send_points = Signal(object)
    _send_volume = Signal(object)
    _send_preset = Signal(object)
    _send_render = Signal(object)
    _send_shutdown = Signal()

    def __init__(self, state: ViewState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.plane = "3d"
        self.setObjectName("view3d")
        self.setMinimumSize(120, 120)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setToolTip("3D view: left-drag rotates, right-drag or wheel zooms, middle-drag pans, R resets "
                        "to the anterior view, double-click enlarges; Device step: Ctrl(+Shift)-drag moves "
                        "(turns) the device")
        self.camera = vtkCamera()
        self.labels: set[int] = set()
        self.last_rgb: np.ndarray | None = None
        self._qimage: QImage | None = None
        self._surface_bounds: np.ndarray | None = None  # the camera frames these...
        self._box_bounds: np.ndarray | None = None  # ...or else the image box
        self._released = False
        self._volume = None
        self._dirty, self._pending, self._next_id, self._frame_id = True, False, 0, -1
        self._drag = None
        self._renderer = OffscreenRenderer(BACKGROUND)
        self._shown: dict = {}
        #: the surfaces drawn in place of the given ones now ({label: vtkPolyData}), or None
        self.points: dict | None = None
        #: surfaces coloured by a point array ({label: ColourMap}); their legends are drawn
        self.colour_maps: dict = {}
        #: the volume rendering preset (a :func:`volume_presets.preset_names` name)
        self.volume_preset = volume_presets.OFF
        self._volume_image = None  # (vtkImageData, matrix) of the CT, kept alive while drawn
        #: takes Ctrl+left drags and paints over the frame (see :class:`.device_handle.DeviceHandle`)
        self.handle = None
        #: milliseconds from the last frame's request to its arrival (rendering + hand-over)
        self.frame_ms, self._requested_at = None, 0.0
        self._thread = None
        if use_thread():
            self._thread = RenderThread()
            self._renderer.moveToThread(self._thread)
            self._thread.start()
        kind = Qt.ConnectionType.QueuedConnection if self._thread else Qt.ConnectionType.DirectConnection
        self._send_surfaces.connect(self._renderer.set_surfaces, kind)
        self._send_outline.connect(self._renderer.set_outline, kind)
        self._send_points.connect(self._renderer.set_inputs, kind)
        self._send_volume.connect(self._renderer.set_volume, kind)
        self._send_preset.connect(self._renderer.set_volume_preset, kind)
        self._send_render.connect(self._renderer.render, kind)
        block = Qt.ConnectionType.BlockingQueuedConnection if self._thread else Qt.ConnectionType.DirectConnection
        self._send_shutdown.connect(self._renderer.shutdown, block)
        self._renderer.frame_ready.connect(self._on_frame, Qt.ConnectionType.QueuedConnection
                                           if self._thread else Qt.ConnectionType.DirectConnection)
        state.display_changed.connect(self.refresh)
        state.data_changed.connect(self._on_data)
        self.reset_camera()

    # -- scene -------------------------------------------------------------------------------
    def set_surfaces(self, surfaces: dict, colours: dict[int, tuple[int, int, int]],
                     opacities: dict | None = None, colour_maps: dict | None = None) -> None:
        """Show ``{label: vtkPolyData}`` (LPS mm) coloured by ``colours`` (and ``opacities``, default
        opaque); replaces the old ones. ``colour_maps`` (``{label: ColourMap}``, see
        :class:`.device_handle.ColourMap`) colour those surfaces by a point array instead."""
        had = bool(self.labels)
        self.labels = {int(k) for k in surfaces}
        bounds = np.array([p.GetBounds() for p in surfaces.values()]) if surfaces else None
        self._surface_bounds = None if bounds is None else np.array(
            [bounds[:, 0].min(), bounds[:, 1].max(), bounds[:, 2].min(), bounds[:, 3].max(),
             bounds[:, 4].min(), bounds[:, 5].max()])
        self.points = None  # new actors draw the surfaces as given
        self._shown = dict(surfaces)  # kept alive here while the renderer draws them
        self.colour_maps = {k: m for k, m in (colour_maps or {}).items() if m is not None and k in surfaces}
        self._send_surfaces.emit((dict(surfaces), dict(colours), dict(opacities or {}), dict(self.colour_maps)))
        if surfaces and not had:
            self.reset_camera()
        self.refresh()

    def set_surface_points(self, polys: dict | None) -> None:
        """Draw ``{label: vtkPolyData}`` (e.g. :func:`moved_copy` surfaces of one phase of the
        beating heart) in place of the given surfaces, or the given ones again (None).
        Keep the surfaces alive while they are shown. Camera and framing stay as they are."""
        if polys is None and self.points is None:
            return
        if polys is None:  # the given surfaces back in the actors that showed others
            send = {label: self._shown[label] for label in self.points if label in self._shown}
        else:
            send = {label: poly for label, poly in polys.items() if label in self._shown
                    and poly.GetNumberOfPoints() == self._shown[label].GetNumberOfPoints()}
        self.points = None if polys is None else dict(polys)
        self._send_points.emit(send)
        self.refresh()

    def _on_data(self) -> None:
        vol = self.state.volume
        if vol is self._volume:  # a label change: nothing to redo here
            return
        self._volume = vol
        box = None
        if vol is not None:
            nx, ny, nz = vol.size
            corners = np.array([[i, j, k] for i in (0, nx - 1) for j in (0, ny - 1) for k in (0, nz - 1)], float)
            lps = vol.index_to_lps(corners)
            box = tuple(float(v) for v in np.ravel(np.column_stack([lps.min(0), lps.max(0)])))
        self._box_bounds = None if box is None else np.array(box)
        self._send_outline.emit(box)
        self._volume_image = None
        self._send_volume.emit(None)
        if self.volume_preset != volume_presets.OFF:
            self.set_volume_preset(self.volume_preset)
        self.reset_camera()

    def set_volume_preset(self, name: str) -> None:
        """Show the CT as a volume with preset ``name`` (:data:`volume_presets.PRESETS`), or hide it
        (:data:`volume_presets.OFF`). The CT is sent downsampled, once per image."""
        if name not in volume_presets.preset_names():
            raise ValueError(f"Unknown volume rendering preset {name!r}; choose one of "
                             f"{', '.join(volume_presets.preset_names())}.")
        self.volume_preset = name
        if name != volume_presets.OFF and self._volume_image is None and self._volume is not None:
            self._volume_image = volume_presets.image_data(self._volume)
            self._send_volume.emit(self._volume_image)
        self._send_preset.emit(volume_presets.PRESETS.get(name))
        self.refresh()

    def reset_camera(self) -> None:
        """Anterior view (patient's left on screen right, head up), the heart (or image) in frame."""
        bounds = self._surface_bounds if self._surface_bounds is not None else self._box_bounds
        if bounds is None:
            bounds = np.array([-50, 50, -50, 50, -50, 50], float)
        centre = (bounds[0::2] + bounds[1::2]) / 2
        radius = np.linalg.norm(bounds[1::2] - bounds[0::2]) / 2
        cam = self.camera
        distance = radius / np.sin(np.radians(cam.GetViewAngle() / 2))
        cam.SetFocalPoint(*centre)
        cam.SetPosition(*(centre + np.array([0.0, -distance, 0.0])))  # anterior is -P in LPS
        cam.SetViewUp(0, 0, 1)
        self.refresh()

    # -- frames ------------------------------------------------------------------------------
    def refresh(self) -> None:
        self._dirty = True
        self._request()

    @property
    def frame_current(self) -> bool:
        """True when the last frame shows the current scene, camera and size."""
        return not self._dirty and not self._pending and self.last_rgb is not None and \
            self.last_rgb.shape[:2] == (self.height(), self.width())

    def _request(self) -> None:
        if self._pending or self._released or not self.isVisible():
            return
        self._dirty = False
        self._pending = True
        self._next_id += 1
        self._requested_at = time.perf_counter()
        cam = self.camera
        self._send_render.emit({
            "id": self._next_id, "size": (max(self.width(), 16), max(self.height(), 16)),
            "camera": (cam.GetPosition(), cam.GetFocalPoint(), cam.GetViewUp(), cam.GetViewAngle()),
            "hidden": set(self.state.hidden), "interactive": self._drag is not None})

    def _on_frame(self, rgb: np.ndarray, request_id: int) -> None:
        self._pending = False
        self._frame_id = request_id
        self.frame_ms = 1000.0 * (time.perf_counter() - self._requested_at)
        self.last_rgb = rgb
        h, w, _ = rgb.shape
        self._qimage = QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()
        self.update()
        if self._dirty or (h, w) != (self.height(), self.width()):
            self._dirty = True
            self._request()

    def showEvent(self, event) -> None:  # noqa: N802 (Qt API)
        super().showEvent(event)
        self.refresh()

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        self.refresh()

    def paintEvent(self, event) -> None:  # noqa: N802
        p = QPainter(self)
        if self._qimage is None:
            p.fillRect(self.rect(), QColor(*BACKGROUND))
        else:  # a frame of the old size stretches until the new one arrives
            p.drawImage(self.rect(), self._qimage)
        self._draw_letters(p)
        legend = next((m for label, m in self.colour_maps.items() if label not in self.state.hidden), None)
        if legend is not None:
            legend.paint_legend(p, self.rect())
        if self.handle is not None:
            self.handle.paint(p)
        p.end()

    def _draw_letters(self, p: QPainter) -> None:
        cam = self.camera
        view = np.subtract(cam.GetFocalPoint(), cam.GetPosition())
        up = np.asarray(cam.GetViewUp(), float)
        right = np.cross(view, up)
        p.setPen(QColor(255, 230, 120))
        r, m, f = self.rect(), 6, Qt.AlignmentFlag
        p.drawText(r.adjusted(0, 0, -m, 0), f.AlignRight | f.AlignVCenter, _letter(right))
        p.drawText(r.adjusted(m, 0, 0, 0), f.AlignLeft | f.AlignVCenter, _letter(-right))
        p.drawText(r.adjusted(0, m, 0, 0), f.AlignHCenter | f.AlignTop, _letter(up))
        p.drawText(r.adjusted(0, 0, 0, -m), f.AlignHCenter | f.AlignBottom, _letter(-up))

    # -- interaction -------------------------------------------------------------------------
    def mousePressEvent(self, event) -> None:  # noqa: N802
        if self.handle is not None and self.handle.press(event):
            self._drag = ("handle", event.position().x(), event.position().y())
            return
        pan = event.button() == Qt.MouseButton.MiddleButton or (
            event.button() == Qt.MouseButton.LeftButton and event.modifiers() & Qt.KeyboardModifier.ShiftModifier)
        kind = "pan" if pan else {Qt.MouseButton.LeftButton: "rotate",
                                  Qt.MouseButton.RightButton: "zoom"}.get(event.button())
        self._drag = (kind, event.position().x(), event.position().y()) if kind else None

    def mouseMoveEvent(self, event) -> None:  # noqa: N802
        if self._drag is None:
            return
        kind, x0, y0 = self._drag
        x, y = event.position().x(), event.position().y()
        dx, dy = x - x0, y - y0
        self._drag = (kind, x, y)
        if kind == "handle":
            self.handle.move(x, y)
        elif kind == "rotate":
            self.rotate(-dx * 0.5, dy * 0.5)
        elif kind == "zoom":
            self.zoom(1.01 ** (-dy))
        else:
            self.pan(dx, dy)

    def mouseReleaseEvent(self, event) -> None:  # noqa: N802
        if self._drag is not None and self._drag[0] == "handle":
            self.handle.release()
        if self._drag is not None:
            self._drag = None
            self.refresh()  # full quality again (a volume is drawn coarser during drags)

    def wheelEvent(self, event) -> None:  # noqa: N802
        self.zoom(1.1 ** (event.angleDelta().y() / 120.0))
        event.accept()

    def keyPressEvent(self, event) -> None:  # noqa: N802
        if event.key() == Qt.Key.Key_R:
            self.reset_camera()
        else:
            super().keyPressEvent(event)

    def mouseDoubleClickEvent(self, event) -> None:  # noqa: N802
        self.maximise_requested.emit("3d")

    def rotate(self, azimuth: float, elevation: float) -> None:
        self.camera.Azimuth(azimuth)
        self.camera.Elevation(elevation)
        self.camera.OrthogonalizeViewUp()
        self.refresh()

    def zoom(self, factor: float) -> None:
        self.camera.Dolly(factor)
        self.refresh()

    def pan(self, dx: float, dy: float) -> None:
        cam = self.camera
        focal, pos = np.array(cam.GetFocalPoint()), np.array(cam.GetPosition())
        _, _, right, up = self.camera_frame()
        shift = (-dx * right + dy * up) * self.pixel_size_at(focal)  # the scene follows the mouse
        cam.SetFocalPoint(*(focal + shift))
        cam.SetPosition(*(pos + shift))
        self.refresh()

    # -- camera geometry (the GUI side's picking) -------------------------------------------
    def camera_frame(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(camera position, unit view direction, unit screen right, unit screen up) in LPS."""
        cam = self.camera
        pos = np.asarray(cam.GetPosition(), float)
        view = np.subtract(cam.GetFocalPoint(), pos)
        view /= np.linalg.norm(view) or 1.0
        right = np.cross(view, np.asarray(cam.GetViewUp(), float))
        right /= np.linalg.norm(right) or 1.0
        return pos, view, right, np.cross(right, view)

    def _focal_pixels(self) -> float:
        """Pixels per unit of (lateral offset / depth): VTK's view angle is the vertical one."""
        return 0.5 * max(self.height(), 1) / np.tan(np.radians(self.camera.GetViewAngle() / 2))

    def project(self, points_lps) -> tuple[np.ndarray, np.ndarray]:
        """Widget pixel coordinates (N, 2) of LPS points (N, 3) as the renderer draws them, and
        their depths (mm along the view direction; <= 0: behind the camera)."""
        pos, view, right, up = self.camera_frame()
        rel = np.asarray(points_lps, float).reshape(-1, 3) - pos
        depth = rel @ view
        scale = self._focal_pixels() / np.where(np.abs(depth) > 1e-9, depth, 1e-9)
        xy = np.column_stack([0.5 * self.width() + (rel @ right) * scale,
                              0.5 * self.height() - (rel @ up) * scale])
        return xy, depth

    def pixel_size_at(self, point_lps) -> float:
        """Millimetres per pixel in the view plane through ``point_lps``."""
        pos, view, _, _ = self.camera_frame()
        depth = float(np.dot(np.asarray(point_lps, float) - pos, view))
        return max(depth, 1e-6) / self._focal_pixels()

    def release(self) -> None:
        """Free the OpenGL context and stop the render thread (before the widget goes away)."""
        if self._released:
            return
        self._released = True
        self._send_shutdown.emit()
        if self._thread is not None:
            self._thread.quit()
            self._thread.wait()
            self._thread = None


def _letter(vector) -> str:
    """The patient direction letter (L/R/P/A/S/I) closest to an LPS vector."""
    v = np.asarray(vector, float)
    axis = int(np.argmax(np.abs(v)))
    return _AXES[axis][0 if v[axis] >= 0 else 1]
