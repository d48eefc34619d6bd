"""The Segment step's editing tools: threshold, islands, smoothing, fill holes, margin.

One tab per tool: a structure chooser, the tool's parameters and Apply. The
work is core's (:mod:`hearttwin.core.segmentation.editing`), run by an
:class:`~hearttwin.gui.edit_ops.EditRunner` in a worker and undoable. Core is
imported when a tool is applied, not at start-up (it pulls in SciPy).
"""

from __future__ import annotations

from functools import partial

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QColor, QIcon, QKeySequence, QPixmap
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDoubleSpinBox, QFormLayout, QPushButton, QTabWidget,
                               QWidget)

from ..edit_ops import EditRunner, PreviewController

#: smoothing methods as offered (core name, menu text); core's SMOOTHING_METHODS (a test keeps them equal)
SMOOTHING = (("gaussian", "Gaussian (keeps volume)"), ("median", "Median"),
             ("opening", "Opening (removes spurs)"), ("closing", "Closing (fills notches)"))
#: the HU range offered by default: contrast-filled blood on a CT angiogram
DEFAULT_RANGE = (150.0, 700.0)
#: keyboard shortcuts of the editing tools (active while the Segment step is shown)
SHORTCUTS = {"apply": "Ctrl+Return", "preview": "T", "keep_largest": "Ctrl+Shift+K",
             "fill_holes": "Ctrl+Shift+H", "smooth": "Ctrl+Shift+M"}


def _spin(lo, hi, value, step, suffix, tip, decimals=1) -> QDoubleSpinBox:
    box = QDoubleSpinBox()
    box.setRange(lo, hi)
    box.setDecimals(decimals)
    box.setSingleStep(step)
    box.setValue(value)
    box.setSuffix(suffix)
    box.setToolTip(tip)
    return box


