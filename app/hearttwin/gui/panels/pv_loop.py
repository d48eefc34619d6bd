"""A QPainter pressure-volume loop plot: the circulation before the device (dashed grey) and
after it (coloured), with the point of each loop at the current phase of the cycle marked.

The loops are the 0D model's ventricular volume and pressure over one beat
(``{"phase", "volume_ml", "pressure_mmhg"}``, phase 0 = end-diastole, the R
wave, as in ``simulate --json``'s ``pv_loops``); the plan's phases are the
same phases, so the slider's phase picks the point on each loop.
"""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QWidget

BEFORE, AFTER = QColor(128, 128, 128), QColor(215, 95, 20)
FRAME, GRID, TEXT, OUTLINE = QColor(90, 90, 90), QColor(232, 232, 232), QColor(60, 60, 60), QColor(20, 20, 20)
#: which curves, in drawing order of the markers (the after marker on top)
CURVES = ("before", "after")


def nice_ticks(lo: float, hi: float, count: int = 6) -> list[float]:
    """About ``count`` round tick values (steps of 1, 2, 2.5 or 5 times a power of ten) covering
    ``[lo, hi]``: the first tick is at or below ``lo``, the last at or above ``hi``."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return [0.0, 1.0]
    if hi <= lo:
        hi = lo + 1.0
    raw = (hi - lo) / max(1, count - 1)
    power = 10.0 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1.0, 2.0, 2.5, 5.0, 10.0) if m * power >= raw)
    first, last = math.floor(lo / step + 1e-9), math.ceil(hi / step - 1e-9)
    return [round(k * step, 10) for k in range(first, last + 1)]


def _loop_arrays(loop) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    if not isinstance(loop, dict):
        return None
    try:
        arrays = tuple(np.asarray(loop[k], float) for k in ("phase", "volume_ml", "pressure_mmhg"))
    except (KeyError, TypeError, ValueError):
        return None
    n = len(arrays[0])
    if n < 3 or any(a.shape != (n,) for a in arrays) or not all(np.isfinite(a).all() for a in arrays):
        return None
    return arrays


class PVLoopPlot(QWidget):
    """``set_loops(before, after)`` and ``set_phase(phase)``; ``curve_points`` and
    ``marker_points`` give the drawn positions (widget pixels)."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setMinimumHeight(240)
        self.loops: dict = {}  # "before" / "after" -> (phase, volume, pressure) arrays
        self.labels = {"before": "Before (native)", "after": "After (device)"}
        self.phase: float | None = None
        self.title = ""
        self.note = ""

    # -- data ------------------------------------------------------------------------------
    def set_loops(self, before, after, title: str = "", after_label: str = "After (device)",
                  note: str = "") -> None:
        """The loops (``{"phase", "volume_ml", "pressure_mmhg"}`` each, or None) to draw;
        ``note`` is shown instead when there is none."""
        self.loops = {k: arr for k, arr in (("before", _loop_arrays(before)), ("after", _loop_arrays(after)))
                      if arr is not None}
        self.title, self.note = title, note
        self.labels["after"] = after_label
        self.update()

    def set_phase(self, phase: float | None) -> None:
        """Mark the point of each loop at ``phase`` (0-1 of the beat; None: no mark)."""
        self.phase = None if phase is None else float(phase)
        self.update()

    def at_phase(self, which: str, phase: float) -> tuple[float, float] | None:
        """(volume mL, pressure mmHg) of loop ``which`` at ``phase`` (periodic interpolation)."""
        if which not in self.loops:
            return None
        ph, v, p = self.loops[which]
        x = float(phase) % 1.0
        return float(np.interp(x, ph, v, period=1.0)), float(np.interp(x, ph, p, period=1.0))

    # -- geometry --------------------------------------------------------------------------
    def frame(self) -> QRectF:
        """The plot area (inside the axes) in widget pixels."""
        return QRectF(58, 40, max(10, self.width() - 70), max(10, self.height() - 80))

    def ticks(self) -> tuple[list[float], list[float]]:
        """Volume and pressure tick values; the axes run from the first to the last tick."""
        if not self.loops:
            return [0.0, 50.0, 100.0, 150.0], [0.0, 50.0, 100.0, 150.0]
        v = np.concatenate([a[1] for a in self.loops.values()])
        p = np.concatenate([a[2] for a in self.loops.values()])
        pad = 0.04 * float(v.max() - v.min()) + 1.0
        return (nice_ticks(float(v.min()) - pad, float(v.max()) + pad),
                nice_ticks(min(0.0, float(p.min())), 1.04 * float(p.max()) + 1.0))

    def to_widget(self, volume: float, pressure: float) -> QPointF:
        rect, (vt, pt) = self.frame(), self.ticks()
        x = rect.left() + rect.width() * (volume - vt[0]) / (vt[-1] - vt[0])
        y = rect.bottom() - rect.height() * (pressure - pt[0]) / (pt[-1] - pt[0])
        return QPointF(x, y)

    def curve_points(self, which: str) -> list[QPointF]:
        """Widget positions of the samples of loop ``which`` (empty when not shown)."""
        if which not in self.loops:
            return []
        _, v, p = self.loops[which]
        return [self.to_widget(a, b) for a, b in zip(v, p)]

    def marker_points(self) -> dict:
        """``{which: QPointF}`` of the current phase's point on each loop."""
        if self.phase is None:
            return {}
        return {w: self.to_widget(*self.at_phase(w, self.phase)) for w in CURVES if w in self.loops}

    # -- drawing ---------------------------------------------------------------------------
    def paintEvent(self, event) -> None:  # noqa: N802 (Qt API)
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.fillRect(self.rect(), Qt.GlobalColor.white)
        rect = self.frame()
        p.setPen(TEXT)
        p.drawText(QPointF(rect.left() - 50, 14), self.title)
        if not self.loops:
            p.setPen(QPen(FRAME, 1))
            p.drawRect(rect)
            p.setPen(TEXT)
            p.drawText(rect.adjusted(8, 8, -8, -8), Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                       self.note)
            p.end()
            return
        self._axes(p, rect)
        self._legend(p, QPointF(rect.left(), 30))
        p.save()
        p.setClipRect(rect.adjusted(1, 1, -1, -1))
        for which in ("after", "before"):  # the dashed native loop on top: both visible where equal
            if which not in self.loops:
                continue
            pen = QPen(AFTER, 2.5) if which == "after" else QPen(BEFORE, 2.0, Qt.PenStyle.DashLine)
            p.setPen(pen)
            p.setBrush(Qt.BrushStyle.NoBrush)
            pts = self.curve_points(which)
            path = QPainterPath(pts[0])
            for q in pts[1:]:
                path.lineTo(q)
            p.drawPath(path)
        p.restore()
        for which, q in self.marker_points().items():  # unclipped: a dot at low pressure shows whole
            p.setPen(QPen(OUTLINE, 1.5))
            p.setBrush(AFTER if which == "after" else BEFORE)
            p.drawEllipse(q, 6, 6)
        p.end()

    def _axes(self, p: QPainter, rect: QRectF) -> None:
        vt, pt = self.ticks()
        for k, v in enumerate(vt):
            x = self.to_widget(v, pt[0]).x()
            if 0 < k < len(vt) - 1:
                p.setPen(QPen(GRID, 1))
                p.drawLine(QPointF(x, rect.top()), QPointF(x, rect.bottom()))
            p.setPen(QPen(FRAME, 1))
            p.drawLine(QPointF(x, rect.bottom()), QPointF(x, rect.bottom() + 4))
            p.setPen(TEXT)
            p.drawText(QRectF(x - 30, rect.bottom() + 5, 60, 14), Qt.AlignmentFlag.AlignCenter, f"{v:g}")
        for k, pv in enumerate(pt):
            y = self.to_widget(vt[0], pv).y()
            if 0 < k < len(pt) - 1:
                p.setPen(QPen(GRID, 1))
                p.drawLine(QPointF(rect.left(), y), QPointF(rect.right(), y))
            p.setPen(QPen(FRAME, 1))
            p.drawLine(QPointF(rect.left() - 4, y), QPointF(rect.left(), y))
            p.setPen(TEXT)
            p.drawText(QRectF(rect.left() - 40, y - 7, 34, 14), Qt.AlignmentFlag.AlignRight, f"{pv:g}")
        p.setPen(QPen(FRAME, 1))
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawRect(rect)
        p.setPen(TEXT)
        p.drawText(QRectF(rect.left(), rect.bottom() + 20, rect.width(), 14), Qt.AlignmentFlag.AlignCenter,
                   "Volume (mL)")
        p.save()
        p.translate(12, rect.center().y())
        p.rotate(-90)
        p.drawText(QRectF(-rect.height() / 2, -8, rect.height(), 14), Qt.AlignmentFlag.AlignCenter,
                   "Pressure (mmHg)")
        p.restore()

    def _legend(self, p: QPainter, at: QPointF) -> None:
        x = at.x()
        for which in CURVES:
            if which not in self.loops:
                continue
            pen = QPen(AFTER, 2.5) if which == "after" else QPen(BEFORE, 2.0, Qt.PenStyle.DashLine)
            p.setPen(pen)
            p.drawLine(QPointF(x, at.y() - 4), QPointF(x + 22, at.y() - 4))
            p.setPen(TEXT)
            text = self.labels[which]
            p.drawText(QPointF(x + 26, at.y()), text)
            x += 26 + p.fontMetrics().horizontalAdvance(text) + 14
