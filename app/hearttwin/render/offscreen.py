"""Draw a :class:`~.scene.Scene` from a :class:`~.views.View` offscreen, into a numpy image.

No window and no display: the render window is created offscreen (on a
headless Linux machine VTK uses EGL or, with
``VTK_DEFAULT_OPENGL_WINDOW=vtkOSOpenGLRenderWindow``, OSMesa). A broken
OpenGL context can "render" without error and hand back garbage, so every
image is checked: the frame must show the background colour somewhere and,
when there is something to see, something else too (:func:`check_image`).
"""

from __future__ import annotations

import importlib

import numpy as np
from vtkmodules.util.numpy_support import numpy_to_vtk, vtk_to_numpy
from vtkmodules.vtkCommonDataModel import vtkImageData, vtkPlane
from vtkmodules.vtkIOImage import vtkPNGWriter
from vtkmodules.vtkRenderingCore import vtkRenderer, vtkRenderWindow, vtkWindowToImageFilter

from ..core.errors import ProcessingError
from .colours import unit_rgb

# registers the OpenGL implementations (render window, mappers) behind the vtkRenderingCore classes
importlib.import_module("vtkmodules.vtkRenderingOpenGL2")

#: default image size (width, height) in pixels
SIZE = (800, 600)
#: default background (0-255 RGB)
BACKGROUND = (255, 255, 255)
#: exact translucency (slower); without it translucent surfaces blend in draw order
DEPTH_PEELING = False


def render(scene, view, size=SIZE, background=BACKGROUND) -> np.ndarray:
    """Render ``scene`` through ``view``.

    Parameters
    ----------
    scene : Scene
    view : View
    size : (int, int)
        Width and height in pixels.
    background : (int, int, int)
        0-255 RGB.

    Returns
    -------
    ndarray (height, width, 3) uint8
        RGB, first row at the top of the image.

    Raises
    ------
    ProcessingError
        Offscreen OpenGL is not working (the image is not a real render).
    """
    width, height = int(size[0]), int(size[1])
    renderer = vtkRenderer()
    renderer.SetBackground(*unit_rgb(background))
    translucent = view.anatomy_opacity < 1.0
    clip = _cut_plane(view) if view.cutaway else None
    shown = [a for k, a in scene.anatomy.items() if view.labels is None or k in view.labels]
    saved = []
    for actor in shown:
        props = [actor.GetProperty(), actor.GetBackfaceProperty()]
        saved += [(p, p.GetOpacity()) for p in props if p is not None]
        for p in props:
            if p is not None:
                p.SetOpacity(view.anatomy_opacity)
        if clip is not None:
            actor.GetMapper().AddClippingPlane(clip)
        renderer.AddActor(actor)
    if scene.device is not None:
        renderer.AddActor(scene.device)
    if translucent and DEPTH_PEELING:
        renderer.SetUseDepthPeeling(True)
        renderer.SetMaximumNumberOfPeels(8)
        renderer.SetOcclusionRatio(0.05)
    if not scene.flat:
        renderer.UseFXAAOn()
    _place_camera(renderer, view)
    window = vtkRenderWindow()
    window.SetOffScreenRendering(True)
    window.SetMultiSamples(0)
    if translucent:
        window.SetAlphaBitPlanes(True)
    window.SetSize(width, height)
    window.AddRenderer(renderer)
    try:
        window.Render()
        image = _grab(window, width, height)
    finally:
        for actor in shown:
            if clip is not None:
                actor.GetMapper().RemoveClippingPlane(clip)
        for prop, opacity in saved:
            prop.SetOpacity(opacity)
        renderer.RemoveAllViewProps()
        window.RemoveRenderer(renderer)
        window.Finalize()
    check_image(image, background, expect_content=bool(scene.actors()))
    return image


def _cut_plane(view) -> vtkPlane:
    """Plane through the focal point keeping the half away from the camera."""
    plane = vtkPlane()
    plane.SetOrigin(*np.asarray(view.focal_lps, float))
    plane.SetNormal(*(-np.asarray(view.direction_lps, float)))
    return plane


def _place_camera(renderer: vtkRenderer, view) -> None:
    camera = renderer.GetActiveCamera()
    camera.ParallelProjectionOn()
    camera.SetFocalPoint(*np.asarray(view.focal_lps, float))
    camera.SetPosition(*view.camera_position())
    camera.SetViewUp(*np.asarray(view.view_up_lps, float))
    camera.SetParallelScale(float(view.half_height_mm))
    renderer.ResetCameraClippingRange()


def _grab(window, width: int, height: int) -> np.ndarray:
    grab = vtkWindowToImageFilter()
    grab.SetInput(window)
    grab.SetInputBufferTypeToRGB()
    grab.ReadFrontBufferOff()
    grab.ShouldRerenderOff()  # the window was just rendered: do not draw it twice
    grab.Update()
    out = grab.GetOutput()
    w, h, _ = out.GetDimensions()
    if (w, h) != (width, height):
        raise ProcessingError(f"Offscreen rendering returned a {w}x{h} image instead of "
                              f"{width}x{height}; the OpenGL driver is not working.")
    rgb = vtk_to_numpy(out.GetPointData().GetScalars()).reshape(h, w, -1)[:, :, :3]
    return np.ascontiguousarray(rgb[::-1])  # VTK's first row is the bottom


def check_image(image: np.ndarray, background=BACKGROUND, expect_content: bool = True) -> None:
    """Raise when ``image`` cannot be a real render on ``background``.

    A real frame shows the background on at least part of its border, and
    (``expect_content``) some pixels that are not background.
    """
    bg = np.asarray(background, np.uint8)
    is_bg = np.all(image == bg, axis=-1)
    border = np.concatenate([is_bg[0], is_bg[-1], is_bg[:, 0], is_bg[:, -1]])
    if border.mean() < 0.25 or (expect_content and is_bg.all()):
        raise ProcessingError(
            "Offscreen 3D rendering is not working on this machine (the image is blank or garbled). "
            "Install an OpenGL driver or OSMesa (e.g. the libosmesa6 package) and set "
            "VTK_DEFAULT_OPENGL_WINDOW=vtkOSOpenGLRenderWindow.")


def png_bytes(image: np.ndarray) -> bytes:
    """PNG file contents of an (h, w, 3) uint8 RGB image (first row at the top)."""
    img = np.ascontiguousarray(np.asarray(image, np.uint8)[::-1])
    h, w = img.shape[:2]
    data = vtkImageData()
    data.SetDimensions(w, h, 1)
    scalars = numpy_to_vtk(img.reshape(-1, img.shape[2]), deep=True)
    data.GetPointData().SetScalars(scalars)
    writer = vtkPNGWriter()
    writer.SetInputData(data)
    writer.WriteToMemoryOn()
    writer.Write()
    return bytes(vtk_to_numpy(writer.GetResult()).tobytes())


def write_png(image: np.ndarray, path) -> None:
    """Write an (h, w, 3) uint8 RGB image as a PNG file (atomically)."""
    from pathlib import Path

    from ..core.atomic import atomic_path

    with atomic_path(Path(path)) as tmp:
        Path(tmp).write_bytes(png_bytes(image))
