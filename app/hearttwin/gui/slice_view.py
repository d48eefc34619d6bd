"""A 2D slice view (axial, coronal or sagittal) drawn with plain Qt from numpy.

No OpenGL: the slice is windowed and blended with the label overlay in
numpy, turned into a ``QImage`` and painted at its physical aspect ratio.
Mouse: left click/drag moves the linked crosshair (or uses the active tool;
a click on a ruler or angle drawn on the slice selects it; on the Model step
a press on a landmark square drags the landmark, see :mod:`landmark_drag`),
wheel scrolls slices, right drag changes window (horizontal) and level
(vertical), Ctrl+wheel zooms; keys: Up/Down and PageUp/PageDown scroll.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from . import display
from .device_outline import slice_segments
from .landmark_drag import SHOWN_WITHIN_SLICES
from .view_state import ViewState

_CROSS = {"axial": (QColor(80, 220, 80), QColor(80, 160, 255)),  # vertical line, horizontal line
          "coronal": (QColor(80, 220, 80), QColor(255, 200, 60)),
          "sagittal": (QColor(255, 120, 120), QColor(255, 200, 60))}


class SliceView(QWidget):
    """One plane of the current image with crosshair, overlay and orientation letters."""

    maximise_requested = Signal(str)
    #: the user zoomed this view (the new factor)
    zoom_changed = Signal(float)

    def __init__(self, state: ViewState, plane: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        if plane not in display.PLANES:
            raise ValueError(plane)
        self.state, self.plane = state, plane
        self.setObjectName(f"{plane}View")
        self.setMinimumSize(120, 120)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMouseTracking(False)
        self.setToolTip(f"{plane.capitalize()} view: click to move the crosshair, wheel to scroll, "
                        "right-drag for window/level, Ctrl+wheel to zoom, double-click to enlarge")
        self.zoom = 1.0
        self._qimage: QImage | None = None
        self._dirty = True
        self._drag = None  # ("wl", x, y, window, level), ("tool",), ("nav",) or ("landmark", canonical, editor)
        state.cursor_changed.connect(self._on_cursor)
        state.display_changed.connect(self.refresh)
        state.data_changed.connect(self.refresh)
        state.measures_changed.connect(self.update)
        self._shown_index = None

    # -- geometry ----------------------------------------------------------------------------
    @property
    def slice_index(self) -> int:
        return int(self.state.cursor[display.FIXED_AXIS[self.plane]])

    @property
    def slice_count(self) -> int:
        return int(self.state.size[display.FIXED_AXIS[self.plane]])

    def image_rect(self) -> QRectF:
        """Where the slice is drawn in widget coordinates (physical aspect, centred)."""
        if self.state.image is None:
            return QRectF()
        rows, cols = display.plane_image(self.state.image, self.plane, 0).shape
        pw, ph = display.plane_pixel_mm(self.plane, self.state.spacing)
        w_mm, h_mm = cols * pw, rows * ph
        scale = min(self.width() / w_mm, self.height() / h_mm) * self.zoom
        w, h = w_mm * scale, h_mm * scale
        return QRectF((self.width() - w) / 2, (self.height() - h) / 2, w, h)

    def widget_to_canonical(self, pos: QPointF) -> np.ndarray | None:
        """A widget position -> canonical (x, y, z) index on the current slice."""
        rect = self.image_rect()
        if rect.isEmpty():
            return None
        rows, cols = display.plane_image(self.state.image, self.plane, 0).shape
        col = (pos.x() - rect.left()) / rect.width() * cols - 0.5
        row = (pos.y() - rect.top()) / rect.height() * rows - 0.5
        return np.array(display.plane_to_canonical(self.plane, col, row, self.slice_index, self.state.size))

    def canonical_to_widget(self, cxyz) -> QPointF:
        rect = self.image_rect()
        rows, cols = display.plane_image(self.state.image, self.plane, 0).shape
        col, row = display.canonical_to_plane(self.plane, cxyz, self.state.size)
        return QPointF(rect.left() + (col + 0.5) / cols * rect.width(),
                       rect.top() + (row + 0.5) / rows * rect.height())

    # -- drawing -----------------------------------------------------------------------------
    def refresh(self) -> None:
        self._dirty = True
        self.update()

    def _on_cursor(self) -> None:
        if self._shown_index != self.slice_index:
            self._dirty = True
        self.update()

    def slice_rgb(self) -> np.ndarray | None:
        """The current slice as displayed (rows, cols, 3) RGB, before scaling."""
        st = self.state
        if st.image is None:
            return None
        grey = display.window_to_grey(display.plane_image(st.image, self.plane, self.slice_index),
                                      st.window, st.level)
        labels = None if st.label_image is None else \
            display.plane_image(st.label_image, self.plane, self.slice_index)
        table = display.colour_table(st.colours)
        return np.ascontiguousarray(display.compose_rgb(grey, labels, table, st.alpha_table()))

    def _image(self) -> QImage | None:
        if self._dirty or self._qimage is None:
            rgb = self.slice_rgb()
            if rgb is None:
                self._qimage = None
            else:
                h, w, _ = rgb.shape
                self._qimage = QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()
            self._shown_index = self.slice_index if rgb is not None else None
            self._dirty = False
        return self._qimage

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt API)
        p = QPainter(self)
        p.fillRect(self.rect(), Qt.GlobalColor.black)
        img = self._image()
        if img is None:
            p.setPen(QColor(150, 150, 150))
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, f"{self.plane.capitalize()}\n(open a CT)")
            p.end()
            return
        rect = self.image_rect()
        p.drawImage(rect, img)  # nearest neighbour: voxels stay visible as voxels
        self._draw_crosshair(p)
        self._draw_markers(p)
        self._draw_measures(p)
        self._draw_text(p)
        p.end()

    def _draw_crosshair(self, p: QPainter) -> None:
        rect = self.image_rect()
        point = self.canonical_to_widget(self.state.cursor)
        vertical, horizontal = _CROSS[self.plane]
        p.setPen(QPen(vertical, 1))
        p.drawLine(QPointF(point.x(), rect.top()), QPointF(point.x(), rect.bottom()))
        p.setPen(QPen(horizontal, 1))
        p.drawLine(QPointF(rect.left(), point.y()), QPointF(rect.right(), point.y()))

    def _draw_markers(self, p: QPainter) -> None:
        """Markers (seeds) within half a slice of this plane, as rings in their colour."""
        axis = display.FIXED_AXIS[self.plane]
        for lps, rgb in self.state.markers:
            c = self.state.lps_to_canonical(lps)
            if abs(c[axis] - self.slice_index) <= 0.5:
                p.setPen(QPen(QColor(*rgb), 2))
                p.setBrush(Qt.BrushStyle.NoBrush)
                p.drawEllipse(self.canonical_to_widget(c), 5, 5)
        if self.state.device is not None:  # where the device crosses this slice
            pts, tris, rgb = self.state.device
            p.setPen(QPen(QColor(*rgb), 2))
            for a, b in slice_segments(pts, tris, axis, self.slice_index):
                p.drawLine(self.canonical_to_widget(a), self.canonical_to_widget(b))
        for name, lps, rgb in self.state.landmarks:  # measured points, within 2 slices
            c = self.state.lps_to_canonical(lps)
            if abs(c[axis] - self.slice_index) <= SHOWN_WITHIN_SLICES:
                q = self.canonical_to_widget(c)
                p.setPen(QPen(QColor(*rgb), 2))
                p.setBrush(Qt.BrushStyle.NoBrush)
                p.drawRect(QRectF(q.x() - 4, q.y() - 4, 8, 8))
                p.drawText(QPointF(q.x() + 6, q.y() - 6), name)

    def _draw_measures(self, p: QPainter) -> None:
        """Rulers and angles of this slice, then the active tool's drawing (if it has one)."""
        for m in self.state.measures:
            m.draw(p, self, m is self.state.selected_measure)
        draw = getattr(self.state.tool, "draw", None)
        if draw is not None:
            draw(p, self)

    def measure_at(self, pos: QPointF, tolerance_px: float = 6.0):
        """The measure drawn within ``tolerance_px`` of widget position ``pos``, or None."""
        hits = [(m.distance_px(self, pos), n, m) for n, m in enumerate(self.state.measures)]
        best = min(hits, default=None, key=lambda hit: hit[:2])
        return best[2] if best is not None and best[0] <= tolerance_px else None

    def _draw_text(self, p: QPainter) -> None:
        font = QFont(self.font())
        font.setPointSize(max(8, font.pointSize()))
        font.setBold(True)
        p.setFont(font)
        p.setPen(QColor(255, 230, 120))
        top, bottom, left, right = display.EDGE_LETTERS[self.plane]
        r, m = self.rect(), 6
        flags = Qt.AlignmentFlag
        p.drawText(r.adjusted(0, m, 0, 0), flags.AlignHCenter | flags.AlignTop, top)
        p.drawText(r.adjusted(0, 0, 0, -m), flags.AlignHCenter | flags.AlignBottom, bottom)
        p.drawText(r.adjusted(m, 0, 0, 0), flags.AlignLeft | flags.AlignVCenter, left)
        p.drawText(r.adjusted(0, 0, -m, 0), flags.AlignRight | flags.AlignVCenter, right)
        font.setBold(False)
        p.setFont(font)
        p.setPen(QColor(220, 220, 220))
        p.drawText(r.adjusted(m, m, 0, 0), flags.AlignLeft | flags.AlignTop,
                   f"{self.plane.capitalize()}  {self.slice_index + 1}/{self.slice_count}")
        p.drawText(r.adjusted(m, 0, 0, -m), flags.AlignLeft | flags.AlignBottom,
                   f"W {self.state.window:.0f}  L {self.state.level:.0f}")

    # -- interaction -------------------------------------------------------------------------
    def mousePressEvent(self, event) -> None:  # noqa: N802
        if self.state.image is None:
            return
        pos = event.position()
        if event.button() == Qt.MouseButton.RightButton:
            self._drag = ("wl", pos.x(), pos.y(), self.state.window, self.state.level)
        elif event.button() == Qt.MouseButton.LeftButton:
            c = self.widget_to_canonical(pos)
            self.state.pointer_plane = self.plane
            if self._grab_landmark(pos, c):
                return
            hit = self.measure_at(pos) if self.state.measures else None
            self.state.select_measure(hit)
            if self.state.tool is not None:
                if hit is not None and getattr(self.state.tool, "selects_measures", False):
                    return  # the click selected a measure: no new one
                self._drag = ("tool",)
                self.state.tool.press(self.state, c)
            else:
                self._drag = ("nav",)
                self.state.set_cursor(c)

    def mouseMoveEvent(self, event) -> None:  # noqa: N802
        if self._drag is None:
            return
        pos = event.position()
        if self._drag[0] == "wl":
            _, x0, y0, w0, l0 = self._drag
            # one screen width of drag changes the window by its own size (scale-free feel)
            gain = max(w0, 50.0) / max(self.width(), 1)
            self.state.set_window_level(w0 + (pos.x() - x0) * 2 * gain, l0 + (pos.y() - y0) * gain)
        elif self._drag[0] == "tool":
            self.state.tool.move(self.state, self.widget_to_canonical(pos))
        elif self._drag[0] == "landmark":
            c = self.widget_to_canonical(pos)
            self._drag[2].move(self.state, None if c is None else c - self._drag[1])
        else:
            self.state.set_cursor(self.widget_to_canonical(pos))

    def mouseReleaseEvent(self, event) -> None:  # noqa: N802
        if self._drag is not None and self._drag[0] == "tool":
            self.state.tool.release(self.state)
        elif self._drag is not None and self._drag[0] == "landmark":
            if not self._drag[2].release(self.state):
                self.state.set_cursor(self._drag[1])  # a click on a landmark: like a click elsewhere
        self._drag = None

    def _grab_landmark(self, pos: QPointF, c) -> bool:
        """Start dragging the landmark under ``pos`` (Model step, navigate mode); False if none."""
        editor = self.state.landmark_editor
        if editor is None or self.state.tool is not None or c is None:
            return False
        index = editor.landmark_at(self, pos)
        if index is None:
            return False
        editor.press(self, index)
        self._drag = ("landmark", c, editor)
        return True

    def mouseDoubleClickEvent(self, event) -> None:  # noqa: N802
        self.maximise_requested.emit(self.plane)

    def wheelEvent(self, event) -> None:  # noqa: N802
        steps = event.angleDelta().y() / 120.0
        if not steps:
            return
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            self.set_zoom(self.zoom * (1.15 ** steps))
            self.zoom_changed.emit(self.zoom)
        else:
            self.state.step_slice(self.plane, int(np.sign(steps) * max(1, round(abs(steps)))))
        event.accept()

    def set_zoom(self, factor: float) -> None:
        """Magnify the slice by ``factor`` (1: the whole slice fits), within 0.25-16."""
        self.zoom = min(max(float(factor), 0.25), 16.0)
        self.update()

    def keyPressEvent(self, event) -> None:  # noqa: N802
        k = event.key()
        steps = {Qt.Key.Key_Up: 1, Qt.Key.Key_Down: -1, Qt.Key.Key_PageUp: 10, Qt.Key.Key_PageDown: -10}
        if k in steps:
            self.state.step_slice(self.plane, steps[k])
        else:
            super().keyPressEvent(event)
