"""The Device step: choose a family and size, place it automatically, then adjust it by keyboard
or by dragging its handle in the 3D view.

Preparing a plan (anchor, size chart, distance field) runs in a worker;
after that each move re-fits in a few milliseconds on the GUI thread, so the
metrics and verdicts follow every key press. The move keys are window
actions (:func:`hearttwin.gui.actions.build_menus`, Workflow > Move device),
enabled while the Device step is shown, so they work whichever view or
control has the keyboard focus. In the 3D view Ctrl+drag moves the device
and Ctrl+Shift+drag turns it (:class:`~hearttwin.gui.device_handle.DeviceHandle`),
through the same :meth:`DevicePanel.set_pose`; the device surface is coloured
by its signed distance to the tissue (:data:`~hearttwin.gui.device_handle.FIT_COLOUR_MAP`).
Every recorded change (a key press, a drag from press to release, a
placement) is one step on the session's undo stack
(:class:`~hearttwin.gui.device_undo.DevicePoseCommand`).
"""

from __future__ import annotations

import time

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QFormLayout, QGridLayout, QLabel, QPushButton

from ...core.devices import geometry, placement, plan
from ...core.devices.catalogue import load_catalogue
from ..device_handle import DeviceHandle, fit_scalars
from ..device_undo import DevicePoseCommand, DeviceState, record_device
from .base import WorkflowPanel
from .verdict_table import VerdictTable

RECOMMENDED = "recommended"
#: the device's outline on the slices
OUTLINE_COLOUR = (0, 230, 255)
#: key -> (what, amount, menu text): translations in mm, tilts and turns in degrees, depth in mm (+ = deeper)
KEYS = {
    Qt.Key.Key_Left: ("move_x", -0.5, "Move along -x (0.5 mm)"),
    Qt.Key.Key_Right: ("move_x", 0.5, "Move along +x (0.5 mm)"),
    Qt.Key.Key_Up: ("move_y", 0.5, "Move along +y (0.5 mm)"),
    Qt.Key.Key_Down: ("move_y", -0.5, "Move along -y (0.5 mm)"),
    Qt.Key.Key_PageDown: ("depth", 1.0, "Deeper (1 mm)"), Qt.Key.Key_PageUp: ("depth", -1.0, "Shallower (1 mm)"),
    Qt.Key.Key_BracketLeft: ("tilt", -1.0, "Tilt - (1°)"), Qt.Key.Key_BracketRight: ("tilt", 1.0, "Tilt + (1°)"),
    Qt.Key.Key_Comma: ("turn", -5.0, "Turn - (5°)"), Qt.Key.Key_Period: ("turn", 5.0, "Turn + (5°)"),
}
HELP = ("Keys (while this step is shown): arrows move the device across the annulus (0.5 mm), "
        "PageDown/PageUp deeper/shallower (1 mm), [ ] tilt (1°), , . turn about its axis (5°). "
        "3D view: Ctrl+drag moves it, Ctrl+Shift+drag turns it; colours show its distance to the "
        "tissue (red pressing in, green apposed, blue gap).")


