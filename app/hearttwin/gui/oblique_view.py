"""The double-oblique view: the CT resliced on a freely turned plane, as TAVI planners use it.

The plane (:class:`hearttwin.core.imaging.reslice.Plane`) snaps to the
annulus plane, to the placed device's axis (the plane containing it, outflow
up) or to a point on the aortic centreline (perpendicular to it), and is then
turned by hand. Mouse on the image: right drag tilts (horizontal motion turns
about the screen's vertical axis, vertical motion about its horizontal axis),
Shift+right drag spins the image in its plane, middle drag pans, wheel moves
the plane along its normal, Ctrl+wheel zooms, left click moves the linked
crosshair, double-click returns to the four views. Keys: arrows tilt by 2°
(Shift+Left/Right spins), PageUp/PageDown move the plane, Home resets to an
axial plane through the crosshair.

A 256-sample reslice takes ~15-25 ms (trilinear CT plus nearest labels on a
256³ volume, idle machine), so it runs on the GUI thread when the view paints
(paints coalesce mouse moves); while dragging it samples half as finely.
"""

from __future__ import annotations

import time

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QAction, QColor, QImage, QKeySequence, QPainter, QPen
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QSlider, QToolButton, QVBoxLayout, QWidget

from ..core.errors import InputError
from ..core.imaging import reslice as rs
from . import display
from .view_state import ViewState

#: samples across the shorter side of the view (the longer side gets proportionally more);
#: half as many while a drag turns or pans the plane, so it follows the mouse on a busy machine
SAMPLES, DRAG_SAMPLES = 256, 128
#: field of view (mm across the shorter side) a snap zooms in to, at most
SNAP_FOV_MM = 90.0
#: degrees per key press and per pixel of right drag
KEY_DEGREES, DRAG_DEGREES = 2.0, 0.4
#: the View-menu action's shortcut (Ctrl+Shift+O is already "Open file…")
SHORTCUT = "Alt+5"


class _Canvas(QWidget):
    """The image area; drawing and input are the :class:`ObliqueView`'s."""

    def __init__(self, view: "ObliqueView") -> None:
        super().__init__(view)
        self.view = view
        self.setObjectName("obliqueCanvas")
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt API)
        self.view.paint_canvas()

    def mousePressEvent(self, event) -> None:  # noqa: N802
        self.view.mouse_press(event)

    def mouseMoveEvent(self, event) -> None:  # noqa: N802
        self.view.mouse_move(event)

    def mouseReleaseEvent(self, event) -> None:  # noqa: N802
        self.view.mouse_release(event)

    def mouseDoubleClickEvent(self, event) -> None:  # noqa: N802
        self.view.maximise_requested.emit("oblique")

    def wheelEvent(self, event) -> None:  # noqa: N802
        self.view.wheel(event)
        event.accept()

    def keyPressEvent(self, event) -> None:  # noqa: N802
        if not self.view.key_press(event):
            super().keyPressEvent(event)


