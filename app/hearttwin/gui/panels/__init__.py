"""Workflow panels, one per step, in sidebar order.

To add a step, write a :class:`~.base.WorkflowPanel` subclass (``key``,
``title``) in its own module and put it in :data:`STEPS`; the main window
builds the sidebar, the stacked panels and the Ctrl+1..9 shortcuts from it.
"""

from .base import PlaceholderPanel, WorkflowPanel
from .data_panel import DataPanel
from .device_panel import DevicePanel
from .model_panel import ModelPanel
from .report_panel import ReportPanel
from .segment_panel import SegmentPanel
from .simulate_panel import SimulatePanel

STEPS = (DataPanel, SegmentPanel, ModelPanel, DevicePanel, SimulatePanel, ReportPanel)

__all__ = ["STEPS", "WorkflowPanel", "PlaceholderPanel", "DataPanel", "SegmentPanel", "ModelPanel",
           "DevicePanel", "SimulatePanel", "ReportPanel"]