class DevicePanel(WorkflowPanel):
    """Device family, size, automatic placement, keyboard adjustment and live fit verdicts."""

    key, title = "device", "Device"
    hint = "Choose a device and size, place it automatically, then adjust it: the fit updates live."

    def __init__(self, window, parent=None) -> None:
        super().__init__(window, parent)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.catalogue = load_catalogue()
        self.ctx: plan.PlanContext | None = None
        self.pose: np.ndarray | None = None
        self.metrics: dict = {}
        self.verdicts: list = []
        self._mesh = None  # the device's surface in its own frame (family, size) -> DeviceMesh
        #: (z min, z max, max radius) of the device in its own frame (mm), once prepared
        self.extent: tuple[float, float, float] | None = None
        #: per-vertex distances to tissue of the shown device surface (mm), and their cost (ms)
        self.surface_distances: np.ndarray | None = None
        self.recolour_ms: float | None = None
        #: the device as the case holds it (what undo returns from); drags show poses before they count
        self.committed = DeviceState()
        self.handle = DeviceHandle(self, window.views.view3d)

        form = QFormLayout()
        self.family_combo = QComboBox()
        self.family_combo.setObjectName("deviceFamily")
        for family in self.catalogue.values():
            self.family_combo.addItem(f"{family.family} ({family.id})", family.id)
        self.size_combo = QComboBox()
        self.size_combo.setObjectName("deviceSize")
        form.addRow("Device", self.family_combo)
        form.addRow("Size (mm)", self.size_combo)
        self.layout_.addLayout(form)
        self.place_button = QPushButton("Place automatically")
        self.place_button.setObjectName("placeButton")
        self.place_button.setToolTip("Size from the family's chart (unless chosen) and place it at the anchor")
        self.layout_.addWidget(self.place_button)
        self.reason = QLabel()
        self.reason.setObjectName("sizingReason")
        self.reason.setWordWrap(True)
        self.layout_.addWidget(self.reason)
        self.table = VerdictTable()
        self.table.setObjectName("fitTable")
        self.layout_.addWidget(self.table, 1)
        self.position = QLabel()
        self.layout_.addWidget(self.position)
        grid = QGridLayout()
        for n, (text, key) in enumerate((("Deeper", Qt.Key.Key_PageDown), ("Shallower", Qt.Key.Key_PageUp),
                                         ("Tilt −", Qt.Key.Key_BracketLeft), ("Tilt +", Qt.Key.Key_BracketRight))):
            b = QPushButton(text)
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            b.clicked.connect(lambda _c=False, k=key: self.apply_key(k))
            grid.addWidget(b, n // 2, n % 2)
        self.layout_.addLayout(grid)
        keys = QLabel(HELP)
        keys.setWordWrap(True)
        self.layout_.addWidget(keys)

        self.family_combo.currentIndexChanged.connect(self._fill_sizes)
        self.place_button.clicked.connect(lambda _checked=False: self.place())
        window.session.case_replaced.connect(self._reset)
        self._fill_sizes()

    def _reset(self) -> None:
        """A new case: forget the prepared plan (the case's device is restored by the window)."""
        self.ctx, self.pose, self.metrics, self.verdicts, self._mesh = None, None, {}, [], None
        self.extent, self.surface_distances = None, None
        self.committed = DeviceState()
        self.handle.cancel()
        self.table.fill({}, [])
        self.window.state.set_device(None, None, OUTLINE_COLOUR)
        self.reason.setText("")
        self.position.setText("")

    # -- choosing ----------------------------------------------------------------------------
    def available(self) -> bool:
        return self.window.session.labels is not None

    def activated(self) -> None:
        self.setFocus()  # the move keys work at once
        self.handle.set_active(True)

    def deactivated(self) -> None:
        self.handle.set_active(False)

    @property
    def family(self):
        return self.catalogue[self.family_combo.currentData()]

    def select(self, device_id: str, size=None) -> None:
        self.family_combo.setCurrentIndex(self.family_combo.findData(device_id))
        if size is not None:
            index = self.size_combo.findData(plan.size_label(size))
            self.size_combo.setCurrentIndex(max(0, index))

    def _fill_sizes(self) -> None:
        self.size_combo.clear()
        self.size_combo.addItem("Recommended", RECOMMENDED)
        for s in self.family.sizes:
            self.size_combo.addItem(f"{s.label} (Ø {s.nominal_diameter_mm:g} mm)", s.label)

    # -- placing -----------------------------------------------------------------------------
    def place(self, pose=None, record: bool = True):
        """Prepare the plan in a worker (size, anchor, distance field) and show the fit.

        ``record=False`` (restoring a saved device) leaves the case unchanged.
        """
        session = self.window.session
        if session.labels is None:
            self.window.statusBar().showMessage("Segment the heart first.", 5000)
            return None
        size = self.size_combo.currentData()
        measurements = session.case.measurements or None
        return self.window.run_job(
            "Placing the device", plan.prepare, session.labels, device_id=self.family.id,
            size=None if size == RECOMMENDED else size, image=session.volume, measurements=measurements,
            pose=pose, on_done=lambda ctx: self._prepared(ctx, record))

    def restore(self):
        """Re-prepare the case's saved device at its saved pose (after opening a case)."""
        device = self.window.session.case.devices[-1]
        self.select(device["id"], device["size"])
        return self.place(pose=np.asarray(device["pose_lps"], float), record=False)

    def _prepared(self, ctx, record: bool = True) -> None:
        session = self.window.session
        if not session.case.measurements and ctx.measurements:
            session.set_measurements(ctx.measurements)
        if record:  # one undo step: back to no device, or to the device before
            after = DeviceState.of(ctx, ctx.pose)
            session.undo_stack.push(DevicePoseCommand(self, self.committed, after, "place_device",
                                                      f"Place {ctx.family.family} {plan.size_label(ctx.size)}"))
        else:
            self._use_plan(ctx)
            self.set_pose(ctx.pose, record=False)
            self.committed = DeviceState.of(ctx, ctx.pose)
        if session.labels is not None and (session.surfaces_stale or not session.surfaces):
            self.window.update_surfaces()
        self.setFocus()

    def _use_plan(self, ctx) -> None:
        """Make ``ctx`` (a prepared plan, or None) the panel's: its device surface, extent and sizing."""
        if ctx is self.ctx and (ctx is None or self._mesh is not None):
            return
        self.ctx = ctx
        if ctx is None:
            self._mesh, self.extent = None, None
            self.reason.setText("")
            return
        self._mesh = geometry.surface(ctx.family, ctx.size)
        pts = self._mesh.points
        self.extent = (float(pts[:, 2].min()), float(pts[:, 2].max()),
                       float(np.hypot(pts[:, 0], pts[:, 1]).max()))
        rec = ctx.recommendation
        self.reason.setText(f"Recommended size: {plan.size_label(rec.size)} mm - {rec.reason}"
                            if rec.size is not None else f"No size fits the chart: {rec.reason}")

    def set_pose(self, pose, step: str = "move_device", record: bool = True, text: str = "Move device") -> None:
        """Fit at ``pose`` (GUI thread, a few ms); update the table and the 3D model.

        ``record=True`` makes it one undoable change of the case (``step`` in
        its history, ``text`` in the Edit menu); ``record=False`` only shows
        it (a drag in progress, a restored device).
        """
        if record:
            self.window.session.undo_stack.push(
                DevicePoseCommand(self, self.committed, DeviceState.of(self.ctx, pose), step, text))
        else:
            self.window.session.show_device(self._fit(pose))

    def apply_state(self, state: DeviceState, step: str) -> None:
        """Show ``state`` (undo/redo) through the same live fit, and make it the case's device."""
        self.handle.cancel()
        self._use_plan(state.ctx)
        self.committed = state
        if not state.placed:
            self.pose, self.metrics, self.verdicts, self.surface_distances = None, {}, [], None
            self.table.fill({}, [])
            self.position.setText("")
            self.window.state.set_device(None, None, OUTLINE_COLOUR)
            record_device(self.window.session, state, step)
            return
        poly = self._fit(state.pose)
        record_device(self.window.session, state, step, poly)

    def _fit(self, pose):
        """Fit at ``pose``: metrics, verdicts, table, slice outline; returns the coloured surface."""
        ctx = self.ctx
        self.pose = np.array(pose, dtype=float, copy=True)
        self.metrics, _ = plan.fit_metrics(ctx, pose=self.pose)
        self.verdicts = plan.verdicts(ctx.family, self.metrics)
        self.table.fill(self.metrics, self.verdicts)
        depth = placement.depth(self.pose, ctx.family, ctx.size, ctx.anchor)
        angle = placement.axis_angle_deg(self.pose, ctx.anchor)
        self.position.setText(f"Depth {depth:.1f} mm, axis {angle:.1f}° off the {ctx.anchor.name} axis; "
                              f"overall: {plan.overall(self.verdicts).upper()}")
        moved = self._mesh.transformed(self.pose)
        self.window.state.set_device(moved.points, moved.triangles, OUTLINE_COLOUR)
        poly = moved.to_polydata()
        start = time.perf_counter()
        self.surface_distances = ctx.field.sample(moved.points)  # > 0 gap, < 0 pressing into tissue
        fit_scalars(poly, self.surface_distances)
        self.recolour_ms = 1000.0 * (time.perf_counter() - start)
        return poly

    # -- moving ------------------------------------------------------------------------------
    def apply_key(self, key) -> bool:
        """Move the placed device for ``key`` (see :data:`KEYS`); False when the key is not ours."""
        if self.ctx is None or self.pose is None or key not in KEYS:
            return False
        what, amount, text = KEYS[key]
        ctx, pose = self.ctx, self.pose
        if what == "depth":
            now = placement.depth(pose, ctx.family, ctx.size, ctx.anchor)
            pose = placement.set_depth(pose, ctx.family, ctx.size, ctx.anchor, now + amount)
        elif what == "move_x":
            pose = placement.move(pose, amount * pose[:3, 0])
        elif what == "move_y":
            pose = placement.move(pose, amount * pose[:3, 1])
        elif what == "tilt":
            pose = placement.tilt(pose, amount, about_lps=ctx.anchor.centre)
        else:
            pose = placement.rotate(pose, pose[:3, 2], amount)
        self.set_pose(pose, text=f"Device: {text}")
        return True

    def key_action(self, key) -> None:
        """A move shortcut was pressed (window action): move, or say why not."""
        if not self.apply_key(key):
            self.window.statusBar().showMessage("Place the device first (Place automatically).", 4000)
