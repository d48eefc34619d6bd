"""Surfaces from label maps: volume agreement, watertightness, LPS geometry."""

import numpy as np
import pytest

from hearttwin.core import jobs
from hearttwin.core.errors import CancelledError, InputError
from hearttwin.core.imaging.volume import Volume
from hearttwin.core.mesh import Smoothing, label_counts, mesh_report, surfaces_from_labels
from hearttwin.core.mesh import vtk_bridge


def _closed_and_outward(poly):
    r = mesh_report(poly)
    assert r["watertight"] and r["manifold"], r
    assert r["boundary_edges"] == 0 and r["non_manifold_edges"] == 0
    assert r["outward"]
    return r


def test_phantom_structures_volume_within_2_percent(phantom_labels, phantom_surfaces):
    counts = label_counts(phantom_labels.array)
    assert sorted(phantom_surfaces) == [1, 2, 3, 4, 5, 6, 7]
    for label, poly in phantom_surfaces.items():
        r = _closed_and_outward(poly)
        voxel_ml = counts[label] * phantom_labels.voxel_volume_mm3 / 1000
        assert abs(r["volume_ml"] / voxel_ml - 1) < 0.02, (label, r["volume_ml"], voxel_ml)
        normals = poly.GetPointData().GetNormals()
        assert normals is not None and normals.GetNumberOfTuples() == poly.GetNumberOfPoints()


def test_smoothing_removes_the_staircase(phantom_labels):
    raw = surfaces_from_labels(phantom_labels, labels_wanted=[1], smoothing=None)[1]
    smooth = surfaces_from_labels(phantom_labels, labels_wanted=[1])[1]
    # the staircase has ~1.2-1.5x the area of the smooth surface
    assert mesh_report(smooth)["area_mm2"] < 0.9 * mesh_report(raw)["area_mm2"]
    assert abs(mesh_report(raw)["volume_ml"] - mesh_report(smooth)["volume_ml"]) < 0.02 * mesh_report(raw)["volume_ml"]


@pytest.mark.parametrize("spacing", [(1.0, 1.0, 1.0), (0.7, 0.9, 1.6)])
def test_sphere_volume_matches_voxels_and_analytic(spacing, shapes):
    vol, _ = shapes.sphere_volume(15.0, spacing)
    poly = surfaces_from_labels(vol)[1]
    r = _closed_and_outward(poly)
    voxel_ml = vol.array.sum() * vol.voxel_volume_mm3 / 1000
    assert abs(r["volume_ml"] / voxel_ml - 1) < 0.02
    assert abs(r["volume_ml"] / (4 / 3 * np.pi * 15.0 ** 3 / 1000) - 1) < 0.03
    # area of a sphere, not of a staircase
    assert abs(r["area_mm2"] / (4 * np.pi * 15.0 ** 2) - 1) < 0.05


def test_box_volume_and_touching_labels_each_closed():
    a = np.zeros((30, 34, 40), np.uint8)
    a[5:25, 6:20, 5:35] = 1      # a box
    a[5:25, 20:28, 5:35] = 2     # a second box sharing a face with it
    a[10:15, 10:14, 12:18] = 3   # a box inside box 1, touching only label 1
    vol = Volume(a, (0.8, 0.8, 1.2))
    out = surfaces_from_labels(vol)
    counts = label_counts(a)
    for label in (1, 2, 3):
        r = _closed_and_outward(out[label])
        assert abs(r["volume_ml"] / (counts[label] * vol.voxel_volume_mm3 / 1000) - 1) < 0.02


def test_voxels_touching_at_an_edge_or_corner_still_give_manifold_surfaces():
    a = np.zeros((12, 12, 12), np.uint8)
    a[2:5, 2:5, 2:5] = 1
    a[5:8, 5:8, 2:5] = 1      # touches the first cube along an edge only
    a[8:10, 8:10, 5:7] = 1    # touches the second at a corner only
    a[2:9, 2:9, 8:10] = 1
    a[5, 5, 8] = 0            # a cavity touching the outside at a corner: a background pinch
    for smoothing in (None, Smoothing()):
        poly = surfaces_from_labels(Volume(a, (1, 1, 1)), smoothing=smoothing)[1]
        _closed_and_outward(poly)


def test_structures_cut_by_the_image_edge_are_closed():
    a = np.zeros((20, 20, 20), np.uint8)
    a[:, 5:15, 5:15] = 4  # runs through the top and bottom slices, like the caval veins
    r = _closed_and_outward(surfaces_from_labels(Volume(a, (1, 1, 1)))[4])
    assert abs(r["volume_ml"] - 20 * 10 * 10 / 1000) < 0.02 * 2


def _rotation(ax, ay, az):
    cx, sx, cy, sy, cz, sz = np.cos(ax), np.sin(ax), np.cos(ay), np.sin(ay), np.cos(az), np.sin(az)
    rx = np.array([[1, 0, 0], [0, cx, -sx], [0, sx, cx]])
    ry = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
    rz = np.array([[cz, -sz, 0], [sz, cz, 0], [0, 0, 1]])
    return rz @ ry @ rx


@pytest.mark.parametrize("mirror", [False, True])
def test_oblique_anisotropic_geometry_lands_in_lps(mirror, shapes):
    direction = _rotation(0.3, -0.5, 0.9)
    if mirror:
        direction = direction @ np.diag([1, 1, -1])  # a left-handed (mirrored) index frame
    spacing = (0.6, 0.9, 1.4)
    shape = (40, 60, 80)
    centre = (45.0, 28.0, 17.0)  # (i, j, k), deliberately off the middle of the grid
    a = shapes.ball(shape, centre, 10.0, spacing).astype(np.uint8)
    vol = Volume(a, spacing, origin=(-40.0, 25.0, 130.0), direction=direction)
    poly = surfaces_from_labels(vol)[1]
    _closed_and_outward(poly)
    pts = vtk_bridge.points(poly).astype(float)
    expected = vol.index_to_lps(centre)
    np.testing.assert_allclose(pts.mean(axis=0), expected, atol=0.3)
    radii = np.linalg.norm(pts - expected, axis=1)
    assert abs(radii.mean() - 10.0) < 0.4 and radii.std() < 0.4


def test_labels_wanted_and_absent_labels(phantom_labels):
    out = surfaces_from_labels(phantom_labels, labels_wanted=[6, 1, 42])
    assert list(out) == [1, 6]
    assert surfaces_from_labels(Volume(np.zeros((5, 5, 5), np.uint8), (1, 1, 1))) == {}


@pytest.mark.parametrize("values, match", [
    (np.full((4, 4, 4), -1000, np.int16), "not a label map"),
    (np.full((4, 4, 4), 0.5, np.float32), "fractional"),
])
def test_not_a_label_map(values, match):
    with pytest.raises(InputError, match=match):
        surfaces_from_labels(Volume(values, (1, 1, 1)))


def test_integral_float_and_int16_maps_are_accepted(shapes):
    vol, _ = shapes.sphere_volume(6.0)
    for dtype in (np.float32, np.int16):
        assert 1 in surfaces_from_labels(Volume(vol.array.astype(dtype), vol.spacing))


def test_cancel_stops_the_job(phantom_labels):
    token = jobs.CancelToken()
    token.cancel()
    with pytest.raises(CancelledError):
        surfaces_from_labels(phantom_labels, progress=token)


def test_progress_is_reported(phantom_labels):
    token = jobs.CancelToken()
    surfaces_from_labels(phantom_labels, labels_wanted=[1, 2], progress=token)
    assert token.updates > 3 and token.done == token.total
