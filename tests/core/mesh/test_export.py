"""Mesh files read back with VTK's readers: same triangles, same bounds; RAS flips x and y."""

import numpy as np
import pytest
from vtkmodules.vtkIOGeometry import vtkOBJReader, vtkSTLReader
from vtkmodules.vtkIOPLY import vtkPLYReader
from vtkmodules.vtkIOXML import vtkXMLPolyDataReader

from hearttwin.core.errors import InputError
from hearttwin.core.mesh import mesh_report, write_mesh

READERS = {"stl": vtkSTLReader, "obj": vtkOBJReader, "ply": vtkPLYReader, "vtp": vtkXMLPolyDataReader}


def _read(path):
    reader = READERS[path.suffix[1:]]()
    reader.SetFileName(str(path))
    reader.Update()
    return reader.GetOutput()


@pytest.mark.parametrize("fmt", sorted(READERS))
@pytest.mark.parametrize("space", ["LPS", "RAS"])
def test_round_trip(phantom_surfaces, tmp_path, fmt, space):
    poly = phantom_surfaces[6]
    path = write_mesh(poly, tmp_path / f"AO.{fmt}", space=space, name="AO")
    back = _read(path)
    assert back.GetNumberOfPolys() == poly.GetNumberOfPolys()
    b = np.array(poly.GetBounds()).reshape(3, 2)
    if space == "RAS":
        b[:2] = -b[:2, ::-1]
    np.testing.assert_allclose(np.array(back.GetBounds()).reshape(3, 2), b, atol=1e-3)
    if fmt == "stl":  # the slicer's view: STL has no shared points, merge them to check closure
        from vtkmodules.vtkFiltersCore import vtkCleanPolyData

        clean = vtkCleanPolyData()
        clean.SetInputData(back)
        clean.Update()
        back = clean.GetOutput()
    r = mesh_report(back)
    assert r["watertight"] and r["manifold"] and r["outward"]


def test_files_say_their_frame(phantom_surfaces, tmp_path):
    poly = phantom_surfaces[1]
    stl = write_mesh(poly, tmp_path / "LV.stl", name="LV").read_bytes()
    assert b"LPS" in stl[:80] and not stl.startswith(b"solid")
    assert len(stl) == 84 + 50 * poly.GetNumberOfPolys()  # binary STL
    obj = write_mesh(poly, tmp_path / "LV.obj", space="RAS").read_text().splitlines()[0]
    assert obj.startswith("#") and "RAS" in obj
    ply = write_mesh(poly, tmp_path / "LV.ply").read_bytes()[:400]
    assert b"binary_little_endian" in ply and b"comment HeartTwin surface; coordinates LPS" in ply
    vtp = _read(write_mesh(poly, tmp_path / "LV.vtp", space="RAS", name="LV"))
    assert vtp.GetFieldData().GetAbstractArray("CoordinateSystem").GetValue(0) == "RAS"
    assert vtp.GetFieldData().GetAbstractArray("Units").GetValue(0) == "mm"


def test_unknown_suffix_or_space(phantom_surfaces, tmp_path):
    with pytest.raises(InputError, match="mesh formats"):
        write_mesh(phantom_surfaces[1], tmp_path / "LV.3mf")
    with pytest.raises(InputError, match="LPS or RAS"):
        write_mesh(phantom_surfaces[1], tmp_path / "LV.stl", space="XYZ")
