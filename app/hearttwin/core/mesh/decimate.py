"""Fast decimation of a closed surface to a target triangle count, keeping it closed."""

from __future__ import annotations

from vtkmodules.vtkCommonDataModel import vtkPolyData
from vtkmodules.vtkFiltersCore import vtkPolyDataNormals, vtkQuadricDecimation

from .. import jobs
from . import quality, vtk_bridge
from .repair import close_defects

#: retries with a slightly different target when a collapse left a defect
_ATTEMPTS = 3


def decimate(poly: vtkPolyData, target_triangles: int, *, progress: jobs.Progress | None = None) -> vtkPolyData:
    """Reduce a closed triangle surface to about ``target_triangles`` triangles.

    Quadric error decimation with volume preservation (each edge collapse
    places its point so the enclosed volume is kept). Quadric collapses can
    leave a rare defect on a closed surface (a flap of two coincident
    triangles, a one-triangle hole); those are removed and filled, and if the
    result is still not watertight the decimation is retried with a target
    1% higher. A surface already at or below the target is returned as is.
    Point normals are recomputed.
    """
    if target_triangles < 4:
        raise ValueError("a closed surface needs at least 4 triangles")
    n = poly.GetNumberOfPolys()
    if n <= target_triangles:
        return poly
    closed_input = quality.edge_counts(poly) == (0, 0)
    result = None
    for attempt in range(_ATTEMPTS):
        target = target_triangles * (1.0 + 0.01 * attempt)
        f = vtkQuadricDecimation()
        f.SetInputData(poly)
        f.SetTargetReduction(max(0.0, 1.0 - target / n))
        f.VolumePreservationOn()
        f.AttributeErrorMetricOff()
        result = close_defects(vtk_bridge.run_filter(f, progress, "Decimating"))
        if not closed_input or quality.edge_counts(result) == (0, 0):
            break
    return _normals(result)


def _normals(poly: vtkPolyData) -> vtkPolyData:
    f = vtkPolyDataNormals()
    f.SetInputData(poly)
    f.ComputePointNormalsOn()
    f.SplittingOff()
    f.ConsistencyOn()  # filled holes may come with either winding
    f.AutoOrientNormalsOff()
    f.Update()
    return f.GetOutput()