class ObliqueView(QWidget):
    """A plane through the CT at any angle, with snaps for the aortic root."""

    maximise_requested = Signal(str)

    def __init__(self, state: ViewState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("obliqueView")
        self.state, self.session = state, None
        self.plane: rs.Plane | None = None
        self.fov_mm, self.mode, self.message = 150.0, "axial", ""
        #: milliseconds the last reslice (CT + labels + colours) took
        self.last_ms = 0.0
        self._volume, self._snap_centre, self._qimage, self._drag = None, None, None, None
        bar = QHBoxLayout()
        bar.setContentsMargins(2, 2, 2, 0)
        self.annulus_button = self._button("Annulus", "Snap to the annulus plane (measured in Model & measure)",
                                           self.snap_annulus)
        self.device_button = self._button("Device axis", "Snap to the plane containing the placed device's "
                                          "axis, outflow up", self.snap_device)
        self.reset_button = self._button("Axial", "Reset to an axial plane through the crosshair (Home)",
                                         self.reset_plane)
        self.centreline_slider = QSlider(Qt.Orientation.Horizontal)
        self.centreline_slider.setObjectName("centrelineSlider")
        self.centreline_slider.setRange(0, 100)
        self.centreline_slider.setToolTip("Perpendicular to the aortic centreline, from the annulus (0%) on")
        self.centreline_slider.valueChanged.connect(lambda value: self.snap_centreline(value / 100.0))
        for w in (self.annulus_button, self.device_button, self.reset_button):
            bar.addWidget(w)
        bar.addWidget(QLabel(" Centreline"))
        bar.addWidget(self.centreline_slider, 1)
        self.canvas = _Canvas(self)
        self.canvas.setToolTip("Oblique view: right-drag to tilt, Shift+right-drag to spin, wheel to move "
                               "the plane, Ctrl+wheel to zoom, middle-drag to pan, double-click for four views")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addLayout(bar)
        layout.addWidget(self.canvas, 1)
        state.data_changed.connect(self._on_data)
        state.display_changed.connect(self.refresh)
        self.update_actions()

    def _button(self, text: str, tip: str, slot) -> QToolButton:
        b = QToolButton()
        b.setText(text)
        b.setToolTip(tip)
        b.clicked.connect(lambda _checked=False: slot())
        return b

    # -- the plane ---------------------------------------------------------------------------
    def set_session(self, session) -> None:
        """Read measurements and the placed device from ``session`` (enables the snaps)."""
        self.session = session
        for signal in (session.measurements_changed, session.device_changed, session.case_replaced):
            signal.connect(self.update_actions)
        self.update_actions()

    def _measurements(self) -> dict:
        case = None if self.session is None else self.session.case
        return dict(case.measurements or {}) if case is not None else {}

    def _pose(self):
        case = None if self.session is None else self.session.case
        return np.asarray(case.devices[-1]["pose_lps"], float) if case is not None and case.devices else None

    def update_actions(self) -> None:
        m = self._measurements()
        self.annulus_button.setEnabled("centre_lps" in (m.get("annulus") or {}))
        self.device_button.setEnabled(self._pose() is not None)
        self.centreline_slider.setEnabled(len((m.get("aortic_centreline") or {}).get("points_lps") or []) >= 2)

    @property
    def step_mm(self) -> float:
        """How far one wheel notch or PageUp moves the plane: the finest voxel spacing."""
        return float(min(self.state.volume.spacing)) if self.state.volume is not None else 1.0

    def set_plane(self, plane: rs.Plane, mode: str | None = None, fov_mm: float | None = None) -> None:
        """Show ``plane``; a ``mode`` names a snap (and makes its centre the offset's zero)."""
        self.plane = plane
        if mode is not None:
            self.mode, self._snap_centre = mode, plane.centre.copy()
        if fov_mm is not None:
            self.fov_mm = float(fov_mm)
        self.message = ""
        self.refresh()

    def _snap(self, make, mode: str) -> bool:
        if self.state.volume is None:
            return False
        try:
            plane = make()
        except InputError as err:
            self.message = str(err)
            self.canvas.update()
            return False
        self.set_plane(plane, mode, min(self.fov_mm, SNAP_FOV_MM))
        self.state.set_cursor(self.state.lps_to_canonical(plane.centre))  # the other views follow
        return True

    def snap_annulus(self) -> bool:
        return self._snap(lambda: rs.plane_from_annulus(self._measurements()), "annulus plane")

    def snap_device(self) -> bool:
        def make():
            pose = self._pose()
            if pose is None:
                raise InputError("No device is placed: place one in the Device step first.")
            centre = (self._measurements().get("annulus") or {}).get("centre_lps")
            return rs.plane_from_pose(pose, centre=centre)
        return self._snap(make, "device axis")

    def snap_centreline(self, t: float) -> bool:
        hint = None if self.plane is None else self.plane.u
        return self._snap(lambda: rs.plane_on_centreline(self._measurements(), t, u_hint=hint),
                          f"centreline {100 * t:.0f}%")

    def reset_plane(self) -> None:
        """An axial plane through the crosshair showing the whole volume."""
        vol = self.state.volume
        if vol is not None:
            extent = np.asarray(vol.size) * np.asarray(vol.spacing)
            self.set_plane(rs.Plane.axial(self.state.cursor_lps()), "axial", float(extent.max()))

    def turn(self, axis: str, degrees: float) -> None:
        """Rotate the plane about its ``u`` (screen horizontal), ``v`` (vertical) or normal axis."""
        if self.plane is not None:
            self.set_plane(self.plane.rotated(axis, degrees))

    def move(self, mm: float) -> None:
        """Move the plane ``mm`` along its normal."""
        if self.plane is not None:
            self.set_plane(self.plane.moved(mm))

    def offset_mm(self) -> float:
        """Signed distance of the plane centre from the last snap's centre, along the normal."""
        return 0.0 if self.plane is None or self._snap_centre is None else \
            float((self.plane.centre - self._snap_centre) @ self.plane.normal)

    def _on_data(self) -> None:
        if self.state.volume is not self._volume:  # a new CT (not a label edit): start afresh
            self._volume, self.plane = self.state.volume, None
            self.reset_plane()
        self.refresh()

    # -- drawing ----------------------------------------------------------------------------
    def refresh(self) -> None:
        self._qimage = None
        self.canvas.update()

    def pixels_per_mm(self) -> float:
        return min(self.canvas.width(), self.canvas.height()) / self.fov_mm

    def canvas_to_lps(self, pos: QPointF) -> np.ndarray:
        """A canvas position -> the LPS point of the plane under it."""
        s = self.pixels_per_mm()
        return self.plane.to_lps((pos.x() - self.canvas.width() / 2) / s, (pos.y() - self.canvas.height() / 2) / s)

    def lps_to_canvas(self, lps) -> tuple[QPointF, float]:
        """An LPS point -> (its canvas position on the plane, its distance from the plane in mm)."""
        a, b, d = self.plane.to_plane(lps)
        s = self.pixels_per_mm()
        return QPointF(self.canvas.width() / 2 + a * s, self.canvas.height() / 2 + b * s), float(d)

    def resliced_rgb(self) -> np.ndarray | None:
        """The plane as displayed (rows, cols, 3) RGB at the sampling resolution."""
        st = self.state
        if st.volume is None or self.plane is None:
            return None
        start = time.perf_counter()
        w, h = max(self.canvas.width(), 1), max(self.canvas.height(), 1)
        moving = self._drag is not None and self._drag[0] != "cursor"
        spacing = self.fov_mm / (DRAG_SAMPLES if moving else SAMPLES)
        size = (self.fov_mm * w / min(w, h), self.fov_mm * h / min(w, h))
        grey = display.window_to_grey(rs.reslice(st.volume, self.plane, size, spacing), st.window, st.level)
        alpha = st.alpha_table()
        labels = None if st.labels is None or alpha is None else rs.reslice_labels(st.labels, self.plane, size,
                                                                                    spacing)
        rgb = np.ascontiguousarray(display.compose_rgb(grey, labels, display.colour_table(st.colours), alpha))
        self.last_ms = 1000.0 * (time.perf_counter() - start)
        return rgb

    def paint_canvas(self) -> None:
        p = QPainter(self.canvas)
        p.fillRect(self.canvas.rect(), Qt.GlobalColor.black)
        if self._qimage is None:
            rgb = self.resliced_rgb()
            if rgb is not None:
                h, w, _ = rgb.shape
                self._qimage = QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()
        if self._qimage is None:
            p.setPen(QColor(150, 150, 150))
            p.drawText(self.canvas.rect(), Qt.AlignmentFlag.AlignCenter, "Double-oblique\n(open a CT)")
            p.end()
            return
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        p.drawImage(QRectF(self.canvas.rect()), self._qimage)
        self._draw_points(p)
        self._draw_text(p)
        p.end()

    def _draw_points(self, p: QPainter) -> None:
        """The crosshair and measured landmarks lying within 2 mm of the plane."""
        point, dist = self.lps_to_canvas(self.state.cursor_lps())
        if abs(dist) <= 2.0:
            p.setPen(QPen(QColor(255, 200, 60), 1))
            p.drawLine(point + QPointF(-8, 0), point + QPointF(8, 0))
            p.drawLine(point + QPointF(0, -8), point + QPointF(0, 8))
        for name, lps, rgb in self.state.landmarks:
            q, dist = self.lps_to_canvas(lps)
            if abs(dist) <= 2.0:
                p.setPen(QPen(QColor(*rgb), 2))
                p.drawRect(QRectF(q.x() - 4, q.y() - 4, 8, 8))
                p.drawText(q + QPointF(6, -6), name)

    def _draw_text(self, p: QPainter) -> None:
        r, m, flags, pl = self.canvas.rect(), 6, Qt.AlignmentFlag, self.plane
        font = p.font()
        font.setBold(True)
        p.setFont(font)
        p.setPen(QColor(255, 230, 120))
        for text, align, pad in ((rs.direction_letters(-pl.v), flags.AlignHCenter | flags.AlignTop, (0, m, 0, 0)),
                                 (rs.direction_letters(pl.v), flags.AlignHCenter | flags.AlignBottom, (0, 0, 0, -m)),
                                 (rs.direction_letters(-pl.u), flags.AlignLeft | flags.AlignVCenter, (m, 0, 0, 0)),
                                 (rs.direction_letters(pl.u), flags.AlignRight | flags.AlignVCenter, (0, 0, -m, 0))):
            p.drawText(r.adjusted(*pad), align, text)
        font.setBold(False)
        p.setFont(font)
        p.setPen(QColor(220, 220, 220))
        tilt = float(np.degrees(np.arccos(min(1.0, abs(pl.normal[2])))))
        p.drawText(r.adjusted(m, m, 0, 0), flags.AlignLeft | flags.AlignTop,
                   f"Oblique: {self.mode}  {self.offset_mm():+.1f} mm\n"
                   f"normal {rs.direction_letters(pl.normal, 0.1) or '-'}, {tilt:.0f}° from axial")
        p.drawText(r.adjusted(m, 0, 0, -m), flags.AlignLeft | flags.AlignBottom,
                   f"W {self.state.window:.0f}  L {self.state.level:.0f}")
        s = self.pixels_per_mm()  # scale bar: the round length nearest a fifth of the width
        length = min((1, 2, 5, 10, 20, 50, 100, 200), key=lambda mm: abs(mm * s - r.width() / 5))
        x1, y = r.right() - 2 * m, r.bottom() - 3 * m
        p.setPen(QPen(QColor(255, 255, 255), 2))
        p.drawLine(QPointF(x1 - length * s, y), QPointF(x1, y))
        p.drawText(QRectF(x1 - length * s - 40, y - 22, length * s + 40, 18),
                   flags.AlignRight | flags.AlignBottom, f"{length} mm")
        if self.message:
            p.setPen(QColor(255, 150, 90))
            p.drawText(r.adjusted(m, 0, -m, -4 * m), flags.AlignHCenter | flags.AlignBottom | Qt.TextFlag.TextWordWrap,
                       self.message)

    # -- interaction ------------------------------------------------------------------------
    def mouse_press(self, event) -> None:
        button, b = event.button(), Qt.MouseButton
        kind = {b.LeftButton: "cursor", b.RightButton: "turn", b.MiddleButton: "pan"}.get(button)
        if kind is not None and self.plane is not None:
            self._drag = (kind, event.position())
            if kind == "cursor":
                self.state.set_cursor(self.state.lps_to_canonical(self.canvas_to_lps(event.position())))

    def mouse_move(self, event) -> None:
        if self._drag is None or self.plane is None:
            return
        kind, last = self._drag
        pos = event.position()
        dx, dy = pos.x() - last.x(), pos.y() - last.y()
        self._drag = (kind, pos)
        if kind == "cursor":
            self.state.set_cursor(self.state.lps_to_canonical(self.canvas_to_lps(pos)))
        elif kind == "pan":  # the anatomy follows the mouse
            s = self.pixels_per_mm()
            self.set_plane(self.plane.panned(-dx / s, -dy / s))
        elif event.modifiers() & Qt.KeyboardModifier.ShiftModifier:
            self.turn("normal", DRAG_DEGREES * dx)
        else:
            self.set_plane(self.plane.rotated("v", DRAG_DEGREES * dx).rotated("u", -DRAG_DEGREES * dy))

    def mouse_release(self, event) -> None:
        moved = self._drag is not None and self._drag[0] != "cursor"
        self._drag = None
        if moved:  # back to full resolution
            self.refresh()

    def wheel(self, event) -> None:
        steps = event.angleDelta().y() / 120.0
        if steps and self.plane is not None:
            if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
                self.fov_mm = min(max(self.fov_mm / 1.15 ** steps, 10.0), 600.0)
                self.refresh()
            else:
                self.move(steps * self.step_mm)

    def key_press(self, event) -> bool:
        """Handle a key on the canvas; False if it is not one of the view's keys."""
        k, key, shift = event.key(), Qt.Key, bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier)
        turns = {key.Key_Left: ("normal" if shift else "v", -KEY_DEGREES),
                 key.Key_Right: ("normal" if shift else "v", KEY_DEGREES),
                 key.Key_Up: ("u", KEY_DEGREES), key.Key_Down: ("u", -KEY_DEGREES)}
        if k in turns:
            self.turn(*turns[k])
        elif k in (key.Key_PageUp, key.Key_PageDown):
            self.move(self.step_mm * (1 if k == key.Key_PageUp else -1))
        elif k == key.Key_Home:
            self.reset_plane()
        else:
            return False
        return True


def install(window) -> QAction:
    """Add "Double-oblique view" to the window's View menu (once) and give the view the session."""
    action = getattr(window, "_oblique_action", None)
    if action is not None:
        return action
    menus = [a.menu() for a in window.menuBar().actions() if a.text() == "&View" and a.menu() is not None]
    action = QAction("Double-oblique view", window)
    action.setObjectName("obliqueViewAction")
    action.setShortcut(QKeySequence(SHORTCUT))
    action.setStatusTip("Show the double-oblique view large: snap to the annulus, the device axis or the "
                        "aortic centreline and turn the plane freely")
    action.triggered.connect(lambda _checked=False: window.views.set_layout("oblique"))
    (menus[0] if menus else window).addAction(action)
    window.views.oblique.set_session(window.session)
    getattr(window, "actions_by_name", {})["layout_oblique"] = action
    window._oblique_action = action
    return action
