"""Surfaces for the 3D view: core's closed label surfaces, decimated to a display budget.

Runs in the worker process (no Qt here): VTK filters keep the GIL while they
run, so on a thread they would stall the GUI. Surfaces cross the process
boundary as numpy arrays (:func:`surface_arrays`, :func:`polydata_from_arrays`). The full-resolution surfaces are for export
and measurement (the Model step); the view only needs enough triangles to
look right, and a software-rendered (OSMesa/llvmpipe) frame costs time in
proportion to the triangle count, on the GUI thread.
"""

from __future__ import annotations

import numpy as np
from vtkmodules.util.numpy_support import numpy_to_vtk, numpy_to_vtkIdTypeArray, vtk_to_numpy
from vtkmodules.vtkCommonCore import vtkPoints
from vtkmodules.vtkCommonDataModel import vtkCellArray, vtkPolyData
from vtkmodules.vtkFiltersCore import vtkMassProperties, vtkPolyDataNormals, vtkQuadricClustering

from ..core import jobs

#: total triangles shown in the 3D view, shared between structures by size
DISPLAY_TRIANGLES = 80_000
#: fewest triangles any one structure keeps
MIN_TRIANGLES = 2_000


def display_surfaces(labels, *, budget: int = DISPLAY_TRIANGLES, progress=None) -> dict:
    """``{label: vtkPolyData}`` in LPS mm with at most about ``budget`` triangles in all."""
    from ..core.mesh.surfaces import surfaces_from_labels

    full = surfaces_from_labels(labels, progress=jobs.SubProgress(progress, 0, 60, 100))
    total = sum(p.GetNumberOfPolys() for p in full.values())
    if total <= budget:
        return full
    out = {}
    for n, (label, poly) in enumerate(full.items()):
        jobs.report(progress, 60 + 40 * n / len(full), 100, "Simplifying the surfaces for display")
        share = max(MIN_TRIANGLES, int(budget * poly.GetNumberOfPolys() / total))
        out[label] = _simplify(poly, share)
    jobs.report(progress, 100, 100, f"{len(out)} surfaces")
    return out


def surface_arrays(labels, *, budget: int = DISPLAY_TRIANGLES, progress=None) -> dict:
    """:func:`display_surfaces` as picklable arrays: ``{label: {"points", "offsets",
    "connectivity", "normals"}}``."""
    return {int(label): arrays_from_polydata(poly)
            for label, poly in display_surfaces(labels, budget=budget, progress=progress).items()}


def arrays_from_polydata(poly) -> dict:
    """A triangle surface as copied arrays ``{"points", "offsets", "connectivity", "normals"}``
    (read only: ``poly`` is not modified)."""
    cells = poly.GetPolys()
    normals = poly.GetPointData().GetNormals()
    points = poly.GetPoints()
    return {
        "points": (np.zeros((0, 3), np.float32) if points is None
                   else vtk_to_numpy(points.GetData()).astype(np.float32)),
        "offsets": vtk_to_numpy(cells.GetOffsetsArray()).astype(np.int64),
        "connectivity": vtk_to_numpy(cells.GetConnectivityArray()).astype(np.int64),
        "normals": None if normals is None else vtk_to_numpy(normals).astype(np.float32),
    }


def polydata_from_arrays(arrays: dict) -> vtkPolyData:
    """The vtkPolyData described by one entry of :func:`surface_arrays`."""
    points = vtkPoints()
    points.SetData(numpy_to_vtk(arrays["points"], deep=True))
    cells = vtkCellArray()
    cells.SetData(numpy_to_vtkIdTypeArray(arrays["offsets"], deep=True),
                  numpy_to_vtkIdTypeArray(arrays["connectivity"], deep=True))
    poly = vtkPolyData()
    poly.SetPoints(points)
    poly.SetPolys(cells)
    if arrays.get("normals") is not None:
        normals = numpy_to_vtk(arrays["normals"], deep=True)
        normals.SetName("Normals")
        poly.GetPointData().SetNormals(normals)
    return poly


def _simplify(poly, target: int):
    """About ``target`` triangles by quadric clustering, with smooth normals.

    Display only: clustering is ~20x faster than quadric decimation, but its
    result need not be closed (:func:`hearttwin.core.mesh.decimate.decimate`
    is the one for exports). A surface of area A clustered on cells of size
    c has about 2 A / c^2 triangles, which sets c.
    """
    if poly.GetNumberOfPolys() <= target:
        return poly
    props = vtkMassProperties()
    props.SetInputData(poly)
    cell = float(np.sqrt(2.0 * props.GetSurfaceArea() / target))
    b = np.array(poly.GetBounds())
    cluster = vtkQuadricClustering()
    cluster.SetInputData(poly)
    cluster.AutoAdjustNumberOfDivisionsOff()
    cluster.SetNumberOfDivisions(*[max(2, int(np.ceil(e / cell))) for e in b[1::2] - b[0::2]])
    normals = vtkPolyDataNormals()
    normals.SetInputConnection(cluster.GetOutputPort())
    normals.SplittingOff()
    # keep each triangle's winding from the outward input: re-orienting by propagation
    # goes wrong across the non-manifold spots clustering makes, shading patches black
    normals.ConsistencyOff()
    normals.Update()
    return normals.GetOutput()
