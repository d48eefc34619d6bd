"""Ruler and angle measurements on the slice views, kept on the ViewState and undoable.

A :class:`RulerTool` measures a distance (press on the first point, drag,
release; or click twice) and an :class:`AngleTool` the angle at a vertex
(click the end of the first arm, the vertex and the end of the second arm; or
drag the first arm and click the third point). Clicked points are continuous
(sub-voxel) canonical indices turned into LPS mm through the image geometry,
so values use the real, possibly anisotropic, spacing and the direction.
A finished :class:`Measure` belongs to the plane and slice it was drawn on and
is shown only there. Adding, deleting and clearing are commands on the
session's undo stack. :func:`install` adds the View > Measure menu.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QLineF, QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QKeySequence, QPainter, QPainterPath, QPen, QUndoCommand

from .display import FIXED_AXIS

MEASURE_COLOUR = QColor(255, 214, 40)
SELECTED_COLOUR = QColor(255, 110, 60)
OUTLINE_COLOUR = QColor(0, 0, 0, 220)
TICK_PX = 5.0  # half length of the end ticks
DRAG_VOXELS = 1.0  # a press moved less than this (in-plane voxels) is a click, not a drag
#: menu shortcuts: R is the 3D view's "reset camera" key, so the ruler is M (measure)
KEYS = {"ruler": "M", "angle": "A", "delete": "Delete"}


def ruler_length_mm(points_lps) -> float:
    """Distance (mm) between the two LPS points of a ruler."""
    a, b = np.asarray(points_lps, float)[:2]
    return float(np.linalg.norm(b - a))


def angle_deg(points_lps) -> float:
    """Angle (degrees) at the vertex ``points[1]`` between the arms to ``points[0]`` and ``points[2]``.

    NaN when an arm has no length.
    """
    p0, vertex, p2 = np.asarray(points_lps, float)[:3]
    u, w = p0 - vertex, p2 - vertex
    norm = np.linalg.norm(u) * np.linalg.norm(w)
    if norm <= 1e-12:
        return float("nan")
    return float(np.degrees(np.arccos(np.clip(u @ w / norm, -1.0, 1.0))))


VALUE = {"ruler": ruler_length_mm, "angle": angle_deg}


def format_value(kind: str, value: float) -> str:
    return f"{value:.1f} mm" if kind == "ruler" else f"{value:.1f}°"


@dataclass(eq=False)  # compared by identity: the undo commands find "this" measure
class Measure:
    """A finished measurement: ``kind`` ("ruler"/"angle"), LPS points (n, 3), value, plane, slice."""

    kind: str
    points_lps: np.ndarray
    value: float
    plane: str
    slice_index: int

    @classmethod
    def from_canonical(cls, state, kind: str, points, plane: str) -> "Measure":
        """The measure through canonical (x, y, z) index ``points`` on ``plane`` of ``state``'s image."""
        lps = np.array([state.canonical_to_lps(p) for p in points], float)
        index = int(round(float(points[0][FIXED_AXIS[plane]])))
        return cls(kind, lps, VALUE[kind](lps), plane, index)

    @property
    def label(self) -> str:
        return format_value(self.kind, self.value)

    def on_view(self, view) -> bool:
        """Whether ``view`` (a SliceView) shows this measure's plane and slice."""
        return view.plane == self.plane and view.slice_index == self.slice_index

    def widget_points(self, view) -> list[QPointF]:
        return [view.canonical_to_widget(view.state.lps_to_canonical(p)) for p in self.points_lps]

    def distance_px(self, view, pos: QPointF) -> float:
        """Screen distance from ``pos`` to this measure's lines on ``view`` (inf when not shown there)."""
        if not self.on_view(view):
            return math.inf
        pts = self.widget_points(view)
        return min(_segment_distance(pos, a, b) for a, b in zip(pts, pts[1:]))

    def draw(self, painter: QPainter, view, selected: bool = False) -> None:
        """Draw on ``view`` if it shows this measure's slice."""
        if self.on_view(view):
            draw_measure(painter, self.kind, self.widget_points(view), self.label,
                         SELECTED_COLOUR if selected else MEASURE_COLOUR, 3.0 if selected else 2.0)


