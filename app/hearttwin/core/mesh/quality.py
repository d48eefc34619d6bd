"""Is a surface fit for 3D printing and measurement? Watertight, manifold, volume, area."""

from __future__ import annotations

import numpy as np
from vtkmodules.vtkCommonDataModel import vtkPolyData
from vtkmodules.vtkFiltersCore import vtkFeatureEdges, vtkMassProperties, vtkTriangleFilter

from . import vtk_bridge


def edge_counts(poly: vtkPolyData) -> tuple[int, int]:
    """(boundary edges, non-manifold edges) as VTK's feature-edge filter counts them."""
    counts = []
    for boundary in (True, False):
        f = vtkFeatureEdges()
        f.SetInputData(poly)
        f.SetBoundaryEdges(boundary)
        f.SetNonManifoldEdges(not boundary)
        f.FeatureEdgesOff()
        f.ManifoldEdgesOff()
        f.ColoringOff()
        f.Update()
        counts.append(f.GetOutput().GetNumberOfLines())
    return counts[0], counts[1]


def consistently_oriented(tris: np.ndarray) -> bool:
    """True when no directed edge is used twice: neighbouring triangles agree on winding."""
    if len(tris) == 0:
        return True
    directed = np.concatenate([tris[:, [0, 1]], tris[:, [1, 2]], tris[:, [2, 0]]]).astype(np.int64)
    keys = directed[:, 0] * (int(directed.max()) + 1) + directed[:, 1]
    return bool(np.unique(keys).size == keys.size)


def mesh_report(poly: vtkPolyData) -> dict:
    """Watertightness, manifoldness, volume and area of a surface.

    Returns
    -------
    dict
        ``watertight`` (no boundary and no non-manifold edges), ``manifold``
        (no non-manifold edges and consistent winding), ``boundary_edges``,
        ``non_manifold_edges``, ``outward`` (enclosed volume positive with the
        stored winding), ``volume_ml``, ``area_mm2``, ``triangles``.
    """
    tri = _triangulated(poly)
    boundary, non_manifold = edge_counts(tri)
    tris = vtk_bridge.triangles(tri)
    oriented = consistently_oriented(tris)
    area = 0.0
    if len(tris):
        mass = vtkMassProperties()
        mass.SetInputData(tri)
        mass.Update()
        area = mass.GetSurfaceArea()
    signed = vtk_bridge.signed_volume_mm3(tri)  # divergence theorem; its sign tells the winding
    return {
        "watertight": bool(boundary == 0 and non_manifold == 0 and len(tris) > 0),
        "manifold": bool(non_manifold == 0 and oriented),
        "boundary_edges": int(boundary),
        "non_manifold_edges": int(non_manifold),
        "outward": bool(signed > 0),
        "volume_ml": abs(signed) / 1000.0,
        "area_mm2": float(area),
        "triangles": int(len(tris)),
    }


def _triangulated(poly: vtkPolyData) -> vtkPolyData:
    polys = poly.GetPolys()
    if polys.GetNumberOfCells() and polys.IsHomogeneous() == 3 and poly.GetNumberOfStrips() == 0:
        return poly
    f = vtkTriangleFilter()
    f.SetInputData(poly)
    f.PassVertsOff()
    f.PassLinesOff()
    f.Update()
    return f.GetOutput()
