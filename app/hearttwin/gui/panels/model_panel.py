"""The Model & measure step: anatomical measurements with their ranges, and model export.

While the step is shown, the landmark squares (annulus centre, coronary
ostia) can be dragged in the slice views (:mod:`hearttwin.gui.landmark_drag`);
the heights that depend on a moved landmark are recomputed by core, marked
"(edited)" in the table, and have no uncertainty range ("—"). Measuring again
keeps the hand-moved landmarks (:func:`~hearttwin.core.anatomy.measure.reapply_moved_landmarks`).
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QAbstractItemView, QCheckBox, QComboBox, QFileDialog, QHBoxLayout, QHeaderView,
                               QLabel, QPushButton, QTableWidget, QTableWidgetItem)

from ..deferred import MEASURE_ALL
from ..landmark_drag import LandmarkDragger
from ..plan_jobs import MODEL_FORMATS, export_models
from .base import WorkflowPanel

#: (section, key, row title) shown in the table, in this order; ranges come from ``key + "_range"``
ROWS = (
    ("annulus", "area_mm2", "Annulus area (mm²)"),
    ("annulus", "perimeter_mm", "Annulus perimeter (mm)"),
    ("annulus", "area_derived_diameter_mm", "Annulus area-derived Ø (mm)"),
    ("annulus", "perimeter_derived_diameter_mm", "Annulus perimeter-derived Ø (mm)"),
    ("annulus", "min_diameter_mm", "Annulus min Ø (mm)"),
    ("annulus", "max_diameter_mm", "Annulus max Ø (mm)"),
    ("annulus", "eccentricity", "Annulus eccentricity"),
    ("coronary_ostia.left", "height_mm", "Left coronary height (mm)"),
    ("coronary_ostia.right", "height_mm", "Right coronary height (mm)"),
    ("root", "sinus_area_derived_diameter_mm", "Sinus of Valsalva Ø (mm)"),
    ("root", "sinotubular_junction_diameter_mm", "Sinotubular junction Ø (mm)"),
    ("root", "sinotubular_junction_height_mm", "STJ height (mm)"),
    ("lvot", "area_mm2", "LVOT area (mm²)"),
    ("lvot", "area_derived_diameter_mm", "LVOT area-derived Ø (mm)"),
    ("laa", "ostium_max_diameter_mm", "LAA ostium max Ø (mm)"),
    ("laa", "ostium_min_diameter_mm", "LAA ostium min Ø (mm)"),
    ("laa", "depth_mm", "LAA depth (mm)"),
    ("chambers.LV", "volume_ml", "LV volume (mL)"),
    ("chambers.RV", "volume_ml", "RV volume (mL)"),
    ("chambers.LA", "volume_ml", "LA volume (mL)"),
    ("chambers.RA", "volume_ml", "RA volume (mL)"),
    ("chambers", "myocardial_mass_g", "Myocardial mass (g)"),
)

#: the measuring job, imported by the process that runs it (core.anatomy takes ~1 s to import)

#: landmark colours in the slice views
ANNULUS_COLOUR, OSTIUM_COLOUR = (255, 220, 0), (255, 80, 200)
#: landmark name in the views -> core landmark (hearttwin.core.anatomy.measure.MOVABLE_LANDMARKS)
LANDMARK_KEYS = {"annulus": "annulus_centre", "LCA": "left_ostium", "RCA": "right_ostium"}
#: added to the title of a row whose value was recomputed from a landmark moved by hand
EDITED_MARK = " (edited)"
EDITED_TIP = ("Recomputed from a landmark moved by hand: no automatic uncertainty range "
              "(Measure re-measures everything else and keeps the hand-moved landmarks)")
def _section(measurements: dict, path: str) -> dict:
    node = measurements
    for part in path.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    return node if isinstance(node, dict) else {}


def table_rows(measurements: dict) -> list[tuple[str, float, list | None, bool]]:
    """(title, value, [low, high] or None, edited by hand) of every measured row of :data:`ROWS`."""
    edited = set(measurements.get("edited") or [])
    out = []
    for section, key, title in ROWS:
        node = _section(measurements, section)
        value = node.get(key)
        if isinstance(value, (int, float)):
            out.append((title, float(value), node.get(key + "_range"), f"{section}.{key}" in edited))
    return out


def landmarks(measurements: dict) -> list[tuple[str, list, tuple]]:
    """The annulus centre and coronary ostia as (name, LPS point, colour)."""
    out = []
    centre = _section(measurements, "annulus").get("centre_lps")
    if centre:
        out.append(("annulus", centre, ANNULUS_COLOUR))
    for side in ("left", "right"):
        point = _section(measurements, f"coronary_ostia.{side}").get("point_lps")
        if point:
            out.append((f"{side[0].upper()}CA", point, OSTIUM_COLOUR))
    return out


class ModelPanel(WorkflowPanel):
    """Measure the anatomy (in the child process) and export surface models."""

    key, title = "model", "Model & measure"
    hint = ("Measure the aortic annulus, coronary heights, root, LVOT, left atrial appendage and "
            "chambers (with their plausible ranges); drag a landmark square in a slice to correct it; "
            "export the surfaces for 3D printing.")
    isolate = True

    def __init__(self, window, parent=None) -> None:
        super().__init__(window, parent)
        self.measure_button = QPushButton("Measure")
        self.measure_button.setObjectName("measureButton")
        self.measure_button.setToolTip("Measure the anatomy on the current labels (runs in the background)")
        self.layout_.addWidget(self.measure_button)
        self.table = QTableWidget(0, 3)
        self.table.setObjectName("measurementTable")
        self.table.setHorizontalHeaderLabels(("Measurement", "Value", "Range"))
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.setToolTip("Range: the values the measurement could plausibly take given the "
                              "segmentation's uncertainty")
        self.layout_.addWidget(self.table, 1)
        self.view_label = QLabel()
        self.view_label.setWordWrap(True)
        self.layout_.addWidget(self.view_label)

        export = QHBoxLayout()
        self.format_combo = QComboBox()
        self.format_combo.addItems([f.upper() for f in MODEL_FORMATS])
        self.printable_check = QCheckBox("Print-ready")
        self.printable_check.setToolTip("Closed, manifold models for 3D printing (slower)")
        self.export_button = QPushButton("Export models…")
        self.export_button.setToolTip("Write one model per structure to a folder")
        export.addWidget(self.format_combo)
        export.addWidget(self.printable_check)
        export.addWidget(self.export_button, 1)
        self.layout_.addLayout(export)

        self.measure_button.clicked.connect(self.run_measure)
        self.export_button.clicked.connect(self.export_dialog)
        window.session.measurements_changed.connect(self.show_measurements)
        #: counts label map changes; the count when the stored measurements were measured (None: unknown)
        self._labels_generation, self._measured_generation = 0, None
        window.session.labels_changed.connect(self._bump_labels)
        window.session.case_replaced.connect(self._forget_measured_labels)
        self._warm = None
        self.dragger = LandmarkDragger(window.session, LANDMARK_KEYS,
                                       notify=lambda text: window.statusBar().showMessage(text, 10000))

    def available(self) -> bool:
        return self.window.session.labels is not None

    def activated(self) -> None:
        self.window.state.landmark_editor = self.dragger  # landmarks move only on this step
        if self._warm is None:  # the first landmark drop needs the anatomy code: load it meanwhile
            from ..app import WarmUp

            self._warm = WarmUp(("hearttwin.core.anatomy.measure",)).start()

    def deactivated(self) -> None:
        if self.window.state.landmark_editor is self.dragger:
            self.window.state.landmark_editor = None

    def run_measure(self):
        session = self.window.session
        if session.labels is None:
            self.window.statusBar().showMessage("Segment the heart first.", 5000)
            return None
        generation = self._labels_generation
        return self.window.run_job("Measuring the anatomy", MEASURE_ALL, session.labels, session.volume,
                                   isolate=self.isolate, on_done=lambda m: self._measured(m, generation))

    def _bump_labels(self) -> None:
        self._labels_generation += 1

    def _forget_measured_labels(self) -> None:
        self._measured_generation = None  # a new case: which labels its measurements came from is unknown

    def _measured(self, fresh: dict, generation: int) -> None:
        """Store measure_all's result with the previous hand-moved landmarks put back (plain
        ``set_measurements``, as a first Measure: not on the undo stack)."""
        from ...core.anatomy.measure import reapply_moved_landmarks  # warmed up when the step opened

        session = self.window.session
        if session.case is None:
            return
        previous = session.case.measurements
        other_labels = self._measured_generation is not None and self._measured_generation != generation
        measurements, kept, failed = reapply_moved_landmarks(previous, fresh)
        self._measured_generation = generation
        session.set_measurements(measurements)
        if not kept and not failed:
            return
        n = len(kept)
        text = f"Measured; kept {n} hand-corrected landmark{'s' if n != 1 else ''}" if kept else "Measured"
        if kept and other_labels:
            text += " (placed on the earlier labels: the label map has changed since; they are kept as LPS points)"
        if kept:
            them = "it" if n == 1 else "them"
            text += f"; drag {them} again to change {them} (Measure itself cannot be undone)."
        else:
            text += "."
        if failed:
            text += " " + "; ".join(failed)
        self.window.statusBar().showMessage(text, 15000)

    def show_measurements(self) -> None:
        case = self.window.session.case
        m = case.measurements if case is not None else {}
        rows = table_rows(m or {})
        self.table.setRowCount(len(rows))
        for r, (title, value, rng, edited) in enumerate(rows):
            items = (QTableWidgetItem(title + (EDITED_MARK if edited else "")),
                     _number(f"{value:.3g}" if abs(value) < 1 else f"{value:.1f}"),
                     _number("—" if edited else f"{rng[0]:.1f} – {rng[1]:.1f}" if rng else ""))
            for c, item in enumerate(items):
                if edited:
                    font = item.font()
                    font.setItalic(True)
                    item.setFont(font)
                    item.setToolTip(EDITED_TIP)
                self.table.setItem(r, c, item)
        view = (m or {}).get("coplanar_view", {}).get("recommended", {})
        self.view_label.setText(f"Coplanar view: {view['label']}" if view.get("label") else "")
        self.window.state.set_landmarks(landmarks(m or {}))

    def _row(self, title: str) -> int | None:
        for r in range(self.table.rowCount()):
            if self.table.item(r, 0).text().removesuffix(EDITED_MARK) == title:
                return r
        return None

    def value_text(self, title: str) -> str:
        """The value shown in the row titled ``title`` ("" when there is none)."""
        r = self._row(title)
        return "" if r is None else self.table.item(r, 1).text()

    def range_text(self, title: str) -> str:
        r = self._row(title)
        return "" if r is None else self.table.item(r, 2).text()

    def is_edited(self, title: str) -> bool:
        """Whether the row's value was recomputed from a landmark moved by hand."""
        r = self._row(title)
        return r is not None and self.table.item(r, 0).text().endswith(EDITED_MARK)

    def export_dialog(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Export models to")
        if folder:
            self.export_to(folder)

    def export_to(self, folder, fmt: str | None = None, printable: bool | None = None):
        labels = self.window.session.labels
        if labels is None:
            return None
        fmt = fmt or self.format_combo.currentText().lower()
        printable = self.printable_check.isChecked() if printable is None else printable
        return self.window.run_job(
            "Exporting models", export_models, labels, str(folder), fmt=fmt, printable=printable,
            isolate=self.isolate,
            on_done=lambda paths: self.window.statusBar().showMessage(
                f"{len(paths)} models written to {folder}.", 8000))


def _number(text: str) -> QTableWidgetItem:
    item = QTableWidgetItem(text)
    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    return item
