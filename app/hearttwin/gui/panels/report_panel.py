"""The Report step: write the plan report (HTML or PDF) of the case and preview it."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QCheckBox, QFileDialog, QFormLayout, QLineEdit, QPushButton, QTextBrowser

from ..plan_jobs import same_device, write_case_report
from .base import WorkflowPanel


class ReportPanel(WorkflowPanel):
    """Options, the Write button and a preview of the written HTML."""

    key, title = "report", "Report"
    hint = ("The plan report: case, measurements with ranges, device and sizing rationale, fit over "
            "the cycle, 3D views, verdicts and limitations. Renders run in the background.")
    isolate = True

    def __init__(self, window, parent=None) -> None:
        super().__init__(window, parent)
        form = QFormLayout()
        self.case_label = QLineEdit()
        self.case_label.setPlaceholderText("e.g. TAVI planning, case 12")
        self.anonymise = QCheckBox("Leave out patient identifiers")
        form.addRow("Case name", self.case_label)
        form.addRow("", self.anonymise)
        self.layout_.addLayout(form)
        self.write_button = QPushButton("Write report…")
        self.write_button.setObjectName("writeReportButton")
        self.layout_.addWidget(self.write_button)
        self.preview = QTextBrowser()
        self.preview.setObjectName("reportPreview")
        self.preview.setOpenExternalLinks(True)
        self.layout_.addWidget(self.preview, 1)
        self.last_path: str | None = None
        self.write_button.clicked.connect(self.write_dialog)

    def available(self) -> bool:
        case = self.window.session.case
        return case is not None and bool(case.devices)

    def write_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Write the report", str(Path.home() / "plan.html"),
                                              "HTML report (*.html);;PDF report (*.pdf)")
        if path:
            self.write(path)

    def write(self, path):
        """Write the report to ``path`` (.html or .pdf) in the child process."""
        session = self.window.session
        case = session.case
        if case is None or session.labels is None:
            self.window.statusBar().showMessage("Segment the heart and place a device first.", 5000)
            return None
        plan = (case.simulation.get("results") or {}).get("plan")
        device = case.devices[-1] if case.devices else None
        if plan is not None and device is not None and not same_device(plan, device):
            plan = None  # the device moved since the simulation: report the current placement
        measurements = case.measurements or {}
        warnings = list(case.warnings) + list(measurements.get("warnings") or [])
        ref = case.image_ref
        source = ref.path_absolute if ref is not None and ref.kind == "dicom" else None
        return self.window.run_job(
            "Writing the report", write_case_report, labels=session.labels, image=session.volume, plan=plan,
            device=device, measurements=measurements, history=case.history.to_list(), warnings=warnings,
            path=str(path), anonymise=self.anonymise.isChecked(), case_label=self.case_label.text().strip(),
            source=source, isolate=self.isolate, on_done=self._written)

    def _written(self, path: str) -> None:
        self.last_path = path
        case = self.window.session.case
        if case is not None:
            case.record("write_report", {"path": Path(path).name, "anonymised": self.anonymise.isChecked()})
            self.window.update_title()
        if path.lower().endswith(".html"):
            self.preview.setHtml(Path(path).read_text(encoding="utf-8"))
        else:
            self.preview.setPlainText(f"PDF written: {path}")
        self.window.statusBar().showMessage(f"Report written: {path}", 8000)

