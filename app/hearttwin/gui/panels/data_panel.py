"""The Data step: open a folder or file, see its series, load one.

Also: cine playback of a multi-phase series (:mod:`..cine`), the DICOM header
of the selected series (:mod:`..header_dialog`) and its anonymised export
(:mod:`hearttwin.core.imaging.anonymise`).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QAbstractItemView, QFileDialog, QGroupBox, QGridLayout, QHBoxLayout, QHeaderView,
                               QLabel, QMessageBox, QPushButton, QSlider, QSpinBox, QTableWidget,
                               QTableWidgetItem)

from ...core.errors import InputError
from .. import cine, error_dialog
from ..deferred import Deferred
from .base import WorkflowPanel

ANONYMISE_FILES = Deferred("hearttwin.core.imaging.anonymise:anonymise_files")

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
        # no stretch: the panel stack is as tall as its tallest step, and the buttons below
        # the table should stay in sight rather than be pushed under the fold by empty rows
        self.table.setMinimumHeight(120)
        self.layout_.addWidget(self.table)

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
        tools = QHBoxLayout()
        self.header_button = QPushButton("DICOM header…")
        self.header_button.setToolTip("Show the DICOM header of the selected series' first image (Ctrl+I)")
        self.export_button = QPushButton("Export anonymised…")
        self.export_button.setToolTip("Write a de-identified DICOM copy of the selected series to a folder")
        for b in (self.header_button, self.export_button):
            b.setEnabled(False)
            tools.addWidget(b)
        self.layout_.addLayout(tools)
        self.player = cine.CinePlayer(window)
        self._build_cine()
        self.notes = QLabel()
        self.notes.setWordWrap(True)
        self.layout_.addWidget(self.notes)
        self.loaded_label = QLabel()
        self.loaded_label.setObjectName("loadedLabel")
        self.loaded_label.setWordWrap(True)
        self.layout_.addWidget(self.loaded_label)
        self.layout_.addStretch(1)

        self.open_folder_button.clicked.connect(window.open_folder_dialog)
        self.open_file_button.clicked.connect(window.open_file_dialog)
        self.load_button.clicked.connect(self.load_selected)
        self.table.itemSelectionChanged.connect(self._on_selection)
        self.table.itemDoubleClicked.connect(lambda _item: self.load_selected())
        self.header_button.clicked.connect(self.show_header)
        self.export_button.clicked.connect(self.export_dialog)
        self.header_dialog = None
        self.last_export: Path | None = None
        self.export_warning: QMessageBox | None = None
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
        dicom = ok and info.group is not None and info.path is None
        self.header_button.setEnabled(info is not None and info.group is not None and info.path is None)
        self.export_button.setEnabled(dicom)
        self._update_cine()

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

    def deactivated(self) -> None:
        """Leaving the Data step: stop the cine and show the case image (the other steps work on it)."""
        self.player.pause()
        self.player.restore()

    # -- cine ------------------------------------------------------------------------------
    def _build_cine(self) -> None:
        box = QGroupBox("Cine (multi-phase series)")
        box.setObjectName("cineBox")
        grid = QGridLayout(box)
        self.cine_load_button = QPushButton("Load all phases")
        self.cine_load_button.setToolTip("Load every cardiac phase of the selected series to play them "
                                         f"(kept in memory, at most {cine._mb(cine.memory_cap())})")
        self.play_button = QPushButton("Play")
        self.play_button.setObjectName("cinePlay")
        self.play_button.setCheckable(True)
        self.play_button.setToolTip("Play or pause the phases in a loop")
        self.fps = QSpinBox()
        self.fps.setRange(1, cine.MAX_FPS)
        self.fps.setValue(cine.DEFAULT_FPS)
        self.fps.setSuffix(" fps")
        self.fps.setToolTip("Playback speed, frames (phases) per second")
        self.cine_slider = QSlider(Qt.Orientation.Horizontal)
        self.cine_slider.setObjectName("cineSlider")
        self.cine_slider.setToolTip("Cardiac phase shown in the views (the case image does not change)")
        self.cine_label = QLabel("")
        self.use_phase_button = QPushButton("Use this phase")
        self.use_phase_button.setToolTip("Load the shown phase as the case image")
        grid.addWidget(self.cine_load_button, 0, 0)
        grid.addWidget(self.play_button, 0, 1)
        grid.addWidget(self.fps, 0, 2)
        grid.addWidget(self.cine_slider, 1, 0, 1, 3)
        grid.addWidget(self.cine_label, 2, 0, 1, 2)
        grid.addWidget(self.use_phase_button, 2, 2)
        self.layout_.addWidget(box)
        self.cine_box = box
        self.cine_load_button.clicked.connect(self.load_cine)
        self.play_button.toggled.connect(lambda on: self.player.play() if on else self.player.pause())
        self.fps.valueChanged.connect(self.player.set_fps)
        self.cine_slider.valueChanged.connect(self._on_slider)
        self.use_phase_button.clicked.connect(self.player.use_shown_phase)
        self.player.loaded.connect(self._update_cine)
        self.player.phase_changed.connect(self._on_phase)
        self.player.playing_changed.connect(self._on_playing)
        self._update_cine()

    def load_cine(self):
        info = self.selected_series()
        if info is None or not info.loadable or info.phases < 2:
            return None
        return self.player.load(info)

    def _update_cine(self) -> None:
        info = self.selected_series()
        ready = self.player.ready
        self.cine_box.setVisible(ready or (info is not None and info.phases > 1))
        self.cine_load_button.setEnabled(info is not None and info.loadable and info.phases > 1)
        for w in (self.play_button, self.cine_slider, self.use_phase_button, self.fps):
            w.setEnabled(ready)
        self.cine_slider.blockSignals(True)
        self.cine_slider.setRange(0, max(self.player.count - 1, 0))
        self.cine_slider.setValue(self.player.phase)
        self.cine_slider.blockSignals(False)
        self._on_phase(self.player.phase)

    def _on_slider(self, value: int) -> None:
        if self.player.ready and (value != self.player.phase or not self.player.showing):
            self.player.show_phase(value)

    def _on_phase(self, k: int) -> None:
        if not self.player.ready:
            self.cine_label.setText("")
            return
        info, n = self.player.info, self.player.count
        labels = info.phase_labels
        what = f" ({labels[k]})" if k < len(labels) and labels[k] else ""
        shown = "" if self.player.showing else " - the views show the case image"
        self.cine_label.setText(f"Series {info.label}: phase {k + 1} of {n}{what}{shown}")
        if self.cine_slider.value() != k:
            self.cine_slider.blockSignals(True)
            self.cine_slider.setValue(k)
            self.cine_slider.blockSignals(False)

    def _on_playing(self, playing: bool) -> None:
        self.play_button.blockSignals(True)
        self.play_button.setChecked(playing)
        self.play_button.blockSignals(False)
        self.play_button.setText("Pause" if playing else "Play")

    # -- DICOM header and anonymised export ----------------------------------------------
    def _dicom_series(self):
        info = self.selected_series()
        if info is None or info.group is None or info.path is not None:
            self.window.statusBar().showMessage("Choose a DICOM series in the table first.", 5000)
            return None
        return info

    def show_header(self):
        """Open the header dialog on the first image (in slice order) of the selected series."""
        from ..header_dialog import HeaderDialog

        info = self._dicom_series()
        if info is None:
            return None
        recs = info.group.phases[0] if info.group.phases else info.group.records
        geo = info.geometries[0] if info.geometries else None
        order = getattr(geo, "order", None)
        first = recs[order[0]] if order is not None and len(order) else recs[0]
        if self.header_dialog is not None:
            self.header_dialog.close()
        self.header_dialog = HeaderDialog(self.window, first.path, f"series {info.label}, first image")
        self.header_dialog.start()
        self.header_dialog.show()
        return self.header_dialog

    @staticmethod
    def series_files(info) -> list[Path]:
        """The series' files: by phase in slice order, then any others (one each, multi-frame files once)."""
        seen: dict[str, None] = {}
        for p, recs in enumerate(info.group.phases):
            geo = info.geometries[p] if p < len(info.geometries) else None
            order = getattr(geo, "order", None)
            for i in (order if order is not None else range(len(recs))):
                seen.setdefault(recs[i].path)
        for r in info.group.records:
            seen.setdefault(r.path)
        return [Path(p) for p in seen]

    def export_dialog(self):
        info = self._dicom_series()
        if info is None:
            return None
        folder = QFileDialog.getExistingDirectory(self.window, "Export the anonymised series into", str(Path.home()))
        return self.export_anonymised(folder) if folder else None

    def export_anonymised(self, folder):
        """Write an anonymised copy of the selected series into a new sub-folder of ``folder`` (a job)."""
        info = self._dicom_series()
        if info is None:
            return None
        folder = Path(folder).resolve()
        source = Path(self.window.session.source or "").resolve()
        source = source.parent if source.is_file() else source
        if folder == source or source in folder.parents:
            error_dialog.show_error(self.window, "Exporting the anonymised series", InputError(
                "The export folder is inside the opened DICOM folder, so the copy would be scanned with "
                "the original next time. Choose a folder outside it."))
            return None
        target = folder / f"HeartTwin_anonymised_series_{info.label}"
        n = 2
        while target.exists():
            target, n = folder / f"HeartTwin_anonymised_series_{info.label}_{n}", n + 1
        files = self.series_files(info)
        job = self.window.run_job(f"Exporting series {info.label} anonymised", ANONYMISE_FILES, files, target,
                                  on_done=lambda result: self._exported(info, target, result))
        if job is not None:
            job.signals.cancelled.connect(lambda: self._export_cancelled(target))
        return job

    def _exported(self, info, target: Path, result) -> None:
        self.last_export = target
        self.window.statusBar().showMessage(
            f"Exported {len(result.files)} anonymised images of series {info.label} to {target}.", 10000)
        if result.warnings:  # e.g. burned-in annotation: said, not hidden in the status bar
            box = QMessageBox(QMessageBox.Icon.Warning, "Anonymised export", "\n".join(result.warnings),
                              QMessageBox.StandardButton.Ok, self.window)
            box.setObjectName("exportWarning")
            box.open()
            self.export_warning = box

    def _export_cancelled(self, target: Path) -> None:
        shutil.rmtree(target, ignore_errors=True)  # a folder this export created: no half copy is left
        self.window.statusBar().showMessage("Export cancelled; the partial copy was removed.", 6000)
