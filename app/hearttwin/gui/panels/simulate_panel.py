"""The Simulate step: the device fit over the cardiac cycle, and the circulation before/after."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QFormLayout, QHBoxLayout, QHeaderView, QLabel,
                               QPushButton, QSlider, QSpinBox, QTableWidget, QTableWidgetItem)

from ...core.simulation.cycle import plan_cycle
from ..plan_jobs import same_device
from .base import WorkflowPanel
from .phase_plot import PhasePlot
from .verdict_table import VerdictTable

#: (key of haemodynamics["change"], row title)
CHANGE_ROWS = (("mean_gradient_mmhg", "Mean gradient (mmHg)"), ("regurgitant_volume_ml", "Regurgitant volume (mL)"),
               ("cardiac_output_l_min", "Cardiac output (L/min)"), ("lvot_gradient_peak_mmhg", "LVOT peak gradient (mmHg)"),
               ("qp_qs", "Qp:Qs"))


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
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setObjectName("phaseSlider")
        self.slider.setToolTip("Show one phase's metrics")
        self.layout_.addWidget(self.slider)
        self.phase_label = QLabel()
        self.phase_label.setWordWrap(True)
        self.layout_.addWidget(self.phase_label)
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

        self.run_button.clicked.connect(self.run)
        self.metric_combo.currentIndexChanged.connect(self._plot)
        self.slider.valueChanged.connect(self._show_phase)
        window.session.simulation_changed.connect(self._from_case)
        window.session.device_changed.connect(self._show_overall)

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
        return self.window.run_job(
            "Simulating the cycle", plan_cycle, session.labels, image=session.volume,
            measurements=case.measurements or None, pose=device["pose_lps"], isolate=self.isolate,
            on_done=lambda result: session.set_plan(params, result), **params)

    # -- showing -----------------------------------------------------------------------------
    def _from_case(self) -> None:
        case = self.window.session.case
        self.set_plan(((case.simulation.get("results") or {}).get("plan")) if case is not None else None)

    def set_plan(self, result: dict | None) -> None:
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
            self.phase_label.setText("")
            return
        self._show_overall()
        self.verdict_table.fill({}, self.plan.get("verdicts", []), only_rules=True)
        self._fill_change((self.plan.get("haemodynamics") or {}).get("change") or {})
        self._plot()
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
        self.plot.set_data([r["phase"] for r in rows], [r["metrics"].get(metric) for r in rows],
                           self.worst_index(metric), metric.replace("_", " "))

    def _show_phase(self, index: int) -> None:
        if not self.plan or not 0 <= index < len(self.plan["phases"]):
            return
        row = self.plan["phases"][index]
        rules = [v["rule"] for v in self.plan.get("verdicts", [])]
        shown = [f"{k.replace('_', ' ')} {row['metrics'][k]:g}" for k in rules
                 if isinstance(row["metrics"].get(k), (int, float))]
        self.phase_label.setText(f"Phase {row['phase']:.2f}: " + "; ".join(shown))
        self.plot.set_current(index)

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
