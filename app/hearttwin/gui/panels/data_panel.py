"""The Data step: open a folder or file, see its series, load one."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QAbstractItemView, QHBoxLayout, QHeaderView, QLabel, QPushButton,
                               QSpinBox, QTableWidget, QTableWidgetItem)

from .base import WorkflowPanel

COLUMNS = ("", "Series", "Description", "Modality", "Slices", "Size", "Spacing (mm)", "Phases", "Warnings")


class DataPanel(WorkflowPanel):
    """Series table of the opened path and the Load button."""

    key, title = "data", "Data"
    hint = "Open a DICOM folder or a NRRD/NIfTI/MHA file (or drop it on the window), choose a series, load it."

    def __init__(self, window, parent=None) -> None:
        super().__init__(window, parent)
        buttons = QHBoxLayout()
        self.open_folder_button = QPushButton("Open folder…")
        self.open_folder_button.setToolTip("Open a DICOM folder (Ctrl+O)")
        self.open_file_button = QPushButton("Open file…")
        self.open_file_button.setToolTip("Open a DICOM, NRRD, NIfTI or MHA file (Ctrl+Shift+O)")
        buttons.addWidget(self.open_folder_button)
        buttons.addWidget(self.open_file_button)
        self.layout_.addLayout(buttons)
        self.path_label = QLabel("Nothing opened yet.")
        self.path_label.setWordWrap(True)
        self.layout_.addWidget(self.path_label)

        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setObjectName("seriesTable")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.setToolTip("Series found; * marks the one HeartTwin would use. Double-click to load.")
        self.layout_.addWidget(self.table, 1)

        row = QHBoxLayout()
        row.addWidget(QLabel("Phase:"))
        self.phase = QSpinBox()
        self.phase.setToolTip("Cardiac phase to load (multi-phase series)")
        self.phase.setEnabled(False)
        row.addWidget(self.phase)
        self.load_button = QPushButton("Load series")
        self.load_button.setObjectName("loadButton")
        self.load_button.setToolTip("Load the selected series (Enter)")
        self.load_button.setEnabled(False)
        row.addWidget(self.load_button, 1)
        self.layout_.addLayout(row)
        self.notes = QLabel()
        self.notes.setWordWrap(True)
        self.layout_.addWidget(self.notes)
        self.loaded_label = QLabel()
        self.loaded_label.setObjectName("loadedLabel")
        self.loaded_label.setWordWrap(True)
        self.layout_.addWidget(self.loaded_label)

        self.open_folder_button.clicked.connect(window.open_folder_dialog)
        self.open_file_button.clicked.connect(window.open_file_dialog)
        self.load_button.clicked.connect(self.load_selected)
        self.table.itemSelectionChanged.connect(self._on_selection)
        self.table.itemDoubleClicked.connect(lambda _item: self.load_selected())
        window.session.scan_changed.connect(self.show_scan)
        window.session.image_changed.connect(self._on_image)

    # -- scan ------------------------------------------------------------------------------
    def show_scan(self) -> None:
        session = self.window.session
        result = session.scan
        self.path_label.setText(f"Opened: {session.source}")
        self.table.setRowCount(0)
        for info in result.series:
            r = self.table.rowCount()
            self.table.insertRow(r)
            warn = "; ".join(info.warnings) if info.warnings else ""
            if info.error is not None:
                warn = (f"Cannot load: {info.error}. " + warn).strip()
            values = ("*" if info.selected else "", info.label, info.description, info.modality or "-",
                      str(info.slices), " x ".join(str(v) for v in info.size),
                      " x ".join(f"{v:.2f}" for v in info.spacing_mm), str(info.phases), warn)
            for c, text in enumerate(values):
                item = QTableWidgetItem(text)
                item.setToolTip(warn if c == len(values) - 1 and warn else (info.reason or text))
                if not info.loadable or info.is_localizer:
                    item.setForeground(Qt.GlobalColor.gray)
                self.table.setItem(r, c, item)
        skipped = "; ".join(f"{s['files']} {s['what']} ({s['why']})" for s in result.skipped)
        self.notes.setText(f"Skipped: {skipped}" if skipped else "")
        if result.selected_index is not None:
            self.table.selectRow(result.selected_index)
        self._on_selection()

    def selected_series(self):
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        result = self.window.session.scan
        if not rows or result is None:
            return None
        return result.series[rows[0].row()]

    def _on_selection(self) -> None:
        info = self.selected_series()
        ok = info is not None and info.loadable and not info.is_localizer
        self.load_button.setEnabled(ok)
        phases = info.phases if info is not None else 1
        self.phase.setRange(0, max(phases - 1, 0))
        self.phase.setEnabled(phases > 1)

    def load_selected(self) -> None:
        info = self.selected_series()
        if info is not None and info.loadable and not info.is_localizer:
            self.window.load_series(info, self.phase.value())

    def _on_image(self) -> None:
        vol = self.window.session.volume
        if vol is None:
            self.loaded_label.setText("")
            return
        nx, ny, nz = vol.size
        desc = vol.meta.get("description") or vol.meta.get("series_description") or ""
        self.loaded_label.setText(
            f"Loaded {desc}: {nx} x {ny} x {nz} voxels, "
            f"{' x '.join(f'{s:.2f}' for s in vol.spacing)} mm, HU {int(vol.array.min())} to {int(vol.array.max())}")
