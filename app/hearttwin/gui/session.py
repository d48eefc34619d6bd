"""The Session: what the open window is working on, shared by every panel and view.

It holds the :class:`~hearttwin.core.case.Case` (image, labels,
measurements, devices, simulation, history), the last scan of the opened
path, the surfaces derived from the labels, and the ``QUndoStack`` of label
edits. Panels change it through its methods; views listen to its signals.
Computation stays in core; the Session only stores results and announces
changes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoStack

from ..core.case import Case
from ..core.case_image import image_ref_for
from ..core.segmentation import labels as label_table

if TYPE_CHECKING:  # the scanner imports pydicom: the window does not need it to start
    from ..core.imaging import ScanResult, SeriesInfo, Volume


class Session(QObject):
    """The current case and its derived display data.

    Signals
    -------
    scan_changed : the series list of a newly opened path is available
    image_changed : a new CT volume was loaded (labels and surfaces were reset)
    labels_changed : the label map was replaced or edited in place
    surfaces_changed : the 3D surfaces were recomputed (or cleared)
    case_replaced : a whole case was opened, recovered or started afresh
    measurements_changed : the measurements were (re)computed
    device_changed : the placed device (or its 3D model) changed
    simulation_changed : the plan over the cycle was (re)computed
    """

    scan_changed = Signal()
    image_changed = Signal()
    labels_changed = Signal()
    surfaces_changed = Signal()
    case_replaced = Signal()
    measurements_changed = Signal()
    device_changed = Signal()
    simulation_changed = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.case: Case | None = None
        self.source: str | None = None
        self.scan: ScanResult | None = None
        #: {label: vtkPolyData} for the current labels (may be stale after edits)
        self.surfaces: dict = {}
        self.surfaces_stale = False
        #: warnings of the last segmentation, shown in the Segment panel
        self.segmentation_warnings: list[str] = []
        #: the placed device's surface (vtkPolyData, LPS) shown in the 3D view, or None
        self.device_poly = None
        self.undo_stack = QUndoStack(self)
        self.undo_stack.setUndoLimit(100)

    # -- reading -------------------------------------------------------------------------
    @property
    def volume(self) -> Volume | None:
        return self.case.image if self.case is not None else None

    @property
    def labels(self) -> Volume | None:
        return self.case.labels if self.case is not None else None

    @staticmethod
    def structures():
        """The heart structures (label, key, name, colour) from resources/labels.json."""
        return label_table.structures()

    def label_volumes_ml(self) -> dict[int, float]:
        """Volume in mL of each of the 7 structures in the current labels (0 without labels)."""
        out = {s.label: 0.0 for s in self.structures()}
        if self.labels is None:
            return out
        stats = label_table.label_volumes_ml(self.labels.array, self.labels.spacing)
        return {entry["label"]: entry["volume_ml"] for entry in stats.values()}

    # -- changing ------------------------------------------------------------------------
    def set_scan(self, source: str, result: ScanResult) -> None:
        self.source, self.scan = str(source), result
        self.scan_changed.emit()

    def set_image(self, volume: Volume, info: SeriesInfo | None = None, phase: int = 0) -> None:
        """Start a new case on ``volume`` (the series ``info`` of the scanned source)."""
        ref = image_ref_for(self.source, info, phase) if (info is not None and self.source) else None
        case = Case(image_ref=ref, image=volume)
        if info is not None:
            case.history.append("open_image", {"series": info.label, "phase": phase, "source": info.source,
                                               "size": list(info.size), "spacing_mm": list(info.spacing_mm)})
        self.set_case(case)

    def set_case(self, case: Case | None) -> None:
        """Replace the whole case (new image, opened or recovered case file)."""
        self.case = case
        self.surfaces, self.surfaces_stale = {}, case is not None and case.labels is not None
        self.segmentation_warnings = []
        self.device_poly = None
        self.undo_stack.clear()
        self.case_replaced.emit()
        self.image_changed.emit()
        self.labels_changed.emit()
        self.surfaces_changed.emit()
        self.measurements_changed.emit()
        self.device_changed.emit()
        self.simulation_changed.emit()

    def set_labels(self, labels: Volume | None, *, step: str | None = None, params: dict | None = None,
                   warnings: list[str] | None = None) -> None:
        """Replace the label map (e.g. a segmentation result); clears undo history and surfaces."""
        if self.case is None:
            return
        if labels is not None and labels.array.shape != self.case.image.array.shape:
            raise ValueError("the label map must be on the image grid")
        self.case.set_labels(labels, step=step, params=params)
        self.segmentation_warnings = list(warnings or [])
        self.undo_stack.clear()
        self.surfaces, self.surfaces_stale = {}, labels is not None
        self.labels_changed.emit()
        self.surfaces_changed.emit()

    def labels_edited(self) -> None:
        """Call after changing ``labels.array`` in place (brush, undo, redo)."""
        if self.case is not None:
            self.case.touch("labels")
        self.surfaces_stale = bool(self.surfaces) or self.surfaces_stale
        self.labels_changed.emit()

    def set_surfaces(self, surfaces: dict) -> None:
        self.surfaces = dict(surfaces)
        self.surfaces_stale = False
        self.surfaces_changed.emit()

    def set_measurements(self, measurements: dict) -> None:
        """Store the measurements of :func:`hearttwin.core.anatomy.measure_all` in the case."""
        if self.case is not None:
            self.case.set_measurements(measurements)
            self.measurements_changed.emit()

    def set_device(self, device_id: str, size, pose, *, step: str = "move_device", poly=None) -> None:
        """Place (first time) or move the case's device; ``poly`` is its surface for the 3D view."""
        if self.case is None:
            return
        size = str(size)
        current = self.case.devices[-1] if self.case.devices else None
        if current is None or current["id"] != device_id or str(current["size"]) != size:
            self.case.devices.clear()
            self.case.place_device(device_id, size, pose)
        else:
            self.case.update_device(len(self.case.devices) - 1, step=step, pose_lps=pose)
        self.device_poly = poly
        self.device_changed.emit()

    def show_device(self, poly) -> None:
        """Show the device surface ``poly`` without changing the case (e.g. a restored plan)."""
        self.device_poly = poly
        self.device_changed.emit()

    def set_plan(self, params: dict, plan: dict) -> None:
        """Store the plan over the cycle (the report reads ``simulation.results.plan``)."""
        if self.case is not None:
            self.case.set_simulation(params, {"plan": plan})
            self.simulation_changed.emit()
