"""Centrelines by cross-section tracking (aorta, left atrial appendage).

From a start point and direction, step ``step_mm`` forward, cut the
structure perpendicular to the current direction, move to the centroid of
the contour that encloses the predicted point, and turn the direction
towards it. The result is an ordered list of cross-sections whose centroids
are the centreline (LPS) and whose areas and diameters give the calibre
along it. Tracking stops when the structure ends (no enclosing contour),
after ``max_length_mm``, or when the area jumps (a leak into a neighbour).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .sections import MaskField, Section, cross_section


@dataclass
class Track:
    sections: list[Section]
    arc_mm: np.ndarray  # arc length of each section centroid from the start

    @property
    def points(self) -> np.ndarray:
        return np.array([s.centroid for s in self.sections]).reshape(-1, 3)

    def at_arc(self, s_mm: float) -> Section | None:
        """The section nearest arc length ``s_mm`` (None if the track is shorter)."""
        if not self.sections or s_mm > self.arc_mm[-1] + 1.0:
            return None
        return self.sections[int(np.argmin(np.abs(self.arc_mm - s_mm)))]


def track(field: MaskField, start, direction, *, step_mm: float = 2.0,
          max_length_mm: float = 400.0, radius_mm: float = 35.0, grid_mm: float = 0.4,
          max_area_jump: float = 1.8, steps: list[tuple[float, float]] | None = None,
          progress_cb=None) -> Track:
    """Track the structure of ``field`` from ``start`` along ``direction``.

    ``steps`` optionally gives ``[(until_arc_mm, step_mm), ...]`` for a finer
    step near the start (e.g. the aortic root).
    """
    p = np.asarray(start, float)
    t = np.asarray(direction, float) / np.linalg.norm(direction)
    sections: list[Section] = []
    arcs: list[float] = []
    arc = 0.0
    while arc < max_length_mm:
        h = step_mm
        for until, st in steps or []:
            if arc < until:
                h = st
                break
        q = p + h * t
        sec = cross_section(field, q, t, radius_mm=radius_mm, step_mm=grid_mm)
        if sec is None:
            break
        if sections and sec.area_mm2 > max_area_jump * sections[-1].area_mm2:
            break
        c = sec.centroid
        moved = c - p
        if np.linalg.norm(moved) < 1e-6 or np.dot(moved, t) <= 0:
            break
        arc += float(np.linalg.norm(moved))
        t_new = moved / np.linalg.norm(moved)
        t = t_new + t  # damp the turn: half-way between old and new direction
        t /= np.linalg.norm(t)
        p = c
        sections.append(sec)
        arcs.append(arc)
        if progress_cb is not None:
            progress_cb(arc)
    return Track(sections=sections, arc_mm=np.asarray(arcs))


def resection(field: MaskField, sec: Section, radius_mm: float = 35.0,
              grid_mm: float = 0.2) -> Section | None:
    """Cut another field (e.g. the eroded mask) in the plane of ``sec``."""
    return cross_section(field, sec.centroid, sec.normal, radius_mm=radius_mm, step_mm=grid_mm)
