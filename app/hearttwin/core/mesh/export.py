"""Writing surfaces: STL (binary), OBJ, PLY, VTP; LPS by default, RAS on request.

Every format that can carry text says which frame and unit the coordinates
are in: the STL header, an OBJ comment, a PLY comment, VTP field data
("CoordinateSystem", "Units"). RAS is LPS with x and y negated (a rotation by
180 degrees about z), so the winding stays outward. File contents never hold
patient data.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
from vtkmodules.util.numpy_support import numpy_to_vtk, vtk_to_numpy
from vtkmodules.vtkCommonCore import vtkStringArray
from vtkmodules.vtkCommonDataModel import vtkPolyData
from vtkmodules.vtkIOGeometry import vtkOBJWriter, vtkSTLWriter
from vtkmodules.vtkIOPLY import vtkPLYWriter
from vtkmodules.vtkIOXML import vtkXMLPolyDataWriter

from ..errors import InputError
from . import vtk_bridge

FORMATS = ("stl", "obj", "ply", "vtp")
SPACES = ("LPS", "RAS")


def to_space(poly: vtkPolyData, space: str) -> vtkPolyData:
    """``poly`` (LPS) in the given frame: the same object for LPS, a flipped copy for RAS."""
    space = space.upper()
    if space not in SPACES:
        raise InputError(f"Unknown coordinate system {space!r}: use LPS or RAS.")
    if space == "LPS":
        return poly
    out = vtkPolyData()
    out.DeepCopy(poly)
    flip = np.array([-1.0, -1.0, 1.0])
    pts = vtk_bridge.points(poly)
    out.GetPoints().SetData(numpy_to_vtk((pts * flip).astype(pts.dtype), deep=True))
    normals = out.GetPointData().GetNormals()
    if normals is not None:
        flipped = numpy_to_vtk((vtk_to_numpy(normals) * flip).astype(np.float32), deep=True)
        flipped.SetName(normals.GetName())
        out.GetPointData().SetNormals(flipped)
    return out


def describe(space: str, name: str | None = None) -> str:
    """The one-line description written into files."""
    what = f"HeartTwin surface {name}" if name else "HeartTwin surface"
    return f"{what}; coordinates {space.upper()} (DICOM patient frame{', x/y flipped' if space.upper() == 'RAS' else ''}), mm"


def write_mesh(poly: vtkPolyData, path, *, space: str = "LPS", name: str | None = None) -> Path:
    """Write ``poly`` (LPS mm) to ``path``; the format follows the suffix.

    Parameters
    ----------
    poly : vtkPolyData
    path : str or Path
        ``.stl`` (binary), ``.obj``, ``.ply`` (binary) or ``.vtp``.
    space : "LPS" or "RAS"
        Frame of the written coordinates (LPS unless asked otherwise).
    name : str, optional
        Structure name recorded in the file's header (no patient data).
    """
    path = Path(path)
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in FORMATS:
        raise InputError(f"Cannot write {path.name}: mesh formats are {', '.join('.' + f for f in FORMATS)}.")
    data = to_space(poly, space)
    text = describe(space, name)
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "stl":
        w = vtkSTLWriter()
        w.SetFileTypeToBinary()
        w.SetHeader(text[:80])  # binary STL header: 80 bytes; must not start with "solid"
    elif fmt == "ply":
        w = vtkPLYWriter()
        w.SetFileTypeToBinary()
        w.SetDataByteOrderToLittleEndian()
        w.AddComment(text)
    elif fmt == "vtp":
        data = _with_field_data(data, space, name)
        w = vtkXMLPolyDataWriter()
        w.SetDataModeToAppended()
        w.EncodeAppendedDataOff()
        w.SetCompressorTypeToZLib()
    else:
        return _write_obj(data, path, text)
    w.SetInputData(data)
    w.SetFileName(str(path))
    if w.Write() != 1:
        raise OSError(f"could not write {path.name}")
    return path


def _with_field_data(poly: vtkPolyData, space: str, name: str | None) -> vtkPolyData:
    out = vtkPolyData()
    out.ShallowCopy(poly)
    fd = out.GetFieldData()
    fd.Initialize()
    for key, value in (("CoordinateSystem", space.upper()), ("Units", "mm"), ("Structure", name or "")):
        arr = vtkStringArray()
        arr.SetName(key)
        arr.InsertNextValue(value)
        fd.AddArray(arr)
    return out


def _write_obj(poly: vtkPolyData, path: Path, text: str) -> Path:
    """vtkOBJWriter output with a leading comment line naming the frame."""
    fd, tmp = tempfile.mkstemp(suffix=".obj", dir=path.parent)
    os.close(fd)
    try:
        w = vtkOBJWriter()
        w.SetInputData(poly)
        w.SetFileName(tmp)
        if w.Write() != 1:
            raise OSError(f"could not write {path.name}")
        with open(path, "wb") as out, open(tmp, "rb") as src:
            out.write(f"# {text}\n".encode("ascii", "replace"))
            shutil.copyfileobj(src, out, 1 << 20)
    finally:
        os.unlink(tmp)
    return path
