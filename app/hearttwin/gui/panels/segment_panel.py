"""The Segment step: automatic segmentation, the structure list, overlay, brush and editing tools.

The segmentation pipelines are imported inside the calls that run them (they
cost ~1.75 s of SimpleITK/SciPy import at start-up otherwise).
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QAction, QColor, QIcon, QKeySequence, QPixmap
from PySide6.QtWidgets import (QButtonGroup, QCheckBox, QComboBox, QDoubleSpinBox, QGridLayout, QHBoxLayout,
                               QLabel, QPushButton, QSlider, QToolButton)

from ..deferred import SEGMENT_FROM_SEEDS, SEGMENT_HEART
from ..edit_tools import BrushTool, ClickTool, SeedTool, label_counts
from .base import WorkflowPanel
from .segment_tools import EditTools
from .structure_table import StructureTable

#: the mouse tools of the slice views: (name, button text, tooltip); ids are the positions
TOOLS = (("navigate", "Navigate", "Click to move the crosshair (N)"),
         ("paint", "Paint", "Paint the chosen structure (B)"),
         ("erase", "Erase", "Erase any label (E)"),
         ("seed", "Seed", "Click inside the chosen structure to place a seed for seeded segmentation (S)"),
         ("island", "Island", "Click a piece of any structure to remove that connected piece (I)"))




class SegmentPanel(WorkflowPanel):
    """Run the automatic 7-label segmentation, review it and touch it up."""

    key, title = "segment", "Segment"
    #: run segmentations in the child process (they hold the GIL in C code for long stretches)
    isolate = True
    hint = ("Find the seven heart structures automatically, check them on the slices, correct them with "
            "the brush and the editing tools.")

    def __init__(self, window, parent=None) -> None:
        super().__init__(window, parent)
        session = window.session
        self.auto_button = QPushButton("Segment automatically")
        self.auto_button.setObjectName("autoSegmentButton")
        self.auto_button.setToolTip("Label LV, RV, LA, RA, LV myocardium, aorta and pulmonary artery "
                                    "(Ctrl+Shift+A); runs in the background, Esc cancels")
        self.layout_.addWidget(self.auto_button)
        self.warnings = QLabel()
        self.warnings.setObjectName("segmentWarnings")
        self.warnings.setWordWrap(True)
        self.warnings.setStyleSheet("color: #c0392b")
        self.layout_.addWidget(self.warnings)

        self.table = StructureTable(session.structures())
        self.layout_.addWidget(self.table)

        overlay = QHBoxLayout()
        self.overlay_check = QCheckBox("Overlay")
        self.overlay_check.setChecked(True)
        self.overlay_check.setToolTip("Show the labels on the slices (O)")
        self.opacity = QSlider(Qt.Orientation.Horizontal)
        self.opacity.setRange(0, 100)
        self.opacity.setValue(int(round(window.state.opacity * 100)))
        self.opacity.setToolTip("Overlay opacity")
        overlay.addWidget(self.overlay_check)
        overlay.addWidget(self.opacity, 1)
        self.layout_.addLayout(overlay)

        self.surface_button = QPushButton("Update 3D surfaces")
        self.surface_button.setToolTip("Rebuild the 3D surfaces from the current labels")
        self.surface_button.setEnabled(False)
        self.layout_.addWidget(self.surface_button)
        self._build_tools(session)

        self.auto_button.clicked.connect(self.run_auto)
        self.surface_button.clicked.connect(window.update_surfaces)
        self.table.visibility_changed.connect(window.state.set_label_visible)
        self.overlay_check.toggled.connect(window.state.set_overlay_visible)
        self.opacity.valueChanged.connect(lambda v: window.state.set_opacity(v / 100.0))
        self._seeds_for = None
        self._volumes_timer = QTimer(self, singleShot=True, interval=150)
        self._volumes_timer.timeout.connect(self._update_volumes)
        session.labels_changed.connect(self._on_labels)
        session.surfaces_changed.connect(self._on_surfaces)
        session.image_changed.connect(self._on_labels)

    def _build_tools(self, session) -> None:
        grid = QGridLayout()
        tool_row = QHBoxLayout()
        self.tools = QButtonGroup(self)
        for col, (_key, name, tip) in enumerate(TOOLS):
            button = QToolButton()
            button.setText(name)
            button.setCheckable(True)
            button.setToolTip(tip)
            self.tools.addButton(button, col)
            tool_row.addWidget(button)
        tool_row.addStretch(1)
        grid.addLayout(tool_row, 0, 0, 1, 4)
        self.tools.button(0).setChecked(True)
        self.label_combo = QComboBox()
        self.label_combo.setToolTip("Structure the brush paints")
        for s in session.structures():
            pix = QPixmap(12, 12)
            pix.fill(QColor(*s.colour))
            self.label_combo.addItem(QIcon(pix), f"{s.key} - {s.name}", s.label)
        self.radius = QDoubleSpinBox()
        self.radius.setRange(0.5, 30.0)
        self.radius.setValue(4.0)
        self.radius.setSuffix(" mm")
        self.radius.setToolTip("Brush radius")
        grid.addWidget(self.label_combo, 1, 0, 1, 3)
        grid.addWidget(self.radius, 1, 3)
        self.undo_button = QToolButton()
        self.undo_button.setDefaultAction(session.undo_stack.createUndoAction(self, "Undo"))
        self.redo_button = QToolButton()
        self.redo_button.setDefaultAction(session.undo_stack.createRedoAction(self, "Redo"))
        undo_row = QHBoxLayout()
        undo_row.addWidget(self.undo_button)
        undo_row.addWidget(self.redo_button)
        undo_row.addStretch(1)
        grid.addLayout(undo_row, 2, 0, 1, 4)
        self.seeds: dict[int, list] = {}
        self.seed_label = QLabel("No seeds")
        self.seed_label.setToolTip("Seeds per structure; LV myocardium needs none")
        self.clear_seeds_button = QToolButton()
        self.clear_seeds_button.setText("Clear seeds")
        self.seeded_button = QPushButton("Segment from seeds")
        self.seeded_button.setObjectName("seededSegmentButton")
        self.seeded_button.setToolTip("Grow the structures from the seeds (for scans where the "
                                      "automatic segmentation fails)")
        self.seeded_button.setEnabled(False)
        grid.addWidget(self.seed_label, 3, 0, 1, 2)
        grid.addWidget(self.clear_seeds_button, 3, 2, 1, 2)
        grid.addWidget(self.seeded_button, 4, 0, 1, 4)
        self.layout_.addLayout(grid)
        self.edit_tools = EditTools(self.window)
        self.layout_.addWidget(self.edit_tools)
        self.layout_.addStretch(1)
        island = QAction("Island tool", self)
        island.setShortcut(QKeySequence("I"))
        island.triggered.connect(lambda _checked=False: self.set_tool("island"))
        self.addAction(island)
        self.clear_seeds_button.clicked.connect(self.clear_seeds)
        self.seeded_button.clicked.connect(self.run_seeded)
        self.tools.idToggled.connect(lambda _id, on: on and self._update_tool())
        self.label_combo.currentIndexChanged.connect(self._update_tool)
        self.radius.valueChanged.connect(self._update_tool)

    def _update_tool(self) -> None:
        tool = self.tools.checkedId()
        state = self.window.state
        if tool <= 0:
            state.tool = None
        elif tool == 3:
            state.tool = SeedTool(self.seeds, int(self.label_combo.currentData()), self._on_seeds)
        elif tool == 4:
            state.tool = ClickTool(self.edit_tools.remove_island_at)
        else:
            label = 0 if tool == 2 else int(self.label_combo.currentData())
            state.tool = BrushTool(self.window.session, label, self.radius.value())

    def set_tool(self, name: str) -> None:
        """Select "navigate", "paint", "erase", "seed" or "island"."""
        self.tools.button([t[0] for t in TOOLS].index(name)).setChecked(True)
        self._update_tool()

    # -- seeds -----------------------------------------------------------------------------
    def _on_seeds(self) -> None:
        colours = self.window.state.colours
        self.window.state.set_markers([(p, colours.get(label, (255, 255, 255)))
                                       for label, pts in self.seeds.items() for p in pts])
        keys = {s.label: s.key for s in self.window.session.structures()}
        self.seed_label.setText(", ".join(f"{keys.get(k, k)} {len(v)}" for k, v in sorted(self.seeds.items()))
                                or "No seeds")
        self.seeded_button.setEnabled(bool(self.seeds))

    def clear_seeds(self) -> None:
        self.seeds.clear()
        self._on_seeds()

    def run_seeded(self) -> None:
        session = self.window.session
        if session.volume is None or not self.seeds:
            return
        seeds = {k: list(v) for k, v in self.seeds.items()}
        self.window.run_job("Segmenting from seeds", SEGMENT_FROM_SEEDS, session.volume, seeds,
                            on_done=self._on_result, isolate=self.isolate)

    def available(self) -> bool:
        return self.window.session.volume is not None

    # -- actions ---------------------------------------------------------------------------
    def run_auto(self) -> None:
        session = self.window.session
        if session.volume is None:
            return
        self.window.run_job("Segmenting the heart", SEGMENT_HEART, session.volume, on_done=self._on_result,
                            isolate=self.isolate)

    def _on_result(self, result) -> None:
        params = {"method": result.method, "seconds": round(result.seconds, 2), "missing": result.missing}
        if result.method == "seeded":
            params["seeds_lps"] = {str(k): [list(p) for p in v] for k, v in self.seeds.items()}
        self.window.session.set_labels(result.labels, step=f"segment_{result.method}", params=params,
                                       warnings=result.warnings)
        self.window.update_surfaces()

    # -- display ---------------------------------------------------------------------------
    def _on_labels(self) -> None:
        session = self.window.session
        if session.volume is not self._seeds_for:  # seeds belong to one image
            self._seeds_for = session.volume
            self.clear_seeds()
        self.warnings.setText("\n".join(session.segmentation_warnings))
        self.auto_button.setEnabled(session.volume is not None)
        self._volumes_timer.start()
        self._on_surfaces()

    def _update_volumes(self) -> None:
        session = self.window.session
        counts = label_counts(session).current(session)
        voxel_ml = 0.0 if session.labels is None else session.labels.voxel_volume_mm3 / 1000.0
        self.table.set_volumes({s.label: float(counts[s.label]) * voxel_ml for s in session.structures()})

    def _on_surfaces(self) -> None:
        session = self.window.session
        self.surface_button.setEnabled(session.labels is not None and
                                       (session.surfaces_stale or not session.surfaces))
