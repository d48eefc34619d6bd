"""Draw the 3D scene offscreen on a dedicated render thread.

A software OpenGL frame (OSMesa/llvmpipe on a machine without a GPU) can
take half a second; drawn on the GUI thread it would freeze the window.
:class:`OffscreenRenderer` owns every VTK rendering object and lives on its
own ``QThread``; the 3D view sends it the scene and per-frame requests
(camera, size, hidden labels) as queued signals and gets back numpy RGB
frames. Nothing else touches its VTK objects, so no locking is needed.
Set ``HEARTTWIN_RENDER_THREAD=0`` to render on the GUI thread instead.
"""

from __future__ import annotations

import importlib
import os

import numpy as np
from PySide6.QtCore import QObject, QThread, Signal, Slot
from vtkmodules.util.numpy_support import vtk_to_numpy
from vtkmodules.vtkFiltersSources import vtkOutlineSource
from vtkmodules.vtkRenderingCore import (vtkActor, vtkPolyDataMapper, vtkRenderer, vtkRenderWindow,
                                         vtkWindowToImageFilter)

# registers the OpenGL render window classes (an import for its side effect)
importlib.import_module("vtkmodules.vtkRenderingOpenGL2")


class OffscreenRenderer(QObject):
    """The VTK scene and an offscreen render window; slots run on the render thread."""

    frame_ready = Signal(object, int)  # (height, width, 3) uint8 RGB, request id

    def __init__(self, background) -> None:
        super().__init__()
        self.background = tuple(c / 255.0 for c in background)
        self._window = None
        self._renderer = None
        self._actors: dict[int, vtkActor] = {}
        self._outline = None

    def _ensure(self) -> vtkRenderer:
        if self._window is None:
            self._renderer = vtkRenderer()
            self._renderer.SetBackground(*self.background)
            self._window = vtkRenderWindow()
            self._window.SetOffScreenRendering(1)
            self._window.AddRenderer(self._renderer)
        return self._renderer

    @Slot(object)
    def set_surfaces(self, scene) -> None:
        """``scene``: ``(surfaces {label: vtkPolyData}, colours {label: rgb}[, opacities {label: 0-1}])``."""
        surfaces, colours = scene[0], scene[1]
        opacities = scene[2] if len(scene) > 2 else {}
        ren = self._ensure()
        for actor in self._actors.values():
            ren.RemoveActor(actor)
        self._actors = {}
        for label, poly in surfaces.items():
            mapper = vtkPolyDataMapper()
            mapper.SetInputData(poly)
            mapper.ScalarVisibilityOff()
            actor = vtkActor()
            actor.SetMapper(mapper)
            prop = actor.GetProperty()
            prop.SetColor(*(c / 255.0 for c in colours.get(label, (200, 200, 200))))
            prop.SetSpecular(0.2)
            prop.SetSpecularPower(20)
            prop.SetOpacity(float(opacities.get(label, 1.0)))
            ren.AddActor(actor)
            self._actors[int(label)] = actor

    @Slot(object)
    def set_outline(self, bounds) -> None:
        """Draw the image box (xmin, xmax, ymin, ymax, zmin, zmax), or nothing for None."""
        ren = self._ensure()
        if self._outline is not None:
            ren.RemoveActor(self._outline)
            self._outline = None
        if bounds is not None:
            src = vtkOutlineSource()
            src.SetBounds(*bounds)
            mapper = vtkPolyDataMapper()
            mapper.SetInputConnection(src.GetOutputPort())
            self._outline = vtkActor()
            self._outline.SetMapper(mapper)
            self._outline.GetProperty().SetColor(0.55, 0.55, 0.6)
            ren.AddActor(self._outline)

    @Slot(object)
    def render(self, request) -> None:
        """``request``: dict with id, size (w, h), camera (position, focal, up, angle), hidden labels."""
        ren = self._ensure()
        for label, actor in self._actors.items():
            actor.SetVisibility(label not in request["hidden"])
        cam = ren.GetActiveCamera()
        position, focal, up, angle = request["camera"]
        cam.SetPosition(*position)
        cam.SetFocalPoint(*focal)
        cam.SetViewUp(*up)
        cam.SetViewAngle(angle)
        ren.ResetCameraClippingRange()
        w, h = request["size"]
        self._window.SetSize(int(w), int(h))
        self._window.Render()
        grab = vtkWindowToImageFilter()
        grab.SetInput(self._window)
        grab.SetInputBufferTypeToRGB()
        grab.ReadFrontBufferOff()
        grab.ShouldRerenderOff()  # the window was just rendered: do not draw it twice
        grab.Update()
        out = grab.GetOutput()
        gw, gh, _ = out.GetDimensions()
        rgb = vtk_to_numpy(out.GetPointData().GetScalars()).reshape(gh, gw, -1)[::-1, :, :3]
        self.frame_ready.emit(np.ascontiguousarray(rgb), int(request["id"]))

    @Slot()
    def shutdown(self) -> None:
        """Free the OpenGL context (on the thread that used it)."""
        if self._window is not None:
            self._window.Finalize()
        self._window = self._renderer = None
        self._actors, self._outline = {}, None


def use_thread() -> bool:
    return os.environ.get("HEARTTWIN_RENDER_THREAD", "1") != "0"


class RenderThread(QThread):
    """The thread an :class:`OffscreenRenderer` lives on (named for debugging)."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("HeartTwin render")
