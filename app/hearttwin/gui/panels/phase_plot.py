"""A small QPainter line plot of one metric over the cardiac phases, and the phase scrubber;
both mark the worst phase in red."""

from __future__ import annotations

import math

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import QSlider, QStyle, QStyleOptionSlider, QWidget

LINE, POINT, WORST, CURRENT = QColor(40, 110, 200), QColor(40, 110, 200), QColor(220, 40, 40), QColor(30, 30, 30)


class PhasePlot(QWidget):
    """``set_data(phases, values, worst_index)``; ``points()`` gives the drawn positions."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setMinimumHeight(150)
        self.phases: list[float] = []
        self.values: list = []
        self.worst: int | None = None
        self.current: int | None = None
        self.title = ""

    def set_data(self, phases, values, worst: int | None = None, title: str = "") -> None:
        self.phases = [float(p) for p in phases]
        self.values = [None if v is None or not math.isfinite(float(v)) else float(v) for v in values]
        self.worst, self.title = worst, title
        self.update()

    def set_current(self, index: int | None) -> None:
        self.current = index
        self.update()

    def _frame(self) -> QRectF:
        return QRectF(44, 18, max(10, self.width() - 56), max(10, self.height() - 40))

    def _range(self):
        vals = [v for v in self.values if v is not None]
        lo, hi = (min(vals), max(vals)) if vals else (0.0, 1.0)
        pad = 0.1 * (hi - lo) or max(abs(hi) * 0.05, 0.5)
        return lo - pad, hi + pad

    def points(self) -> list[QPointF | None]:
        """Widget position of each phase's point (None where the value is missing)."""
        rect, (lo, hi) = self._frame(), self._range()
        out = []
        for p, v in zip(self.phases, self.values):
            if v is None:
                out.append(None)
                continue
            x = rect.left() + rect.width() * p
            y = rect.bottom() - rect.height() * (v - lo) / (hi - lo)
            out.append(QPointF(x, y))
        return out

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt API)
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.fillRect(self.rect(), Qt.GlobalColor.white)
        rect, (lo, hi) = self._frame(), self._range()
        p.setPen(QPen(QColor(160, 160, 160), 1))
        p.drawRect(rect)
        p.setPen(QColor(60, 60, 60))
        p.drawText(QPointF(rect.left(), 13), self.title)
        p.drawText(QRectF(0, rect.top() - 6, 40, 14), Qt.AlignmentFlag.AlignRight, f"{hi:.3g}")
        p.drawText(QRectF(0, rect.bottom() - 8, 40, 14), Qt.AlignmentFlag.AlignRight, f"{lo:.3g}")
        p.drawText(QRectF(rect.left(), rect.bottom() + 4, rect.width(), 14), Qt.AlignmentFlag.AlignCenter,
                   "phase of the cycle (0 = CT phase)")
        pts = self.points()
        p.setPen(QPen(LINE, 2))
        prev = None
        for q in pts:
            if q is not None and prev is not None:
                p.drawLine(prev, q)
            prev = q
        for n, q in enumerate(pts):
            if q is None:
                continue
            colour = WORST if n == self.worst else POINT
            p.setPen(QPen(colour, 1))
            p.setBrush(colour)
            radius = 6 if n == self.worst else 3.5
            p.drawEllipse(q, radius, radius)
            if n == self.current:
                p.setBrush(Qt.BrushStyle.NoBrush)
                p.setPen(QPen(CURRENT, 1.5))
                p.drawEllipse(q, 9, 9)
        p.end()


class PhaseScrubber(QSlider):
    """A horizontal slider over the phases with the worst phase marked in red below the groove."""

    def __init__(self, parent=None) -> None:
        super().__init__(Qt.Orientation.Horizontal, parent)
        self.worst: int | None = None
        self.setTickPosition(QSlider.TickPosition.TicksAbove)
        self.setTickInterval(1)
        self.setPageStep(1)
        self.setMinimumHeight(30)

    def set_worst(self, index: int | None) -> None:
        self.worst = index
        self.update()

    def value_x(self, value: int) -> float:
        """Widget x of the handle's centre at ``value``."""
        opt = QStyleOptionSlider()
        self.initStyleOption(opt)
        style = self.style()
        groove = style.subControlRect(QStyle.ComplexControl.CC_Slider, opt, QStyle.SubControl.SC_SliderGroove, self)
        handle = style.subControlRect(QStyle.ComplexControl.CC_Slider, opt, QStyle.SubControl.SC_SliderHandle, self)
        span = groove.width() - handle.width()
        return groove.x() + handle.width() / 2 + QStyle.sliderPositionFromValue(
            self.minimum(), self.maximum(), int(value), span)

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt API)
        super().paintEvent(event)
        if self.worst is None or not self.minimum() <= self.worst <= self.maximum():
            return
        p = QPainter(self)
        x = self.value_x(self.worst)
        p.fillRect(QRectF(x - 2, self.height() - 7, 5, 7), WORST)  # below the handle, never hidden by it
        p.end()
