"""Where a triangle surface (the placed device) crosses a slice: line segments to draw (no Qt).

The device is a few thousand triangles, so cutting it on every repaint costs
well under a millisecond with numpy.
"""

from __future__ import annotations

import numpy as np


def canonical_points(state, lps) -> np.ndarray:
    """LPS points (N, 3) -> canonical (x, y, z) indices of ``state``'s volume (vectorised)."""
    ijk = np.atleast_2d(state.volume.lps_to_index(np.asarray(lps, float)))
    orient, size = state.orientation, state.size
    out = np.empty_like(ijk)
    for c in range(3):
        v = ijk[:, orient.source_axis[c]]
        out[:, c] = size[c] - 1 - v if orient.flipped[c] else v
    return out


def slice_segments(points, triangles, axis: int, position: float) -> np.ndarray:
    """Segments (K, 2, 3) where the triangles cross the plane ``points[:, axis] == position``."""
    pts = np.asarray(points, float)
    tris = np.asarray(triangles, int)
    d = pts[:, axis] - position
    dt = d[tris]  # (M, 3)
    crossing = (dt.min(axis=1) < 0) & (dt.max(axis=1) >= 0)
    out = []
    for tri, dist in zip(tris[crossing], dt[crossing]):
        ends = []
        for a, b in ((0, 1), (1, 2), (2, 0)):
            da, db = dist[a], dist[b]
            if (da < 0) != (db < 0):
                t = da / (da - db)
                ends.append(pts[tri[a]] + t * (pts[tri[b]] - pts[tri[a]]))
        if len(ends) == 2:
            out.append(ends)
    return np.asarray(out, float).reshape(-1, 2, 3)
