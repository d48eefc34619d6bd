"""What every view shows: canonical image, crosshair, window/level, overlay settings, tool.

One :class:`ViewState` is shared by the slice views and the 3D view so the
crosshair is linked and a window/level change shows everywhere at once.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QObject, Signal

from . import display


class ViewState(QObject):
    """Display state shared by the views.

    Signals
    -------
    cursor_changed : the crosshair moved
    display_changed : window/level, overlay opacity or label visibility changed
    data_changed : a new image or label map (or an in-place label edit)
    measures_changed : a measurement, the selection or a tool's drawing changed (repaint only)
    """

    cursor_changed = Signal()
    display_changed = Signal()
    data_changed = Signal()
    measures_changed = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.volume = None
        self.labels = None
        self.orientation: display.Reorientation | None = None
        self.image: np.ndarray | None = None  # canonical (z, y, x) view of the CT
        self.label_image: np.ndarray | None = None  # canonical view of the label map
        self.spacing = (1.0, 1.0, 1.0)  # canonical (x, y, z) mm
        self.size = (0, 0, 0)  # canonical (nx, ny, nz)
        self.cursor = np.zeros(3, int)  # canonical (x, y, z) index
        self.window, self.level = display.PRESETS[display.DEFAULT_PRESET]
        self.opacity = 0.45
        self.overlay_visible = True
        self.hidden: set[int] = set()
        self.colours: dict[int, tuple[int, int, int]] = {}
        #: the active mouse tool of the slice views (None: navigate)
        self.tool = None
        #: points drawn on the slices: [(lps (3,), (r, g, b))], e.g. segmentation seeds
        self.markers: list = []
        #: measured landmarks [(name, lps, rgb)] drawn as small squares (annulus centre, ostia)
        self.landmarks: list = []
        #: moves landmarks with the mouse (a landmark_drag.LandmarkDragger) while the Model step is
        #: shown, else None
        self.landmark_editor = None
        #: the placed device as (canonical points (N, 3), triangles (M, 3), rgb), or None
        self.device = None
        #: finished rulers and angles (see ruler_tools.Measure), each drawn on its own slice
        self.measures: list = []
        self.selected_measure = None
        #: the plane of the slice view last pressed with the mouse (tools read it)
        self.pointer_plane: str | None = None

    # -- data ------------------------------------------------------------------------------
    def set_volume(self, volume) -> None:
        self.volume = volume
        if volume is None:
            self.image = self.label_image = self.orientation = None
            self.size = (0, 0, 0)
        else:
            self.orientation = display.Reorientation.from_direction(volume.direction)
            self.image = self.orientation.view(volume.array)
            nz, ny, nx = self.image.shape
            self.size = (nx, ny, nz)
            self.spacing = self.orientation.spacing(volume.spacing)
            self.cursor = np.array([nx // 2, ny // 2, nz // 2])
        self.labels = None
        self.label_image = None
        self.measures, self.selected_measure = [], None  # they belonged to the previous image
        self.data_changed.emit()
        self.cursor_changed.emit()
        self.measures_changed.emit()

    def set_labels(self, labels) -> None:
        self.labels = labels
        self.label_image = None if labels is None or self.orientation is None else \
            self.orientation.view(labels.array)
        self.data_changed.emit()

    def labels_edited(self) -> None:
        if self.labels is not None and self.orientation is not None:
            self.label_image = self.orientation.view(self.labels.array)
        self.data_changed.emit()

    # -- crosshair -------------------------------------------------------------------------
    def set_cursor(self, cxyz) -> None:
        if self.image is None:
            return
        c = np.clip(np.round(np.asarray(cxyz, float)).astype(int), 0, np.asarray(self.size) - 1)
        if not np.array_equal(c, self.cursor):
            self.cursor = c
            self.cursor_changed.emit()

    def step_slice(self, plane: str, steps: int) -> None:
        c = self.cursor.copy()
        c[display.FIXED_AXIS[plane]] += int(steps)
        self.set_cursor(c)

    def canonical_to_lps(self, cxyz) -> np.ndarray:
        """Canonical (x, y, z) index -> LPS mm."""
        ijk = self.orientation.to_source_index(cxyz, self.size)
        return self.volume.index_to_lps(ijk)

    def lps_to_canonical(self, lps) -> np.ndarray:
        """LPS mm -> canonical (x, y, z) index (continuous)."""
        return self.orientation.to_canonical_index(self.volume.lps_to_index(lps), self.size)

    def set_markers(self, markers) -> None:
        self.markers = list(markers)
        self.display_changed.emit()

    def set_landmarks(self, landmarks) -> None:
        self.landmarks = list(landmarks)
        self.display_changed.emit()

    def preview_landmark(self, index: int, lps) -> None:
        """Draw landmark ``index`` at ``lps`` (while it is dragged; the case is not changed)."""
        if not 0 <= index < len(self.landmarks):
            return  # the landmarks were replaced meanwhile (a new measurement)
        name, _old, rgb = self.landmarks[index]
        self.landmarks[index] = (name, [float(v) for v in lps], rgb)
        self.measures_changed.emit()  # a repaint, not new data

    def set_device(self, lps_points, triangles, rgb) -> None:
        """Outline this surface (LPS points, triangles) on the slices; None points: no device."""
        from .device_outline import canonical_points

        self.device = None if lps_points is None or self.volume is None else (
            canonical_points(self, lps_points), np.asarray(triangles), tuple(rgb))
        self.display_changed.emit()

    def add_measure(self, measure, index: int | None = None) -> None:
        """Show ``measure`` (at ``index`` in the list, default last)."""
        self.measures.insert(len(self.measures) if index is None else index, measure)
        self.measures_changed.emit()

    def remove_measure(self, measure) -> None:
        if measure in self.measures:
            self.measures.remove(measure)
            if self.selected_measure is measure:
                self.selected_measure = None
            self.measures_changed.emit()

    def select_measure(self, measure) -> None:
        """Highlight ``measure`` (None: no selection)."""
        if measure is not self.selected_measure:
            self.selected_measure = measure
            self.measures_changed.emit()

    def cursor_lps(self) -> np.ndarray | None:
        return None if self.volume is None else self.canonical_to_lps(self.cursor)

    # -- appearance ------------------------------------------------------------------------
    def set_window_level(self, window: float, level: float) -> None:
        self.window, self.level = max(1.0, float(window)), float(level)
        self.display_changed.emit()

    def apply_preset(self, name: str) -> None:
        self.set_window_level(*display.PRESETS[name])

    def set_opacity(self, opacity: float) -> None:
        self.opacity = min(max(float(opacity), 0.0), 1.0)
        self.display_changed.emit()

    def set_overlay_visible(self, visible: bool) -> None:
        self.overlay_visible = bool(visible)
        self.display_changed.emit()

    def set_label_visible(self, label: int, visible: bool) -> None:
        (self.hidden.discard if visible else self.hidden.add)(int(label))
        self.display_changed.emit()

    def alpha_table(self) -> np.ndarray | None:
        """Per-label overlay opacity (256,), or None when the overlay is off."""
        if not self.overlay_visible or self.opacity <= 0:
            return None
        alpha = np.full(256, self.opacity, np.float32)
        alpha[0] = 0.0
        for label in self.hidden:
            if 0 <= label < 256:
                alpha[label] = 0.0
        return alpha
