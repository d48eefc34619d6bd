"""Label map -> surface models: extraction, smoothing, decimation, 3D print, export.

Public API
----------
surfaces_from_labels(labels, *, labels_wanted=None, smoothing=Smoothing(), progress=None)
    ``{label: vtkPolyData}``: one closed, manifold, smoothed triangle surface
    per label, LPS millimetres, outward normals; volumes within 2% of the
    voxel volumes (:mod:`.surfaces`).
decimate(poly, target_triangles)
    Quadric decimation with volume preservation that keeps surfaces closed
    (:mod:`.decimate`).
mesh_report(poly)
    ``watertight``, ``manifold``, edge counts, ``volume_ml``, ``area_mm2``,
    ``triangles`` (:mod:`.quality`).
make_printable(poly, *, wall_mm=None, cut_plane=None)
    Closed and manifold; optionally hollowed and cut open, still watertight
    (:mod:`.printable`).
write_mesh(poly, path, *, space="LPS", name=None)
    STL (binary) / OBJ / PLY / VTP by suffix, frame written in the file
    (:mod:`.export`).

Modules: surfaces (extraction and smoothing), topology (mask repair where
SurfaceNets would leave seams), decimate, repair (closing small defects),
quality, printable, export, vtk_bridge (numpy/VTK/progress plumbing). Only
VTK data and filter modules are used, never rendering or Qt.
"""

from .decimate import decimate
from .export import FORMATS, write_mesh
from .printable import make_printable
from .quality import mesh_report
from .surfaces import Smoothing, label_array, label_counts, surfaces_from_labels

__all__ = ["surfaces_from_labels", "Smoothing", "decimate", "mesh_report", "make_printable",
           "write_mesh", "FORMATS", "label_array", "label_counts"]
