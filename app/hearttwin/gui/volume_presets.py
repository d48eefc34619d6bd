"""Volume rendering presets of the 3D view: colour and opacity transfer functions of the CT.

A preset is data: breakpoints in Hounsfield units, each with a colour and
an opacity, joined piecewise-linearly by the render thread
(:meth:`hearttwin.gui.render_thread.OffscreenRenderer.set_volume_preset`).
The CT is drawn downsampled (:func:`image_data`, at most
:data:`MAX_DIMENSION` samples along each axis) so a software-rendered frame
stays interactive. :func:`install` adds View > Volume rendering to a window.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import numpy as np

#: the preset that shows no volume
OFF = "Off"
#: the CT is drawn with at most this many samples along an axis
MAX_DIMENSION = 128


@dataclass(frozen=True)
class VolumePreset:
    """One transfer function.

    Attributes
    ----------
    name : str
        Menu text.
    points : tuple of (hu, r, g, b, opacity)
        Breakpoints in increasing HU; colours and opacities 0-1, linear in between
        (below the first / above the last: those points' values).
    shade : bool
        Lit by the scene's lights (gradient shading) or self-luminous.
    """

    name: str
    points: tuple
    shade: bool = True

    def __post_init__(self) -> None:
        hu = [p[0] for p in self.points]
        if len(hu) < 2 or any(b <= a for a, b in zip(hu, hu[1:])):
            raise ValueError(f"preset {self.name!r}: breakpoints must be 2+ increasing HU values")
        if any(not 0.0 <= v <= 1.0 for p in self.points for v in p[1:]):
            raise ValueError(f"preset {self.name!r}: colours and opacities lie in 0..1")


PRESETS = {p.name: p for p in (
    # contrast-filled blood (250-500 HU) glows red-white, myocardium (~100 HU) stays clear
    VolumePreset("Cardiac CT (contrast)", (
        (-1024, 0.0, 0.0, 0.0, 0.0), (140, 0.55, 0.10, 0.08, 0.0), (220, 0.80, 0.25, 0.18, 0.12),
        (350, 0.95, 0.60, 0.45, 0.45), (600, 1.0, 0.90, 0.80, 0.70), (1500, 1.0, 1.0, 1.0, 0.85))),
    # cortical bone and calcium (> 500 HU) ivory; blood and soft tissue clear
    VolumePreset("Bone", (
        (-1024, 0.0, 0.0, 0.0, 0.0), (450, 0.55, 0.45, 0.30, 0.0), (700, 0.90, 0.82, 0.66, 0.45),
        (1100, 1.0, 0.96, 0.88, 0.85), (2000, 1.0, 1.0, 1.0, 0.95))),
    # fat, muscle and organs faintly, contrast and bone brighter
    VolumePreset("Soft tissue", (
        (-1024, 0.0, 0.0, 0.0, 0.0), (-300, 0.45, 0.30, 0.20, 0.0), (-80, 0.85, 0.70, 0.45, 0.04),
        (60, 0.80, 0.45, 0.40, 0.10), (300, 0.95, 0.80, 0.75, 0.25), (1000, 1.0, 1.0, 1.0, 0.60))),
)}


def preset_names() -> list[str]:
    """Menu order: the presets, then :data:`OFF`."""
    return [*PRESETS, OFF]


def downsampled(array: np.ndarray, max_dimension: int = MAX_DIMENSION) -> tuple[np.ndarray, int]:
    """``array`` (z, y, x) HU subsampled by one integer step on every axis so none exceeds
    ``max_dimension``, as int16 (clipped to -1024..3071); returns (samples, step)."""
    step = max(1, int(np.ceil(max(array.shape) / float(max_dimension))))
    out = np.clip(array[::step, ::step, ::step], -1024, 3071).astype(np.int16)
    return np.ascontiguousarray(out), step


def image_data(volume, max_dimension: int = MAX_DIMENSION):
    """The CT as ``(vtkImageData, 4x4 index-frame -> LPS matrix)`` for a volume mapper.

    The image carries the (downsampled) spacing with a zero origin; the
    matrix (for ``vtkVolume.SetUserMatrix``) adds the direction and origin,
    which ray-cast mappers handle as a prop transform.
    """
    from vtkmodules.util.numpy_support import numpy_to_vtk
    from vtkmodules.vtkCommonDataModel import vtkImageData

    samples, step = downsampled(np.asarray(volume.array), max_dimension)
    nz, ny, nx = samples.shape
    img = vtkImageData()
    img.SetDimensions(nx, ny, nz)
    img.SetSpacing(*(s * step for s in volume.spacing))
    scalars = numpy_to_vtk(samples.ravel(), deep=True)
    scalars.SetName("HU")
    img.GetPointData().SetScalars(scalars)
    matrix = np.eye(4)
    matrix[:3, :3] = volume.direction
    matrix[:3, 3] = volume.origin
    return img, matrix


def install(window) -> None:
    """Add View > Volume rendering (one checkable action per preset, Off checked) to ``window``.

    Idempotent. The actions call ``window.views.view3d.set_volume_preset``;
    ``window.volume_actions`` maps preset names to them.
    """
    if getattr(window, "_volume_presets_installed", False):
        return
    from PySide6.QtGui import QActionGroup

    view_menu = next((a.menu() for a in window.menuBar().actions() if a.text() == "&View"), None)
    if view_menu is None:
        view_menu = window.menuBar().addMenu("&View")
    menu = view_menu.addMenu("&Volume rendering")
    menu.setObjectName("volumeRenderingMenu")
    menu.setToolTipsVisible(True)
    group = QActionGroup(window)
    group.setExclusive(True)
    window.volume_actions = {}
    view = window.views.view3d
    for name in preset_names():
        action = menu.addAction(name)
        action.setCheckable(True)
        action.setChecked(name == view.volume_preset)
        action.setToolTip("Hide the CT volume in the 3D view" if name == OFF else
                          f"Show the CT in the 3D view as a volume ({name} transfer function)")
        action.triggered.connect(partial(_choose, view, name))
        group.addAction(action)
        window.volume_actions[name] = action
    window._volume_presets_installed = True


def _choose(view, name: str, _checked: bool = False) -> None:
    view.set_volume_preset(name)
