"""Make a binary voxel mask "well-composed" where SurfaceNets would split points.

Where two voxels of a structure touch only along an edge or at a corner (or
two background voxels do, inside the structure), the voxel boundary is not a
manifold. ``vtkSurfaceNets3D`` handles these spots by splitting the surface
point into coincident copies, but the copies leave seams (boundary edges) in
the output, so the surface is no longer watertight and slicers reject it.

:func:`repair_critical` fixes exactly those spots, which SurfaceNets marks in
its point array "NonManifoldTableIndices": in each 2x2x2 voxel block around a
marked point it adds the fewest voxels that remove the critical patterns
(a diagonal pair on a face of the block; two opposite corners alone). Only a
few voxels per thousand change, so volumes move far less than the 2% the
surface model promises; callers re-run SurfaceNets until nothing is marked.
"""

from __future__ import annotations

from itertools import product

import numpy as np
from vtkmodules.util.numpy_support import vtk_to_numpy
from vtkmodules.vtkCommonDataModel import vtkPolyData

from . import vtk_bridge

#: SurfaceNets' code for a point whose voxel neighbourhood was manifold
MANIFOLD_POINT = -2

# the 8 corners of a 2x2x2 block as (dz, dy, dx), and for each face of the block
# its 4 corners in cyclic order (so diagonal pairs are (0, 2) and (1, 3))
_CORNERS = list(product((0, 1), repeat=3))
_FACES = []
for _axis in range(3):
    for _side in (0, 1):
        ring = []
        for u, v in ((0, 0), (0, 1), (1, 1), (1, 0)):
            c = [u, v]
            c.insert(_axis, _side)
            ring.append(tuple(c))
        _FACES.append(ring)


def critical_blocks(surface: vtkPolyData, spacing) -> np.ndarray:
    """Lower-corner (z, y, x) indices of the 2x2x2 blocks whose surface point SurfaceNets split.

    ``surface`` must be SurfaceNets' unsmoothed output for an image at the
    origin with ``spacing``; its points sit at the centres of the blocks.
    """
    codes = surface.GetPointData().GetArray("NonManifoldTableIndices")
    if codes is None or surface.GetNumberOfPoints() == 0:
        return np.zeros((0, 3), dtype=np.int64)
    marked = vtk_to_numpy(codes) != MANIFOLD_POINT
    if not marked.any():
        return np.zeros((0, 3), dtype=np.int64)
    xyz = vtk_bridge.points(surface)[marked] / np.asarray(spacing, dtype=float) - 0.5
    return np.unique(np.rint(xyz[:, ::-1]).astype(np.int64), axis=0)


def repair_critical(mask: np.ndarray, blocks: np.ndarray) -> int:
    """Add voxels to ``mask`` (bool, modified in place) in the given 2x2x2 blocks.

    Never writes the outermost layer of ``mask`` (it must stay background so
    surfaces close). Returns the number of voxels added.
    """
    added = 0
    shape = mask.shape
    # a filled voxel can create a critical pattern in any of the 8 blocks it belongs to:
    # follow those too, so one round leaves the mask clean and SurfaceNets runs only twice
    queue = [tuple(int(c) for c in corner) for corner in blocks]
    seen = set(queue)
    while queue:
        z, y, x = queue.pop()
        if min(z, y, x) < 0 or z + 2 > shape[0] or y + 2 > shape[1] or x + 2 > shape[2]:
            continue
        cube = mask[z:z + 2, y:y + 2, x:x + 2]  # a view: edits go to the mask
        for _ in range(8):  # each step adds a voxel, so this ends
            fill = _voxel_to_add(cube)
            if fill is None:
                break
            gz, gy, gx = z + fill[0], y + fill[1], x + fill[2]
            if min(gz, gy, gx) == 0 or gz == shape[0] - 1 or gy == shape[1] - 1 or gx == shape[2] - 1:
                break  # the outermost layer stays background
            cube[fill] = True
            added += 1
            for dz, dy, dx in _CORNERS:
                block = (gz - dz, gy - dy, gx - dx)
                if block not in seen:
                    seen.add(block)
                    queue.append(block)
    return added


def _voxel_to_add(cube: np.ndarray):
    """A background corner whose filling removes a critical pattern, or None."""
    for ring in _FACES:
        v = [bool(cube[c]) for c in ring]
        if v[0] == v[2] and v[1] == v[3] and v[0] != v[1]:
            # a diagonal pair: connect the foreground pair through a background corner
            return ring[1] if v[0] else ring[0]
    count = int(cube.sum())
    if count == 2 or count == 6:
        lone = [c for c in _CORNERS if bool(cube[c]) == (count == 2)]
        a, b = lone
        if all(p != q for p, q in zip(a, b)):  # opposite corners
            if count == 6:
                return a  # two background corners alone: fill one
            return (a[0], a[1], 1 - a[2])  # two foreground corners alone: start a bridge
    return None
