"""The list of heart structures: visibility, colour, name and volume."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem


class StructureTable(QTableWidget):
    """One row per structure; the checkbox toggles it in the overlay and the 3D view."""

    visibility_changed = Signal(int, bool)

    def __init__(self, structures, parent=None) -> None:
        super().__init__(len(structures), 3, parent)
        self.setObjectName("structureTable")
        self.setHorizontalHeaderLabels(("Structure", "Key", "Volume (mL)"))
        self.verticalHeader().setVisible(False)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.setToolTip("Tick to show a structure in the overlay and the 3D view")
        self.labels = [s.label for s in structures]
        for row, s in enumerate(structures):
            name = QTableWidgetItem(s.name)
            name.setFlags(name.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            name.setCheckState(Qt.CheckState.Checked)
            name.setData(Qt.ItemDataRole.DecorationRole, QColor(*s.colour))
            self.setItem(row, 0, name)
            self.setItem(row, 1, QTableWidgetItem(s.key))
            vol = QTableWidgetItem("-")
            vol.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.setItem(row, 2, vol)
        self.itemChanged.connect(self._on_item)
        self.resizeRowsToContents()
        # exactly as tall as its rows: the editing tools below stay in view
        height = self.horizontalHeader().sizeHint().height() + sum(self.rowHeight(r) for r in range(self.rowCount()))
        self.setFixedHeight(height + 2 * self.frameWidth())
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)

    def set_volumes(self, volumes_ml: dict[int, float]) -> None:
        for row, label in enumerate(self.labels):
            ml = volumes_ml.get(label)
            self.item(row, 2).setText("-" if not ml else f"{ml:.1f}")

    def volume_text(self, label: int) -> str:
        return self.item(self.labels.index(label), 2).text()

    def set_checked(self, label: int, visible: bool) -> None:
        state = Qt.CheckState.Checked if visible else Qt.CheckState.Unchecked
        self.item(self.labels.index(label), 0).setCheckState(state)

    def _on_item(self, item: QTableWidgetItem) -> None:
        if item.column() == 0:
            self.visibility_changed.emit(self.labels[item.row()], item.checkState() == Qt.CheckState.Checked)
