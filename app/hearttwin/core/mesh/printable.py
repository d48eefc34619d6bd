"""3D-print ready surfaces: closed and manifold, optionally hollowed and cut open.

A slicer program needs a closed, manifold, consistently outward surface.
Hollowing saves resin or filament and shows the inside of a chamber: the
inner wall is the outer surface's voxel mask shrunk by the wall thickness
(an exact Euclidean distance transform), meshed like the outer one and
wound inward, so the wall is ``wall_mm`` thick everywhere and the two walls
can never cross. A cut plane then opens the shell; the cut is capped
(``vtkClipClosedSurface``), so the printed model stays watertight.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import ndimage
from vtkmodules.util.numpy_support import vtk_to_numpy
from vtkmodules.vtkCommonDataModel import vtkImageData, vtkPlane, vtkPlaneCollection, vtkPolyData
from vtkmodules.vtkFiltersCore import (
    vtkAppendPolyData,
    vtkCleanPolyData,
    vtkPolyDataNormals,
    vtkReverseSense,
    vtkTriangleFilter,
)
from vtkmodules.vtkFiltersGeneral import vtkClipClosedSurface
from vtkmodules.vtkImagingStencil import vtkImageStencilToImage, vtkPolyDataToImageStencil

from .. import jobs
from ..errors import InputError
from ..imaging.volume import Volume
from . import quality, vtk_bridge
from .repair import close_defects
from .surfaces import surfaces_from_labels

#: grid step of the hollowing distance field, as a fraction of the wall thickness
_STEPS_PER_WALL = 4
_MIN_STEP_MM, _MAX_STEP_MM = 0.2, 1.0
_CENTRE_OFFSET = 0.15


def make_printable(poly: vtkPolyData, *, wall_mm: float | None = None, cut_plane=None,
                   progress: jobs.Progress | None = None) -> vtkPolyData:
    """A closed, manifold, outward-wound copy of ``poly``, optionally hollowed and cut.

    Parameters
    ----------
    poly : vtkPolyData
        A (nearly) closed surface in mm, e.g. from :func:`surfaces_from_labels`.
    wall_mm : float, optional
        Hollow the model, keeping a wall this thick (mm).
    cut_plane : (point, normal), optional
        Cut the model with this plane (LPS point and normal, mm) and cap the
        cut; the part on the side the normal points to is kept.

    Raises
    ------
    InputError
        Wall not positive or too thick for the model, cut plane missing the
        model, or a surface that cannot be closed.
    """
    jobs.report(progress, 0, 100, "Closing the surface")
    outer = _closed(poly)
    if not quality.mesh_report(outer)["watertight"]:
        raise InputError("This surface has holes or non-manifold edges that could not be repaired, "
                         "so it cannot be printed.")
    model = outer
    if wall_mm is not None:
        if not wall_mm > 0:
            raise InputError(f"The wall thickness must be positive, got {wall_mm} mm.")
        jobs.report(progress, 10, 100, "Hollowing")
        inner = _inner_wall(outer, float(wall_mm), jobs.SubProgress(progress, 10, 80, 100))
        model = _append(outer, inner)
    if cut_plane is not None:
        jobs.report(progress, 80, 100, "Cutting")
        model = _cut(model, *cut_plane)
    jobs.report(progress, 100, 100, "Print-ready")
    return model


def _closed(poly: vtkPolyData) -> vtkPolyData:
    """Triangulated, duplicate points merged, small defects closed, wound outward."""
    tri = vtkTriangleFilter()
    tri.SetInputData(poly)
    tri.PassVertsOff()
    tri.PassLinesOff()
    clean = vtkCleanPolyData()
    clean.SetInputConnection(tri.GetOutputPort())
    clean.SetTolerance(0.0)
    clean.ConvertPolysToLinesOff()
    clean.ConvertLinesToPointsOff()
    clean.ConvertStripsToPolysOff()
    clean.Update()
    fixed = close_defects(clean.GetOutput())
    normals = vtkPolyDataNormals()
    normals.SetInputData(fixed)
    normals.ComputePointNormalsOn()
    normals.SplittingOff()
    normals.ConsistencyOn()
    normals.AutoOrientNormalsOn()  # each closed part outward
    normals.Update()
    return normals.GetOutput()


def _inner_wall(outer: vtkPolyData, wall_mm: float, progress) -> vtkPolyData:
    """The inner surface of a ``wall_mm`` thick shell inside ``outer``, wound inward."""
    step = min(max(wall_mm / _STEPS_PER_WALL, _MIN_STEP_MM), _MAX_STEP_MM)
    mask, origin = _voxelize(outer, step)
    jobs.report(progress, 30, 100, "Hollowing: distance field")
    depth = ndimage.distance_transform_edt(mask, sampling=step)
    # depth is measured to the nearest outside voxel *centre*, which lies a fraction of a step
    # beyond the surface; 0.15 step is that fraction on average over surface orientations
    # (calibrated on spheres: walls within ~0.1 step of wall_mm)
    cavity = depth >= wall_mm + _CENTRE_OFFSET * step
    if not cavity.any():
        raise InputError(f"A {wall_mm:g} mm wall leaves no cavity inside this model; "
                         "use a thinner wall or print it solid.")
    cavity_volume = Volume(cavity.astype(np.uint8), spacing=(step, step, step), origin=tuple(origin))
    inner = surfaces_from_labels(cavity_volume, progress=jobs.SubProgress(progress, 40, 100, 100))[1]
    flip = vtkReverseSense()
    flip.SetInputData(inner)
    flip.ReverseCellsOn()
    flip.ReverseNormalsOn()
    flip.Update()
    return flip.GetOutput()


def _voxelize(poly: vtkPolyData, step: float) -> tuple[np.ndarray, np.ndarray]:
    """Inside-mask (z, y, x) of a closed surface on a grid of ``step`` mm, and the grid origin."""
    b = np.array(poly.GetBounds()).reshape(3, 2)
    origin = b[:, 0] - 2 * step
    dims = [int(math.ceil((hi - lo) / step)) + 5 for lo, hi in b]
    stencil = vtkPolyDataToImageStencil()
    stencil.SetInputData(poly)
    stencil.SetOutputOrigin(*origin)
    stencil.SetOutputSpacing(step, step, step)
    stencil.SetOutputWholeExtent(0, dims[0] - 1, 0, dims[1] - 1, 0, dims[2] - 1)
    image = vtkImageStencilToImage()
    image.SetInputConnection(stencil.GetOutputPort())
    image.SetInsideValue(1)
    image.SetOutsideValue(0)
    image.SetOutputScalarTypeToUnsignedChar()
    image.Update()
    out: vtkImageData = image.GetOutput()
    mask = vtk_to_numpy(out.GetPointData().GetScalars()).reshape(dims[2], dims[1], dims[0]).astype(bool)
    return mask, origin


def _append(*parts: vtkPolyData) -> vtkPolyData:
    append = vtkAppendPolyData()
    for part in parts:
        append.AddInputData(part)
    append.Update()
    return append.GetOutput()


def _cut(model: vtkPolyData, point, normal) -> vtkPolyData:
    """Keep the part of a closed model on the normal's side of a plane, cap the cut."""
    normal = np.asarray(normal, dtype=float)
    if normal.shape != (3,) or not np.linalg.norm(normal) > 0:
        raise InputError("The cut plane's normal must be three numbers, not all zero.")
    normal = normal / np.linalg.norm(normal)
    signed = (vtk_bridge.points(model) - np.asarray(point, dtype=float)) @ normal
    if signed.min() >= 0:
        return model  # the plane misses the model: nothing to cut
    if signed.max() <= 0:
        raise InputError("The cut plane removes the whole model: flip its normal or move it.")
    plane = vtkPlane()
    plane.SetOrigin(*(float(v) for v in point))
    plane.SetNormal(*normal)
    planes = vtkPlaneCollection()
    planes.AddItem(plane)
    clip = vtkClipClosedSurface()
    clip.SetInputData(model)
    clip.SetClippingPlanes(planes)
    clip.GenerateFacesOn()
    clip.GenerateOutlineOff()
    clip.SetScalarModeToNone()
    tri = vtkTriangleFilter()
    tri.SetInputConnection(clip.GetOutputPort())
    clean = vtkCleanPolyData()
    clean.SetInputConnection(tri.GetOutputPort())
    clean.SetTolerance(0.0)
    clean.Update()
    return close_defects(clean.GetOutput())
