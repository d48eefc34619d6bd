"""Anatomy: annulus, coronary ostia, aortic root and centreline, LVOT, LAA,
chamber volumes and the coplanar fluoroscopic view, measured on a label map
(and the CT for the ostia). :func:`measure_all` returns them all."""

from .annulus import find_plane, measure_annulus
from .chambers import measure_chambers
from .laa import measure_laa
from .measure import measure_all
from .ostia import measure_ostia
from .projection import coplanar_view, detector_direction
from .root import aortic_track, measure_lvot, measure_root

__all__ = ["measure_all", "measure_annulus", "find_plane", "measure_ostia", "measure_root",
           "aortic_track", "measure_lvot", "measure_laa", "measure_chambers", "coplanar_view",
           "detector_direction"]
