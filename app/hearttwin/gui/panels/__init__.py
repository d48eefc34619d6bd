"""Workflow panels, one per step, in sidebar order.

To add a step, write a :class:`~.base.WorkflowPanel` subclass (``key``,
``title``) in its own module and put it in :data:`STEPS`; the main window
builds the sidebar, the stacked panels and the Ctrl+1..9 shortcuts from it.
"""

from .base import PlaceholderPanel, WorkflowPanel
from .data_panel import DataPanel
from .placeholders import DevicePanel, ModelPanel, ReportPanel, SimulatePanel
from .segment_panel import SegmentPanel

STEPS = (DataPanel, SegmentPanel, ModelPanel, DevicePanel, SimulatePanel, ReportPanel)

__all__ = ["STEPS", "WorkflowPanel", "PlaceholderPanel", "DataPanel", "SegmentPanel"]