def _segment_distance(p: QPointF, a: QPointF, b: QPointF) -> float:
    ab, ap = b - a, p - a
    length2 = QPointF.dotProduct(ab, ab)
    t = 0.0 if length2 <= 0 else min(max(QPointF.dotProduct(ap, ab) / length2, 0.0), 1.0)
    d = ap - ab * t
    return math.hypot(d.x(), d.y())


# -- drawing ---------------------------------------------------------------------------------
def _outlined(painter: QPainter, path: QPainterPath, colour: QColor, width: float) -> None:
    """Stroke ``path`` dark and wide, then in ``colour``: readable on bright and dark tissue."""
    painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.strokePath(path, QPen(OUTLINE_COLOUR, width + 2.5, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
    painter.strokePath(path, QPen(colour, width, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))


def _tick(path: QPainterPath, end: QPointF, other: QPointF) -> None:
    """A short tick across the line ``other``-``end`` at ``end``."""
    line = QLineF(end, other)
    if line.length() <= 0:
        return
    normal = line.normalVector().unitVector()
    d = QPointF(normal.dx(), normal.dy()) * TICK_PX
    path.moveTo(end - d)
    path.lineTo(end + d)


def _label(painter: QPainter, anchor: QPointF, text: str, colour: QColor) -> None:
    """``text`` centred on ``anchor`` with a dark outline."""
    font = QFont(painter.font())
    font.setPointSizeF(max(9.0, font.pointSizeF()))
    font.setBold(True)
    metrics = QFontMetricsF(font)
    base = QPointF(anchor.x() - metrics.horizontalAdvance(text) / 2,
                   anchor.y() + (metrics.ascent() - metrics.descent()) / 2)
    path = QPainterPath()
    path.addText(base, font, text)
    painter.strokePath(path, QPen(OUTLINE_COLOUR, 3.0, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap,
                                  Qt.PenJoinStyle.RoundJoin))
    painter.fillPath(path, colour)


def draw_measure(painter: QPainter, kind: str, pts: list[QPointF], label: str | None,
                 colour: QColor = MEASURE_COLOUR, width: float = 2.0) -> None:
    """Lines through widget points ``pts`` with end ticks, an arc at an angle's vertex and ``label``."""
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    path = QPainterPath(pts[0])
    for q in pts[1:]:
        path.lineTo(q)
    if len(pts) >= 2:
        _tick(path, pts[0], pts[1])
        _tick(path, pts[-1], pts[-2])
    anchor = None
    if kind == "angle" and len(pts) == 3:
        a, v, b = pts
        arms = [QLineF(v, a), QLineF(v, b)]
        radius = min(18.0, 0.4 * min(arm.length() for arm in arms))
        if radius > 2.0:
            start = arms[0].angle()  # Qt angles: degrees counter-clockwise, screen y down
            span = (arms[1].angle() - start + 180.0) % 360.0 - 180.0
            path.arcMoveTo(QRectF(v.x() - radius, v.y() - radius, 2 * radius, 2 * radius), start)
            path.arcTo(QRectF(v.x() - radius, v.y() - radius, 2 * radius, 2 * radius), start, span)
        # the label outside the angle, opposite its bisector
        bis = arms[0].unitVector().p2() - v + arms[1].unitVector().p2() - v
        n = math.hypot(bis.x(), bis.y())
        anchor = v - (bis / n if n > 1e-6 else QPointF(0, 1)) * 16.0
    elif len(pts) >= 2:
        normal = QLineF(pts[0], pts[1]).normalVector().unitVector()
        offset = QPointF(normal.dx(), normal.dy()) * 14.0
        anchor = (pts[0] + pts[1]) / 2 + (offset if offset.y() < 0 else -offset)  # above the line
    _outlined(painter, path, colour, width)
    if label and anchor is not None:
        _label(painter, anchor, label, colour)
    painter.restore()


# -- tools -----------------------------------------------------------------------------------
class PointsTool:
    """Place ``count`` points on one slice by clicks or press-drag-release, then add a :class:`Measure`.

    The slice views call ``press``/``move``/``release`` with canonical indices
    and ``draw(painter, view)`` to show the measure being drawn.
    """

    kind, count, name = "", 0, ""

    def __init__(self, undo_stack=None) -> None:
        self.undo_stack = undo_stack
        self.points: list[np.ndarray] = []
        self._where = None  # (plane, slice index, volume) of the points being placed

    @property
    def pending(self) -> bool:
        """Some points are placed and the measure is not finished."""
        return bool(self.points)

    @property
    def selects_measures(self) -> bool:
        """A click on an existing measure selects it (instead of starting a new one)."""
        return not self.points

    def _clip(self, state, cxyz) -> np.ndarray:
        return np.clip(np.asarray(cxyz, float), -0.5, np.asarray(state.size, float) - 0.5)

    def press(self, state, cxyz) -> None:
        plane = getattr(state, "pointer_plane", None)
        if cxyz is None or state.volume is None or plane is None:
            return
        c = self._clip(state, cxyz)
        where = (plane, int(round(c[FIXED_AXIS[plane]])), state.volume)
        if self.points and (where[:2] != self._where[:2] or where[2] is not self._where[2]):
            self.points = []  # a click on another slice starts afresh
        self._where = where
        self.points.append(c)
        state.measures_changed.emit()

    def move(self, state, cxyz) -> None:
        if cxyz is None or not self.points:
            return
        c = self._clip(state, cxyz)
        if len(self.points) == 1:  # the first drag: a second point follows the mouse
            if np.linalg.norm(c - self.points[0]) < DRAG_VOXELS:
                return
            self.points.append(c)
        self.points[-1] = c
        state.measures_changed.emit()

    def release(self, state) -> None:
        if len(self.points) < self.count:
            return  # click mode: wait for the next click
        plane = self._where[0]
        measure = Measure.from_canonical(state, self.kind, self.points[: self.count], plane)
        self.points = []
        if np.isfinite(measure.value) and measure.value > 0:
            if self.undo_stack is not None:
                self.undo_stack.push(AddMeasureCommand(state, measure))
            else:
                state.add_measure(measure)
        state.measures_changed.emit()

    def cancel(self, state) -> None:
        """Drop the points placed so far."""
        if self.points:
            self.points = []
            state.measures_changed.emit()

    def draw(self, painter: QPainter, view) -> None:
        """The measure being drawn, on the slice it is drawn on."""
        if not self.points or self._where is None or (view.plane, view.slice_index) != self._where[:2]:
            return
        pts = [view.canonical_to_widget(p) for p in self.points]
        if len(pts) == 1:
            pts.append(pts[0])
        label = None
        if len(self.points) == self.count:
            lps = [view.state.canonical_to_lps(p) for p in self.points]
            label = format_value(self.kind, VALUE[self.kind](lps))
        draw_measure(painter, self.kind, pts, label)


class RulerTool(PointsTool):
    """Distance in mm between two points."""

    kind, count, name = "ruler", 2, "Ruler"


class AngleTool(PointsTool):
    """Angle in degrees at the middle of three points."""

    kind, count, name = "angle", 3, "Angle"


# -- undo ------------------------------------------------------------------------------------
class AddMeasureCommand(QUndoCommand):
    """Add ``measure`` to the view state (on push); undo removes it."""

    def __init__(self, state, measure: Measure) -> None:
        super().__init__(f"Add {measure.kind} {measure.label}")
        self.state, self.measure = state, measure

    def redo(self) -> None:
        self.state.add_measure(self.measure)

    def undo(self) -> None:
        self.state.remove_measure(self.measure)


class RemoveMeasuresCommand(QUndoCommand):
    """Remove ``measures`` (on push); undo puts them back where they were in the list."""

    def __init__(self, state, measures: list, text: str) -> None:
        super().__init__(text)
        self.state = state
        self.placed = sorted(((state.measures.index(m), m) for m in measures if m in state.measures),
                             key=lambda item: item[0])

    def redo(self) -> None:
        for _index, m in self.placed:
            self.state.remove_measure(m)

    def undo(self) -> None:
        for index, m in self.placed:
            self.state.add_measure(m, index)


def delete_selected(state, undo_stack=None) -> bool:
    """Delete the selected measure (undoably with ``undo_stack``); False when none is selected."""
    m = state.selected_measure
    if m is None or m not in state.measures:
        return False
    _remove(state, [m], f"Delete {m.kind} {m.label}", undo_stack)
    return True


def clear_measures(state, undo_stack=None) -> int:
    """Delete every measure; returns how many there were."""
    n = len(state.measures)
    if n:
        _remove(state, list(state.measures), f"Clear {n} measurement{'s' if n > 1 else ''}", undo_stack)
    return n


def _remove(state, measures, text, undo_stack) -> None:
    command = RemoveMeasuresCommand(state, measures, text)
    if undo_stack is not None:
        undo_stack.push(command)
    else:
        command.redo()


# -- menu ------------------------------------------------------------------------------------
def install(window):
    """Add View > Measure (Ruler, Angle, Delete, Clear) to ``window``; returns the menu. Idempotent.

    Esc (the window's "cancel job" shortcut) also leaves a measuring tool when no job runs.
    """
    menu = getattr(window, "_measure_menu", None)
    if menu is not None:
        return menu
    view_menu = next((a.menu() for a in window.menuBar().actions() if a.text() == "&View"), None)
    if view_menu is None:
        raise RuntimeError("the window has no &View menu to add the Measure menu to")
    state, stack = window.state, window.session.undo_stack
    menu = view_menu.addMenu("&Measure")
    menu.setObjectName("measureMenu")
    acts = {}

    def use(tool_class) -> None:
        state.tool = tool_class(stack)
        state.select_measure(None)
        window.statusBar().showMessage(
            f"{tool_class.name}: {'drag between two points' if tool_class.count == 2 else 'click three points, the vertex second'}"
            " (Esc: back to navigating).", 8000)

    for key, tool_class, text, tip in (
            ("ruler", RulerTool, "&Ruler", "Measure a distance in mm on a slice"),
            ("angle", AngleTool, "&Angle", "Measure an angle on a slice: first arm end, vertex, second arm end")):
        acts[key] = a = menu.addAction(text)
        a.setShortcut(QKeySequence(KEYS[key]))
        a.setStatusTip(tip)
        a.triggered.connect(lambda _checked=False, c=tool_class: use(c))
    menu.addSeparator()
    acts["delete"] = a = menu.addAction("&Delete selected measurement")
    a.setShortcut(QKeySequence(KEYS["delete"]))
    a.setStatusTip("Click a measurement to select it, then press Delete")
    a.triggered.connect(lambda _checked=False: delete_selected(state, stack))
    acts["clear"] = a = menu.addAction("&Clear measurements")
    a.setStatusTip("Delete every ruler and angle")
    a.triggered.connect(lambda _checked=False: clear_measures(state, stack))

    def enable() -> None:  # a disabled Delete action leaves the key to the other widgets
        acts["delete"].setEnabled(state.selected_measure is not None)
        acts["clear"].setEnabled(bool(state.measures))

    state.measures_changed.connect(enable)
    enable()
    cancel = getattr(window, "actions_by_name", {}).get("cancel_job")
    if cancel is not None:
        cancel.triggered.connect(lambda _checked=False: _escape(window))
    if hasattr(window, "actions_by_name"):
        window.actions_by_name.update({f"measure_{k}": a for k, a in acts.items()})
    window._measure_menu = menu
    return menu


def _escape(window) -> None:
    """Esc with no job running: drop a half-drawn measure and go back to navigating."""
    tool = window.state.tool
    if window.job is not None or not isinstance(tool, PointsTool):
        return
    tool.cancel(window.state)
    navigate = getattr(window, "actions_by_name", {}).get("tool_navigate")
    if navigate is not None:
        navigate.trigger()  # also updates the Segment step's tool buttons
    else:
        window.state.tool = None
