"""Decimation keeps surfaces closed; the mesh report sees holes and non-manifold edges."""

import numpy as np
import pytest

from hearttwin.core.mesh import decimate, mesh_report, vtk_bridge


@pytest.mark.parametrize("label", [1, 5, 6])
def test_decimation_reaches_target_and_stays_watertight(phantom_surfaces, label):
    poly = phantom_surfaces[label]
    before = mesh_report(poly)
    target = before["triangles"] // 5
    out = decimate(poly, target)
    r = mesh_report(out)
    assert abs(r["triangles"] / target - 1) <= 0.10
    assert r["watertight"] and r["manifold"] and r["outward"], r
    assert abs(r["volume_ml"] / before["volume_ml"] - 1) < 0.01


def test_decimation_below_target_is_a_no_op(phantom_surfaces):
    poly = phantom_surfaces[1]
    assert decimate(poly, poly.GetNumberOfPolys() + 10) is poly
    with pytest.raises(ValueError):
        decimate(poly, 2)


def _tetra():
    pts = np.array([[0, 0, 0], [10, 0, 0], [0, 10, 0], [0, 0, 10]], float)
    tris = np.array([[0, 2, 1], [0, 1, 3], [0, 3, 2], [1, 2, 3]])
    return pts, tris


def test_report_of_a_closed_tetrahedron():
    pts, tris = _tetra()
    r = mesh_report(vtk_bridge.poly_from_arrays(pts, tris))
    assert r["watertight"] and r["manifold"] and r["outward"]
    assert r["triangles"] == 4
    assert r["volume_ml"] == pytest.approx(1000 / 6 / 1000)
    assert r["area_mm2"] == pytest.approx(3 * 50 + np.sqrt(3) / 4 * 200)


def test_report_finds_holes_flips_and_non_manifold_edges():
    pts, tris = _tetra()
    r = mesh_report(vtk_bridge.poly_from_arrays(pts, tris[:3]))
    assert not r["watertight"] and r["boundary_edges"] == 3
    inward = mesh_report(vtk_bridge.poly_from_arrays(pts, tris[:, ::-1]))
    assert inward["watertight"] and not inward["outward"]
    flipped_one = tris.copy()
    flipped_one[0] = flipped_one[0][::-1]
    assert not mesh_report(vtk_bridge.poly_from_arrays(pts, flipped_one))["manifold"]
    # a fin: a fifth triangle on edge (0, 1)
    fin_pts = np.vstack([pts, [[5, -5, -5]]])
    fin = np.vstack([tris, [[0, 1, 4]]])
    r = mesh_report(vtk_bridge.poly_from_arrays(fin_pts, fin))
    assert r["non_manifold_edges"] == 1 and not r["watertight"] and not r["manifold"]
