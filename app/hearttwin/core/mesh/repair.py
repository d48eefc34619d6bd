"""Closing the small defects mesh operations leave on a surface that should be closed.

Edge collapses (decimation) and clipping can leave flaps (two triangles on
the same three points), fins (a triangle hanging off an edge three triangles
share) and small holes. :func:`close_defects` removes the first two and fills
the holes, so the surface is watertight again.
"""

from __future__ import annotations

import numpy as np
from vtkmodules.vtkCommonDataModel import vtkPolyData
from vtkmodules.vtkFiltersModeling import vtkFillHolesFilter

from . import quality, vtk_bridge


def close_defects(poly: vtkPolyData) -> vtkPolyData:
    """Remove small defects of a nearly closed triangle surface, then fill the holes.

    Defects: flaps (two triangles on the same three points) and fins (a
    triangle hanging off an edge that three triangles share, its other two
    edges open). Removing them leaves small holes, which are filled.
    """
    tris = vtk_bridge.triangles(poly)
    keep = np.ones(len(tris), dtype=bool)
    _, inverse, counts = np.unique(np.sort(tris, axis=1), axis=0, return_inverse=True, return_counts=True)
    keep &= counts[inverse.ravel()] == 1
    for _ in range(3):
        uses = _edge_uses(tris, keep)
        fins = keep & ((uses == 1).sum(axis=1) >= 2) & (uses >= 3).any(axis=1)
        if not fins.any():
            break
        keep &= ~fins
    if not keep.all():
        poly = vtk_bridge.poly_from_arrays(vtk_bridge.points(poly), tris[keep])
    if quality.edge_counts(poly)[0] == 0:
        return poly
    fill = vtkFillHolesFilter()
    fill.SetInputData(poly)
    fill.SetHoleSize(1e9)  # the holes are a few edges long; size is a bounding radius in mm
    fill.Update()
    filled = vtkPolyData()
    filled.DeepCopy(fill.GetOutput())
    return filled


def _edge_uses(tris: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """(m, 3): for each triangle edge, how many kept triangles use it (0 for dropped ones)."""
    m = len(tris)
    edges = np.sort(np.stack([tris[:, [0, 1]], tris[:, [1, 2]], tris[:, [2, 0]]], axis=1), axis=2)
    keys = edges[..., 0].astype(np.int64) * (int(tris.max()) + 1) + edges[..., 1]
    flat = keys[keep].ravel()
    uniq, counts = np.unique(flat, return_counts=True)
    uses = np.zeros((m, 3), dtype=np.int64)
    uses[keep] = counts[np.searchsorted(uniq, keys[keep])]
    return uses
