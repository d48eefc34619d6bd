"""Draw the 3D scene offscreen on a dedicated render thread.

A software OpenGL frame (OSMesa/llvmpipe on a machine without a GPU) can
take half a second; drawn on the GUI thread it would freeze the window.
:class:`OffscreenRenderer` owns every VTK rendering object and lives on its
own ``QThread``; the 3D view sends it the scene (surfaces, optionally
colour-mapped by a point array; the CT as a volume with a transfer-function
preset) and per-frame requests (camera, size, hidden labels) as queued
signals and gets back numpy RGB frames. Nothing else touches its VTK objects, so no locking is needed.
Set ``HEARTTWIN_RENDER_THREAD=0`` to render on the GUI thread instead.
"""

from __future__ import annotations

import importlib
import os

import numpy as np
from PySide6.QtCore import QObject, QThread, Signal, Slot
from vtkmodules.util.numpy_support import vtk_to_numpy
from vtkmodules.vtkFiltersSources import vtkOutlineSource
from vtkmodules.vtkCommonDataModel import vtkPiecewiseFunction
from vtkmodules.vtkRenderingCore import (vtkActor, vtkColorTransferFunction, vtkPolyDataMapper, vtkRenderer,
                                         vtkRenderWindow, vtkVolume, vtkVolumeProperty, vtkWindowToImageFilter)

# registers the OpenGL render window classes (an import for its side effect)
importlib.import_module("vtkmodules.vtkRenderingOpenGL2")

#: frames per second asked of the volume mapper while the user drags (it samples coarser), and when still
INTERACTIVE_RATE, STILL_RATE = 10.0, 0.0001


def colour_function(points) -> vtkColorTransferFunction:
    """A colour transfer function through ``(value, r, g, b, ...)`` breakpoints (0-1 colours)."""
    ctf = vtkColorTransferFunction()
    for p in points:
        ctf.AddRGBPoint(float(p[0]), float(p[1]), float(p[2]), float(p[3]))
    return ctf


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
        self._volume: vtkVolume | None = None
        self._preset = None

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
        """``scene``: ``(surfaces {label: vtkPolyData}, colours {label: rgb}[, opacities {label: 0-1}
        [, colour maps {label: map}]])``.

        A colour map (e.g. :data:`hearttwin.gui.device_handle.FIT_COLOUR_MAP`) has ``array``
        (the point array to colour by) and ``points`` (``(value, r, g, b)`` breakpoints).
        """
        surfaces, colours = scene[0], scene[1]
        opacities = scene[2] if len(scene) > 2 else {}
        maps = scene[3] if len(scene) > 3 else {}
        ren = self._ensure()
        for actor in self._actors.values():
            ren.RemoveActor(actor)
        self._actors = {}
        for label, poly in surfaces.items():
            mapper = vtkPolyDataMapper()
            mapper.SetInputData(poly)
            cmap = maps.get(label)
            if cmap is not None and poly.GetPointData().GetArray(cmap.array) is not None:
                lut = colour_function(cmap.points)
                mapper.SetLookupTable(lut)
                mapper.SetScalarModeToUsePointFieldData()
                mapper.SelectColorArray(cmap.array)
                mapper.SetScalarRange(*lut.GetRange())
                mapper.InterpolateScalarsBeforeMappingOn()
                mapper.ScalarVisibilityOn()
            else:
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
    def set_inputs(self, polys) -> None:
        """``polys``: ``{label: vtkPolyData}`` to draw in those labels' actors (other versions of
        their surfaces: same triangles, other points, e.g. a phase of the beating heart).

        Only the mappers' inputs switch: no VTK data is created or modified here, and no Python
        reference to the surfaces is kept (a VTK data object whose last Python reference went on
        the render thread crashed VTK); the GUI keeps every surface it sends alive.
        """
        for label, poly in polys.items():
            actor = self._actors.get(int(label))
            if actor is not None and poly is not None:
                actor.GetMapper().SetInputData(poly)

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
    def set_volume(self, payload) -> None:
        """``payload``: ``(vtkImageData of HU, 4x4 index-frame -> LPS matrix)`` to draw as a volume
        (with the current preset), or None for no volume."""
        ren = self._ensure()
        if self._volume is not None:
            ren.RemoveVolume(self._volume)
            self._volume = None
        if payload is None:
            return
        # loaded on first use (start-up time); the OpenGL2 module registers the mapper's image display
        importlib.import_module("vtkmodules.vtkRenderingVolumeOpenGL2")
        from vtkmodules.vtkRenderingVolume import vtkFixedPointVolumeRayCastMapper

        image, matrix = payload
        mapper = vtkFixedPointVolumeRayCastMapper()  # draws real pixels on OSMesa, ~4x the GPU mapper's speed there
        mapper.SetInputData(image)
        self._volume = vtkVolume()
        self._volume.SetMapper(mapper)
        self._volume.SetUserMatrix(_vtk_matrix(matrix))
        ren.AddVolume(self._volume)
        self._apply_preset()

    @Slot(object)
    def set_volume_preset(self, preset) -> None:
        """``preset``: a :class:`hearttwin.gui.volume_presets.VolumePreset`, or None to hide the volume."""
        self._preset = preset
        self._apply_preset()

    def _apply_preset(self) -> None:
        if self._volume is None:
            return
        preset = self._preset
        self._volume.SetVisibility(preset is not None)
        if preset is None:
            return
        opacity = vtkPiecewiseFunction()
        for p in preset.points:
            opacity.AddPoint(float(p[0]), float(p[4]))
        prop = vtkVolumeProperty()
        prop.SetColor(colour_function(preset.points))
        prop.SetScalarOpacity(opacity)
        prop.SetInterpolationTypeToLinear()
        if preset.shade:
            prop.ShadeOn()
            prop.SetAmbient(0.3)
            prop.SetDiffuse(0.7)
            prop.SetSpecular(0.15)
        self._volume.SetProperty(prop)

    @Slot(object)
    def render(self, request) -> None:
        """``request``: dict with id, size (w, h), camera (position, focal, up, angle), hidden labels
        and ``interactive`` (a drag: draw a volume coarser, at about :data:`INTERACTIVE_RATE`)."""
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
        self._window.SetDesiredUpdateRate(INTERACTIVE_RATE if request.get("interactive") else STILL_RATE)
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
        self._actors, self._outline, self._volume = {}, None, None


def _vtk_matrix(m):
    from vtkmodules.vtkCommonMath import vtkMatrix4x4

    out = vtkMatrix4x4()
    for i in range(4):
        for j in range(4):
            out.SetElement(i, j, float(m[i][j]))
    return out


def use_thread() -> bool:
    return os.environ.get("HEARTTWIN_RENDER_THREAD", "1") != "0"


class RenderThread(QThread):
    """The thread an :class:`OffscreenRenderer` lives on (named for debugging)."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("HeartTwin render")
