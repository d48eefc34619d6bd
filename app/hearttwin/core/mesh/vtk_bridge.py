"""Plumbing between numpy arrays, VTK data objects and the progress protocol.

Only VTK *data* and filter modules are used here (never rendering or Qt), as
DESIGN.md requires of ``core``.
"""

from __future__ import annotations

import os

import numpy as np
from vtkmodules.util.numpy_support import numpy_to_vtk, numpy_to_vtkIdTypeArray, vtk_to_numpy
from vtkmodules.vtkCommonCore import vtkCommand, vtkPoints, vtkSMPTools
from vtkmodules.vtkCommonDataModel import vtkCellArray, vtkImageData, vtkPolyData

from .. import jobs


def use_threads() -> None:
    """Let VTK's threaded filters (SurfaceNets, windowed sinc) use every core.

    VTK wheels start with the sequential SMP backend; switch to std::thread
    unless the user chose a backend with ``VTK_SMP_BACKEND_IN_USE``.
    """
    if not os.environ.get("VTK_SMP_BACKEND_IN_USE") and vtkSMPTools.GetBackend() == "Sequential":
        vtkSMPTools.SetBackend("STDThread")


def image_from_array(array: np.ndarray, spacing) -> vtkImageData:
    """A (z, y, x) array as point scalars of an image at the origin, identity direction.

    The array is shared, not copied; the image keeps a reference to it.
    """
    array = np.ascontiguousarray(array)
    nz, ny, nx = array.shape
    image = vtkImageData()
    image.SetDimensions(nx, ny, nz)
    image.SetSpacing(*(float(s) for s in spacing))
    scalars = numpy_to_vtk(array.ravel(), deep=False)
    scalars.SetName("labels")
    image.GetPointData().SetScalars(scalars)
    image._hearttwin_buffer = array  # keep the numpy buffer alive as long as the image
    return image


def triangles(poly: vtkPolyData) -> np.ndarray:
    """The (n, 3) vertex ids of a triangle-only mesh's polygons."""
    polys = poly.GetPolys()
    if polys.GetNumberOfCells() == 0:
        return np.zeros((0, 3), dtype=np.int64)
    offsets = vtk_to_numpy(polys.GetOffsetsArray())
    if not np.all(np.diff(offsets) == 3):
        raise ValueError("the mesh has polygons that are not triangles")
    return vtk_to_numpy(polys.GetConnectivityArray()).reshape(-1, 3)


def points(poly: vtkPolyData) -> np.ndarray:
    """The (n, 3) point coordinates (a view when VTK stores them contiguously)."""
    if poly.GetNumberOfPoints() == 0:
        return np.zeros((0, 3))
    return vtk_to_numpy(poly.GetPoints().GetData())


def cells_from_triangles(tris: np.ndarray) -> vtkCellArray:
    """A vtkCellArray of triangles from (m, 3) vertex ids (a deep copy)."""
    cells = vtkCellArray()
    tris = np.ascontiguousarray(tris, dtype=np.int64).ravel()
    offsets = np.arange(0, tris.size + 1, 3, dtype=np.int64)
    cells.SetData(numpy_to_vtkIdTypeArray(offsets, deep=True), numpy_to_vtkIdTypeArray(tris, deep=True))
    return cells


def poly_from_arrays(pts: np.ndarray, tris: np.ndarray) -> vtkPolyData:
    """A vtkPolyData of triangles from (n, 3) points and (m, 3) vertex ids (deep copies)."""
    pts = np.ascontiguousarray(pts, dtype=np.float32 if pts.dtype == np.float32 else np.float64)
    vpts = vtkPoints()
    vpts.SetData(numpy_to_vtk(pts, deep=True))
    poly = vtkPolyData()
    poly.SetPoints(vpts)
    poly.SetPolys(cells_from_triangles(tris))
    return poly


def signed_volume_mm3(poly: vtkPolyData) -> float:
    """Volume enclosed by a closed triangle mesh; negative when its normals point inward."""
    tris = triangles(poly)
    if len(tris) == 0:
        return 0.0
    p = points(poly).astype(np.float64)
    centre = p.mean(axis=0)  # shift for accuracy far from the origin
    a, b, c = (p[tris[:, i]] - centre for i in range(3))
    return float(np.einsum("ij,ij->i", a, np.cross(b, c)).sum() / 6.0)


def run_filter(vtk_filter, progress: jobs.Progress | None = None, message: str = "",
               start: float = 0.0, stop: float = 1.0, total: float = 1.0):
    """Update a VTK filter, reporting its progress and aborting it on cancel.

    Progress is mapped onto ``[start, stop]`` of ``total``. Raises
    :class:`~hearttwin.core.errors.CancelledError` if the user cancelled.
    Returns the filter's output.
    """
    jobs.check(progress)
    if progress is not None:
        def on_progress(caller, _event):
            if progress.cancelled:
                caller.SetAbortExecute(1)
            else:
                progress.update(start + caller.GetProgress() * (stop - start), total, message)

        tag = vtk_filter.AddObserver(vtkCommand.ProgressEvent, on_progress)
    try:
        vtk_filter.Update()
    finally:
        if progress is not None:
            vtk_filter.RemoveObserver(tag)
    jobs.check(progress)
    return vtk_filter.GetOutput()
