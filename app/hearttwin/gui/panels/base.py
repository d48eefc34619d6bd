"""The base of a workflow panel: one step of Data -> Segment -> ... -> Report."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget


class WorkflowPanel(QWidget):
    """One workflow step's controls, shown beside the views.

    Subclasses set ``key`` and ``title`` and build their widgets in
    ``__init__``. ``window`` is the :class:`~hearttwin.gui.main_window.MainWindow`:
    it gives ``session`` (the case), ``state`` (what the views show),
    ``views`` and ``run_job(title, fn, *args, on_done=..., **kwargs)``.
    """

    key = ""
    title = ""
    #: one line shown under the title
    hint = ""

    def __init__(self, window, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.window = window
        self.setObjectName(f"{self.key}Panel")
        self.layout_ = QVBoxLayout(self)
        heading = QLabel(f"<b>{self.title}</b>")
        self.layout_.addWidget(heading)
        if self.hint:
            hint = QLabel(self.hint)
            hint.setWordWrap(True)
            self.layout_.addWidget(hint)

    def available(self) -> bool:
        """Whether the step can be used now (e.g. Segment needs an image)."""
        return True

    def activated(self) -> None:
        """Called when the user switches to this step."""


class PlaceholderPanel(WorkflowPanel):
    """A step that is not built yet: says what it will do."""

    coming = ""

    def __init__(self, window, parent: QWidget | None = None) -> None:
        super().__init__(window, parent)
        note = QLabel(f"Coming: {self.coming}")
        note.setWordWrap(True)
        note.setObjectName("comingNote")
        self.layout_.addWidget(note)
        self.layout_.addStretch(1)