class EditTools(QTabWidget):
    """Tabs of label-editing tools acting on the window's session through an :class:`EditRunner`."""

    def __init__(self, window, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("editTools")
        self.window = window
        self.runner = EditRunner(window)
        self.preview = PreviewController(window.state)
        self.combos: dict[str, QComboBox] = {}
        self.apply_buttons: dict[str, QPushButton] = {}
        for key, title, build, tip in (
                ("threshold", "Threshold", self._build_threshold, "Paint or restrict by CT density (HU)"),
                ("islands", "Islands", self._build_islands, "Remove disconnected pieces"),
                ("smooth", "Smooth", self._build_smooth, "Smooth a structure's surface"),
                ("holes", "Holes", self._build_holes, "Fill cavities enclosed by a structure"),
                ("margin", "Margin", self._build_margin, "Grow or shrink a structure by a distance")):
            page = QWidget()
            form = QFormLayout(page)
            form.setContentsMargins(4, 4, 4, 4)
            combo = self._structure_combo(all_option=key in ("islands", "holes"))
            combo.setObjectName(f"{key}Structure")
            form.addRow("Structure", combo)
            self.combos[key] = combo
            build(form)
            button = QPushButton("Apply")
            button.setObjectName(f"{key}Apply")
            button.setToolTip(f"{tip} ({SHORTCUTS['apply']} applies the shown tool; Ctrl+Z undoes)")
            button.clicked.connect(partial(self.apply, key))
            form.addRow(button)
            self.apply_buttons[key] = button
            self.setTabToolTip(self.addTab(page, title), tip)
        self.currentChanged.connect(lambda _i: self._update_preview())
        self._build_shortcuts()

    # -- building --------------------------------------------------------------------------
    def _structure_combo(self, all_option: bool) -> QComboBox:
        combo = QComboBox()
        combo.setToolTip("The structure the tool changes")
        if all_option:
            combo.addItem("All structures", None)
        for s in self.window.session.structures():
            pix = QPixmap(12, 12)
            pix.fill(QColor(*s.colour))
            combo.addItem(QIcon(pix), f"{s.key} - {s.name}", s.label)
        return combo

    def _build_threshold(self, form: QFormLayout) -> None:
        self.threshold_mode = QComboBox()
        self.threshold_mode.addItem("Paint voxels in range", "paint")
        self.threshold_mode.addItem("Restrict structure to range", "restrict")
        self.threshold_mode.setToolTip("Paint: give the structure every voxel in the HU range. "
                                       "Restrict: remove the structure's voxels outside the range.")
        self.lo = _spin(-1024, 4000, DEFAULT_RANGE[0], 10, " HU", "Lowest density kept (Hounsfield units)", 0)
        self.hi = _spin(-1024, 4000, DEFAULT_RANGE[1], 10, " HU", "Highest density kept (Hounsfield units)", 0)
        self.overwrite = QCheckBox("Overwrite other structures")
        self.overwrite.setToolTip("Off: painting takes background voxels only")
        self.preview_check = QCheckBox("Preview on the slices")
        self.preview_check.setObjectName("thresholdPreview")
        self.preview_check.setToolTip(f"Show the result on the slices before applying ({SHORTCUTS['preview']})")
        form.addRow("Mode", self.threshold_mode)
        form.addRow("From", self.lo)
        form.addRow("To", self.hi)
        form.addRow(self.overwrite)
        form.addRow(self.preview_check)
        for signal in (self.lo.valueChanged, self.hi.valueChanged, self.threshold_mode.currentIndexChanged,
                       self.overwrite.toggled, self.preview_check.toggled,
                       self.combos["threshold"].currentIndexChanged):
            signal.connect(lambda *_: self._update_preview())

    def _build_islands(self, form: QFormLayout) -> None:
        self.island_mode = QComboBox()
        self.island_mode.addItem("Keep the largest island", "largest")
        self.island_mode.addItem("Remove islands smaller than", "small")
        self.island_mode.setToolTip("Keep the largest: drop every piece not connected to the biggest one "
                                    f"({SHORTCUTS['keep_largest']}). To remove one island, use the Island "
                                    "tool (I) and click it.")
        self.min_ml = _spin(0.0, 1000.0, 0.5, 0.1, " mL", "Pieces smaller than this are removed", 2)
        form.addRow("Mode", self.island_mode)
        form.addRow("Smaller than", self.min_ml)

    def _build_smooth(self, form: QFormLayout) -> None:
        self.smooth_method = QComboBox()
        for name, text in SMOOTHING:
            self.smooth_method.addItem(text, name)
        self.smooth_method.setToolTip("Gaussian keeps the volume; opening removes thin spurs; "
                                      f"closing fills narrow notches ({SHORTCUTS['smooth']})")
        self.smooth_size = _spin(0.2, 20.0, 1.5, 0.5, " mm", "Smoothing strength (Gaussian sigma or ball radius)")
        form.addRow("Method", self.smooth_method)
        form.addRow("Size", self.smooth_size)

    def _build_holes(self, form: QFormLayout) -> None:
        self.slice_wise = QCheckBox("Slice by slice (2D)")
        self.slice_wise.setToolTip("Also fill holes open at the ends, one axial slice at a time "
                                   f"({SHORTCUTS['fill_holes']} fills holes)")
        form.addRow(self.slice_wise)

    def _build_margin(self, form: QFormLayout) -> None:
        self.margin = _spin(-30.0, 30.0, 1.0, 0.5, " mm", "Positive grows the structure, negative shrinks it")
        self.margin_overwrite = QCheckBox("Grow over other structures")
        self.margin_overwrite.setToolTip("Off: growing takes background voxels only")
        form.addRow("Margin", self.margin)
        form.addRow(self.margin_overwrite)

    def _build_shortcuts(self) -> None:
        self.actions_by_name: dict[str, QAction] = {}
        for name, text, slot in (("apply", "Apply the shown editing tool", lambda: self.apply(self.current_key())),
                                 ("preview", "Threshold preview", self.toggle_preview),
                                 ("keep_largest", "Keep the largest island",
                                  lambda: self.apply("islands", mode="largest")),
                                 ("fill_holes", "Fill holes", partial(self.apply, "holes")),
                                 ("smooth", "Smooth", partial(self.apply, "smooth"))):
            act = QAction(text, self)
            act.setShortcut(QKeySequence(SHORTCUTS[name]))
            act.setShortcutContext(Qt.ShortcutContext.WindowShortcut)  # while the Segment step is shown
            act.triggered.connect(lambda _checked=False, s=slot: s())
            self.addAction(act)
            self.actions_by_name[name] = act

    # -- state -----------------------------------------------------------------------------
    KEYS = ("threshold", "islands", "smooth", "holes", "margin")

    def current_key(self) -> str:
        return self.KEYS[self.currentIndex()]

    def show_tool(self, key: str) -> None:
        self.setCurrentIndex(self.KEYS.index(key))

    def structure(self, key: str):
        return self.combos[key].currentData()

    def toggle_preview(self) -> None:
        self.show_tool("threshold")
        self.preview_check.toggle()

    def _update_preview(self) -> None:
        on = (self.preview_check.isChecked() and self.isVisible() and self.current_key() == "threshold"
              and self.window.state.image is not None)
        if not on:
            self.preview.hide()
            return
        self.preview.show(label=self.structure("threshold"), lo=self.lo.value(), hi=self.hi.value(),
                          mode=self.threshold_mode.currentData(), overwrite=self.overwrite.isChecked())

    def showEvent(self, event) -> None:  # noqa: N802 (Qt API)
        super().showEvent(event)
        self._update_preview()

    def hideEvent(self, event) -> None:  # noqa: N802
        super().hideEvent(event)
        self.preview.hide()

    # -- applying --------------------------------------------------------------------------
    def apply(self, key: str, mode: str | None = None):
        """Apply tool ``key`` with the parameters shown; returns the job (None if not started)."""
        from ...core.segmentation import editing as ed  # SciPy: loaded when first needed

        session = self.window.session
        label = self.structure(key)
        keys = {s.label: s.key for s in session.structures()}
        name = keys.get(label, "all structures")
        run = self.runner.run
        if key == "threshold":
            lo, hi = self.lo.value(), self.hi.value()
            if session.volume is None:
                return None
            if self.threshold_mode.currentData() == "restrict":
                return run(f"Restrict {name} to {lo:.0f}..{hi:.0f} HU", ed.restrict_to_range, session.volume,
                           label, lo, hi)
            if session.labels is None:  # thresholding can start a segmentation from nothing
                self._new_labels()
            return run(f"Threshold {name} {lo:.0f}..{hi:.0f} HU", ed.threshold, session.volume, label, lo, hi,
                       only=None if self.overwrite.isChecked() else (0,))
        if key == "islands":
            if (mode or self.island_mode.currentData()) == "largest":
                return run(f"Keep largest island of {name}", ed.keep_largest_island, label)
            return run(f"Remove islands < {self.min_ml.value():g} mL of {name}", ed.remove_small_islands,
                       self.min_ml.value(), label)
        if key == "smooth":
            return run(f"Smooth {name} ({self.smooth_method.currentData()} {self.smooth_size.value():g} mm)",
                       ed.smooth, label, self.smooth_size.value(), method=self.smooth_method.currentData())
        if key == "holes":
            return run(f"Fill holes of {name}", ed.fill_holes, label, slice_wise=self.slice_wise.isChecked())
        if key == "margin":
            mm = self.margin.value()
            if mm >= 0:
                return run(f"Grow {name} by {mm:g} mm", ed.grow, label, mm,
                           only=None if self.margin_overwrite.isChecked() else (0,))
            return run(f"Shrink {name} by {-mm:g} mm", ed.shrink, label, -mm)
        raise ValueError(key)

    def remove_island_at(self, lps):
        """Remove the island under ``lps`` (the Island tool's click)."""
        from ...core.segmentation import editing as ed

        return self.runner.run("Remove island", ed.remove_island_at, [float(v) for v in lps])

    def _new_labels(self) -> None:
        import numpy as np

        from ...core.imaging.volume import Volume

        vol = self.window.session.volume
        self.window.session.set_labels(Volume(np.zeros(vol.array.shape, np.uint8), vol.spacing, vol.origin,
                                              vol.direction, meta={"kind": "labels"}), step="new_labels")
