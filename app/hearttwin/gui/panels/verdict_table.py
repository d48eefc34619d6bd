"""A table of fit metrics with their pass/caution/fail verdicts in green/amber/red."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem

#: row background of each verdict
STATUS_COLOURS = {"pass": (198, 239, 206), "caution": (255, 235, 156), "fail": (255, 179, 179)}


def _bounds_text(bounds: dict) -> str:
    parts = []
    if "fail_below" in bounds or "caution_below" in bounds:
        parts.append(f"≥ {bounds.get('caution_below', bounds.get('fail_below')):g}")
    if "fail_above" in bounds or "caution_above" in bounds:
        parts.append(f"≤ {bounds.get('caution_above', bounds.get('fail_above')):g}")
    return ", ".join(parts)


class VerdictTable(QTableWidget):
    """Metric, value, verdict, target; rows with a rule are coloured by its verdict."""

    def __init__(self, parent=None) -> None:
        super().__init__(0, 4, parent)
        self.setHorizontalHeaderLabels(("Metric", "Value", "Verdict", "Target"))
        self.verticalHeader().setVisible(False)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # keys go to the panel (device moves)
        self.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.values: dict = {}
        self.statuses: dict = {}

    def fill(self, metrics: dict, verdicts: list[dict], only_rules: bool = False) -> None:
        """Fill the rows: ``metrics`` {name: value}; ``verdicts`` from ``plan.verdicts``."""
        by_rule = {v["rule"]: v for v in verdicts}
        names = [v["rule"] for v in verdicts] + ([] if only_rules else
                                                 [k for k in metrics if k not in by_rule])
        self.values = {k: metrics.get(k, by_rule.get(k, {}).get("value")) for k in names}
        self.statuses = {k: by_rule[k]["status"] for k in names if k in by_rule}
        self.setRowCount(len(names))
        for r, name in enumerate(names):
            value, v = self.values[name], by_rule.get(name)
            cells = (name.replace("_", " "), "-" if value is None else f"{value:g}",
                     v["status"] if v else "", _bounds_text(v.get("bounds", {})) if v else "")
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if v:
                    item.setBackground(QBrush(QColor(*STATUS_COLOURS[v["status"]])))
                    item.setToolTip(v.get("why", ""))
                if c == 1:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.setItem(r, c, item)

    def row_colour(self, name: str) -> tuple[int, int, int] | None:
        """The background of metric ``name``'s row (None when it has no verdict)."""
        names = list(self.values)
        if name not in names or name not in self.statuses:
            return None
        c = self.item(names.index(name), 0).background().color()
        return (c.red(), c.green(), c.blue())
