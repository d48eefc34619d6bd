"""The status-bar progress display of the running job, with its Cancel button."""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QWidget

from .workers import Job


class JobBar(QWidget):
    """Shows the title, message and progress of one :class:`Job`; hidden when idle."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("jobBar")
        self.label = QLabel()
        self.bar = QProgressBar()
        self.bar.setRange(0, 1000)
        self.bar.setFixedWidth(220)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop this job at its next step (Esc)")
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.label)
        lay.addWidget(self.bar)
        lay.addWidget(self.cancel_button)
        self.cancel_button.clicked.connect(self.cancel)
        self.job: Job | None = None
        self.setVisible(False)

    def watch(self, job: Job) -> None:
        self.job = job
        self.label.setText(job.title)
        self.bar.setValue(0)
        self.cancel_button.setEnabled(True)
        job.signals.progress.connect(self._on_progress)
        job.signals.ended.connect(lambda j=job: self._on_ended(j))
        self.setVisible(True)

    def cancel(self) -> None:
        if self.job is not None:
            self.job.cancel()
            self.cancel_button.setEnabled(False)
            self.label.setText(f"{self.job.title}: cancelling…")

    def _on_progress(self, done: float, total: float, message: str) -> None:
        if self.job is None or self.sender() is not self.job.signals:
            return
        if total > 0:
            self.bar.setValue(int(round(1000 * min(max(done / total, 0.0), 1.0))))
        if self.job is not None and self.cancel_button.isEnabled():
            self.label.setText(f"{self.job.title}: {message}" if message else self.job.title)

    def _on_ended(self, job: Job) -> None:
        if self.job is job:  # a follow-up job may already be shown
            self.job = None
            self.setVisible(False)
