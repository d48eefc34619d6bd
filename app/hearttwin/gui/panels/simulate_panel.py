"""The Simulate step: the device fit over the cardiac cycle, the beating heart, and the
circulation before/after.

The cycle job (:func:`hearttwin.gui.plan_jobs.simulate_cycle`, in the child
process) also returns every phase's point positions of the 3D view's
surfaces and of the device; playing the animation then only swaps point
arrays in the 3D view (:meth:`~hearttwin.gui.view3d.View3D.set_surface_points`)
on a timer, and the phase scrubber shows any one phase. A plan reopened from
a case file gets its frames from a shorter job on the first Play.

The pressure-volume loops of the left (or right) ventricle before and after
the device come from the plan's haemodynamics (``before``/``after``
``pv_loops`` of the 0D model); for a device that does not change the
circulation, the job adds the native loops (``native_pv_loops``). The loop
point at the scrubber's phase is marked.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QFormLayout, QHBoxLayout, QHeaderView, QLabel,
                               QPushButton, QSpinBox, QTableWidget, QTableWidgetItem)

from .. import plan_jobs
from ..plan_jobs import same_device
from ..view3d import moved_copy, surface_points
from .base import WorkflowPanel
from .phase_plot import PhasePlot, PhaseScrubber
from .pv_loop import PVLoopPlot
from .verdict_table import VerdictTable

#: animation frame interval (ms): about 15 frames a second
FRAME_MS = 66

#: (key of haemodynamics["change"], row title)
CHANGE_ROWS = (("mean_gradient_mmhg", "Mean gradient (mmHg)"), ("regurgitant_volume_ml", "Regurgitant volume (mL)"),
               ("cardiac_output_l_min", "Cardiac output (L/min)"), ("lvot_gradient_peak_mmhg", "LVOT peak gradient (mmHg)"),
               ("qp_qs", "Qp:Qs"))
#: (key of a plan's pv_loops, name in the chamber list)
PV_CHAMBERS = (("lv", "Left ventricle"), ("rv", "Right ventricle"))


def plan_loops(plan: dict | None, chamber: str = "lv") -> tuple[dict | None, dict | None, str, str]:
    """``(before, after, after_label, note)``: the pressure-volume loops of ``chamber`` in a plan.

    ``before``/``after`` are ``{"phase", "volume_ml", "pressure_mmhg"}`` (None when the
    plan has none; ``note`` then says why).
    """
    h = (plan or {}).get("haemodynamics") or {}
    before, after = h.get("before"), h.get("after")
    if isinstance(before, dict) and isinstance(after, dict) and "pv_loops" in before and "pv_loops" in after:
        return before["pv_loops"].get(chamber), after["pv_loops"].get(chamber), "After (device)", ""
    native = (h.get("native_pv_loops") or {}).get(chamber)
    if native is not None:
        return native, native, "After (no change by this device)", ""
    return None, None, "", "No pressure-volume loops in this plan: simulate the cycle again."


class SimulatePanel(WorkflowPanel):
    """Vitals, the number of phases, the per-phase plot and the verdicts over the cycle."""

    key, title = "simulate", "Simulate"
    hint = "Check the placed device at every phase of the beating heart, and the circulation before/after."
    isolate = True

    def __init__(self, window, parent=None) -> None:
        super().__init__(window, parent)
        self.plan: dict | None = None
        form = QFormLayout()
        self.heart_rate = _spin(30, 200, 70, " bpm")
        self.systolic = _spin(60, 250, 120, " mmHg")
        self.diastolic = _spin(30, 150, 80, " mmHg")
        self.n_phases = _spin(2, 100, 20, "")
        self.n_phases.setObjectName("phaseCount")
        form.addRow("Heart rate", self.heart_rate)
        form.addRow("Cuff systolic", self.systolic)
        form.addRow("Cuff diastolic", self.diastolic)
        form.addRow("Phases", self.n_phases)
        self.layout_.addLayout(form)
        self.run_button = QPushButton("Simulate the cycle")
        self.run_button.setObjectName("simulateButton")
        self.layout_.addWidget(self.run_button)
        self.overall = QLabel()
        self.layout_.addWidget(self.overall)

        row = QHBoxLayout()
        row.addWidget(QLabel("Plot"))
        self.metric_combo = QComboBox()
        self.metric_combo.setObjectName("plotMetric")
        row.addWidget(self.metric_combo, 1)
        self.layout_.addLayout(row)
        self.plot = PhasePlot()
        self.plot.setObjectName("phasePlot")
        self.layout_.addWidget(self.plot, 1)
        row = QHBoxLayout()
        self.play_button = QPushButton("Play")
        self.play_button.setObjectName("playButton")
        self.play_button.setCheckable(True)
        self.play_button.setToolTip("Play or pause the beating heart in the 3D view")
        row.addWidget(self.play_button)
        self.slider = PhaseScrubber()
        self.slider.setObjectName("phaseSlider")
        self.slider.setToolTip("Scrub through the cycle: the phase's metrics, and the heart and device "
                               "at that phase in 3D (red mark: the worst phase of the plotted metric)")
        row.addWidget(self.slider, 1)
        self.layout_.addLayout(row)
        self.phase_label = QLabel()
        self.phase_label.setWordWrap(True)
        self.layout_.addWidget(self.phase_label)
        row = QHBoxLayout()
        row.addWidget(QLabel("Pressure-volume loop"))
        self.pv_chamber = QComboBox()
        self.pv_chamber.setObjectName("pvChamber")
        for key, name in PV_CHAMBERS:
            self.pv_chamber.addItem(name, key)
        row.addWidget(self.pv_chamber, 1)
        self.layout_.addLayout(row)
        self.pv_plot = PVLoopPlot()
        self.pv_plot.setObjectName("pvLoop")
        self.pv_plot.setToolTip("The ventricle's pressure-volume loop over one beat in the 0D circulation: "
                                "before the device (dashed grey) and with it (orange); the dots are the "
                                "scrubber's phase")
        self.layout_.addWidget(self.pv_plot, 1)
        self.verdict_table = VerdictTable()
        self.verdict_table.setObjectName("cycleVerdicts")
        self.layout_.addWidget(self.verdict_table, 1)
        self.change_table = QTableWidget(0, 3)
        self.change_table.setObjectName("beforeAfter")
        self.change_table.setHorizontalHeaderLabels(("Circulation", "Before", "After"))
        self.change_table.verticalHeader().setVisible(False)
        self.change_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.change_table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.layout_.addWidget(self.change_table)

        #: the animation: {"phases", "surfaces": {label: (P, N, 3)}, "device": (P, M, 3) | None}
        self.frames: dict | None = None
        self._frames_for = None  # the scene (surfaces, device) the frames were computed for
        self._phase_polys: list[dict] = []  # per phase {label: vtkPolyData} for the 3D view
        self._retired: list[dict] = []
        self.timer = QTimer(self)
        self.timer.setInterval(FRAME_MS)
        self.timer.timeout.connect(self._tick)

        self.run_button.clicked.connect(lambda _checked=False: self.run())
        self.play_button.toggled.connect(self._on_play)
        self.metric_combo.currentIndexChanged.connect(self._plot)
        self.pv_chamber.currentIndexChanged.connect(self._plot_loops)
        self.slider.valueChanged.connect(self._show_phase)
        window.session.simulation_changed.connect(self._from_case)
        window.session.device_changed.connect(self._show_overall)
        window.session.device_changed.connect(self._scene_changed)
        window.session.surfaces_changed.connect(self._scene_changed)

    def available(self) -> bool:
        case = self.window.session.case
        return case is not None and bool(case.devices)

    def run(self):
        session = self.window.session
        case = session.case
        if case is None or not case.devices or session.labels is None:
            self.window.statusBar().showMessage("Place a device first (Device step).", 5000)
            return None
        device = case.devices[-1]
        params = {"device_id": device["id"], "size": device["size"], "n_phases": self.n_phases.value(),
                  "heart_rate_bpm": self.heart_rate.value(), "systolic": self.systolic.value(),
                  "diastolic": self.diastolic.value()}
        surface_points, device_points, scene = self._scene_points()
        self.stop()
        return self.window.run_job(
            "Simulating the cycle", plan_jobs.simulate_cycle, session.labels, image=session.volume,
            measurements=case.measurements or None, pose=device["pose_lps"], surface_points=surface_points,
            device_points=device_points, isolate=self.isolate,
            on_done=lambda result: self._simulated(params, result, scene), **params)

    def _simulated(self, params: dict, result, scene) -> None:
        plan, frames = result
        self.window.session.set_plan(params, plan)  # shows the plan (and forgets older frames)
        self._set_frames(frames, scene)

    # -- the beating heart -------------------------------------------------------------------
    def _scene_points(self):
        """Point arrays of the 3D view's surfaces and of the device now, and a key of that scene."""
        session = self.window.session
        surfaces = {label: surface_points(poly) for label, poly in session.surfaces.items()
                    if poly.GetNumberOfPoints()}
        dev = session.device_poly
        device = None if dev is None else surface_points(dev)
        return surfaces, device, self._current_scene()

    def _current_scene(self):
        session = self.window.session
        return (tuple((label, id(poly)) for label, poly in session.surfaces.items()), id(session.device_poly))

    def frames_current(self) -> bool:
        """Whether the animation frames belong to the shown plan and the 3D scene as it is now."""
        return (self.frames is not None and self.plan is not None
                and len(self.frames["phases"]) == len(self.plan["phases"])
                and self._frames_for == self._current_scene())

    def _set_frames(self, frames: dict, scene) -> None:
        """Keep the frames, as surfaces the 3D view can draw (built here, once)."""
        from ..main_window import DEVICE_KEY

        self._forget_frames()
        self.frames, self._frames_for = frames, scene
        if not self.frames_current():
            return
        session = self.window.session
        given = dict(session.surfaces)
        moving = dict(frames["surfaces"])
        if frames.get("device") is not None and session.device_poly is not None:
            given[DEVICE_KEY], moving[DEVICE_KEY] = session.device_poly, frames["device"]
        pairs = [(label, given[label], arr) for label, arr in moving.items()
                 if label in given and arr.shape[1] == given[label].GetNumberOfPoints()]
        self._phase_polys = [{label: moved_copy(poly, arr[k]) for label, poly, arr in pairs}
                             for k in range(len(frames["phases"]))]
        self._show_frame(self.slider.value())

    def _scene_changed(self) -> None:
        if self.frames is not None and self._frames_for != self._current_scene():
            self._forget_frames()

    def make_frames(self):
        """Compute the animation frames of the shown plan in the background (a reopened case)."""
        session, case = self.window.session, self.window.session.case
        if not self.plan or case is None or session.labels is None:
            return None
        surface_points, device_points, scene = self._scene_points()
        params = dict(case.simulation.get("params") or {})
        pose = case.devices[-1]["pose_lps"] if case.devices else None
        return self.window.run_job(
            "Preparing the beating heart", plan_jobs.animation_frames, session.labels,
            measurements=case.measurements or None, n_phases=len(self.plan["phases"]),
            surface_points=surface_points, device_points=device_points if pose is not None else None,
            pose=pose, heart_rate_bpm=params.get("heart_rate_bpm"), systolic=params.get("systolic"),
            diastolic=params.get("diastolic"), isolate=self.isolate,
            on_done=lambda frames: self._frames_made(frames, scene))

    def _frames_made(self, frames: dict, scene) -> None:
        wanted = self.play_button.isChecked()  # Play was pressed for these frames
        self._set_frames(frames, scene)
        if wanted and self.frames_current():
            self.play()

    def play(self) -> None:
        """Start the beating heart (computing its frames first when needed)."""
        self.play_button.setChecked(True)

    def pause(self) -> None:
        """Stop at the phase shown."""
        self.play_button.setChecked(False)

    def stop(self) -> None:
        """Stop and show the heart at the CT phase again."""
        self.pause()
        self.window.views.view3d.set_surface_points(None)

    def deactivated(self) -> None:
        """Leaving the Simulate step: the other steps work on the CT phase."""
        self.stop()

    def _on_play(self, on: bool) -> None:
        self.play_button.setText("Pause" if on else "Play")
        if not on:
            self.timer.stop()
            return
        if not self.plan:
            self.window.statusBar().showMessage("Simulate the cycle first.", 5000)
            self.pause()
        elif self.frames_current():
            self.timer.start()
        elif self.make_frames() is None:
            self.pause()

    def _tick(self) -> None:
        if not self.frames_current():
            self.pause()
            return
        self.slider.setValue((self.slider.value() + 1) % len(self.plan["phases"]))

    def _forget_frames(self) -> None:
        """Stop and drop the frames; their surfaces stay referenced until the next time, as the
        render thread may draw them until it gets the stop (VTK objects must not be freed
        from the GUI thread while in use there)."""
        self.stop()
        if self._phase_polys:
            self._retired = self._phase_polys
        self.frames, self._phase_polys = None, []

    def _show_frame(self, index: int) -> None:
        if 0 <= index < len(self._phase_polys):
            self.window.views.view3d.set_surface_points(self._phase_polys[index])

    # -- showing -----------------------------------------------------------------------------
    def _from_case(self) -> None:
        case = self.window.session.case
        self.set_plan(((case.simulation.get("results") or {}).get("plan")) if case is not None else None)

    def set_plan(self, result: dict | None) -> None:
        if self.plan is not result:  # a new plan: older frames no longer apply
            self._forget_frames()
        self.plan = result if result and result.get("phases") else None
        phases = self.plan["phases"] if self.plan else []
        names = list(phases[0]["metrics"]) if phases else []
        current = self.metric_combo.currentText()
        self.metric_combo.blockSignals(True)
        self.metric_combo.clear()
        self.metric_combo.addItems(names)
        rules = [v["rule"] for v in (self.plan or {}).get("verdicts", [])]
        pick = current if current in names else next((r for r in rules if r in names), names[0] if names else "")
        self.metric_combo.setCurrentText(pick)
        self.metric_combo.blockSignals(False)
        self.slider.setRange(0, max(0, len(phases) - 1))
        if not self.plan:
            self.overall.setText("")
            self.verdict_table.setRowCount(0)
            self.change_table.setRowCount(0)
            self.plot.set_data([], [])
            self._plot_loops()
            self.slider.set_worst(None)
            self.phase_label.setText("")
            return
        self._show_overall()
        self.verdict_table.fill({}, self.plan.get("verdicts", []), only_rules=True)
        self._fill_change((self.plan.get("haemodynamics") or {}).get("change") or {})
        self._plot()
        self._plot_loops()
        self._show_phase(self.slider.value())

    def _show_overall(self) -> None:
        if not self.plan:
            return
        case = self.window.session.case
        moved = case is not None and case.devices and not same_device(self.plan, case.devices[-1])
        self.overall.setText(f"Overall over the cycle: <b>{self.plan['overall'].upper()}</b>"
                             + (" <i>(the device has moved since: simulate again)</i>" if moved else ""))

    def worst_index(self, metric: str) -> int | None:
        worst = (self.plan or {}).get("worst", {}).get(metric)
        if not isinstance(worst, dict) or "phase" not in worst:
            return None
        phases = [row["phase"] for row in self.plan["phases"]]
        return min(range(len(phases)), key=lambda i: abs(phases[i] - worst["phase"]))

    def _plot(self) -> None:
        metric = self.metric_combo.currentText()
        if not self.plan or not metric:
            return
        rows = self.plan["phases"]
        worst = self.worst_index(metric)
        self.plot.set_data([r["phase"] for r in rows], [r["metrics"].get(metric) for r in rows],
                           worst, metric.replace("_", " "))
        self.slider.set_worst(worst)

    def _plot_loops(self) -> None:
        chamber = self.pv_chamber.currentData() or "lv"
        before, after, after_label, note = plan_loops(self.plan, chamber)
        name = self.pv_chamber.currentText().lower()
        self.pv_plot.set_loops(before, after, f"Pressure-volume loop of the {name}", after_label,
                               note if self.plan else "Simulate the cycle to see the loops.")
        index = self.slider.value()
        phases = (self.plan or {}).get("phases") or []
        self.pv_plot.set_phase(phases[index]["phase"] if 0 <= index < len(phases) else None)

    def _show_phase(self, index: int) -> None:
        if not self.plan or not 0 <= index < len(self.plan["phases"]):
            return
        row = self.plan["phases"][index]
        rules = [v["rule"] for v in self.plan.get("verdicts", [])]
        shown = [f"{k.replace('_', ' ')} {row['metrics'][k]:g}" for k in rules
                 if isinstance(row["metrics"].get(k), (int, float))]
        self.phase_label.setText(f"Phase {row['phase']:.2f}: " + "; ".join(shown))
        self.plot.set_current(index)
        self.pv_plot.set_phase(row["phase"])
        if self.frames_current():
            self._show_frame(index)

    def _fill_change(self, change: dict) -> None:
        rows = [(title, change[key]) for key, title in CHANGE_ROWS if isinstance(change.get(key), list)]
        self.change_table.setRowCount(len(rows))
        for r, (title, (before, after)) in enumerate(rows):
            self.change_table.setItem(r, 0, QTableWidgetItem(title))
            for c, v in enumerate((before, after)):
                item = QTableWidgetItem("-" if v is None else f"{v:g}")
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.change_table.setItem(r, c + 1, item)


def _spin(lo: int, hi: int, value: int, suffix: str) -> QSpinBox:
    s = QSpinBox()
    s.setRange(lo, hi)
    s.setValue(value)
    s.setSuffix(suffix)
    return s
