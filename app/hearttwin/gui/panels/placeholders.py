"""Steps whose panels are not built yet (a short note of what is coming)."""

from __future__ import annotations

from .base import PlaceholderPanel


class ModelPanel(PlaceholderPanel):
    key, title = "model", "Model & measure"
    coming = ("surface models for 3D printing and the measurements (aortic annulus, coronary "
              "heights, LVOT, left atrial appendage) with their uncertainty.")


class DevicePanel(PlaceholderPanel):
    key, title = "device", "Device"
    coming = "choosing a device from the catalogue, its size, and placing it on the anatomy."


class SimulatePanel(PlaceholderPanel):
    key, title = "simulate", "Simulate"
    coming = "the beating-heart simulation and the device fit at every phase of the cycle."


class ReportPanel(PlaceholderPanel):
    key, title = "report", "Report"
    coming = "the plan report (HTML/PDF) with views, measurements and the fit verdict."
