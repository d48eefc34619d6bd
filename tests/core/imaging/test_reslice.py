"""Oblique reslicing: geometry of planes, sampling of known shapes, snap planes."""

import numpy as np
import pytest

from hearttwin.core.errors import InputError
from hearttwin.core.imaging import Volume
from hearttwin.core.imaging.reslice import (Plane, direction_letters, plane_from_annulus, plane_from_pose,
                                            plane_on_centreline, reslice, reslice_labels, sample_points)

RADIUS = 9.0
AXIS = np.array([0.45, -0.3, 0.84]) / np.linalg.norm([0.45, -0.3, 0.84])
# stored i runs toward patient right, j toward superior, k toward posterior: not the identity
DIRECTION = np.array([[-1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, 1.0, 0.0]])


@pytest.fixture(scope="module")
def cylinder():
    """A tilted cylinder (radius 9 mm, 400 HU in -1000 HU air) on an anisotropic, reoriented grid."""
    shape, spacing, origin = (70, 80, 90), (0.8, 0.9, 1.1), (40.0, -30.0, 20.0)  # array (k, j, i)
    vol = Volume(np.zeros(shape, np.int16), spacing, origin, DIRECTION)
    k, j, i = np.indices(shape)
    lps = vol.index_to_lps(np.stack([i, j, k], axis=-1))
    centre = vol.index_to_lps(np.array([45.0, 40.0, 35.0]))
    d = lps - centre
    radial = np.linalg.norm(d - np.outer(d.reshape(-1, 3) @ AXIS, AXIS).reshape(d.shape), axis=-1)
    inside = radial <= RADIUS
    vol.array[:] = np.where(inside, 400, -1000)
    labels = Volume(np.where(inside, 6, 0).astype(np.uint8), spacing, origin, DIRECTION)
    return vol, labels, centre


def _radius_mm(img, spacing, threshold=-300):
    return float(np.sqrt((img > threshold).sum() * spacing ** 2 / np.pi))


def test_perpendicular_reslice_is_a_circle_of_the_right_radius(cylinder):
    vol, labels, centre = cylinder
    plane = Plane.through(centre, AXIS)
    img = reslice(vol, plane, 40.0, 0.25)
    assert img.shape == (160, 160) and img.dtype == np.float32
    assert _radius_mm(img, 0.25) == pytest.approx(RADIUS, abs=0.25)
    rows, cols = np.nonzero(img > -300)  # centred on the plane centre
    assert rows.mean() == pytest.approx(79.5, abs=0.5) and cols.mean() == pytest.approx(79.5, abs=0.5)
    # round: equal extent along u and v
    assert np.ptp(rows) * 0.25 == pytest.approx(2 * RADIUS, abs=0.6)
    assert np.ptp(cols) * 0.25 == pytest.approx(2 * RADIUS, abs=0.6)
    lab = reslice_labels(labels, plane, 40.0, 0.25)
    assert lab.dtype == np.uint8 and set(np.unique(lab)) == {0, 6}
    assert abs(int((lab == 6).sum()) - int((img > -300).sum())) < 0.03 * (lab == 6).sum()


def test_tilting_the_plane_stretches_the_circle_into_the_expected_ellipse(cylinder):
    vol, _, centre = cylinder
    plane = Plane.through(centre, AXIS).rotated("u", 40.0)
    img = reslice(vol, plane, (60.0, 60.0), 0.25)
    rows, cols = np.nonzero(img > -300)
    # tilting about u stretches the section along v by 1 / cos(40°); u keeps the diameter
    assert np.ptp(cols) * 0.25 == pytest.approx(2 * RADIUS, abs=0.6)
    assert np.ptp(rows) * 0.25 == pytest.approx(2 * RADIUS / np.cos(np.radians(40)), abs=0.8)
    # moving along the normal keeps the section (a cylinder) but not outside the volume
    assert _radius_mm(reslice(vol, Plane.through(centre, AXIS).moved(6.0), 40.0, 0.25), 0.25) == \
        pytest.approx(RADIUS, abs=0.25)


def test_plane_containing_the_axis_shows_a_band_two_radii_wide(cylinder):
    vol, _, centre = cylinder
    pose = np.eye(4)
    pose[:3, 2] = AXIS
    pose[:3, 0] = np.cross(AXIS, [1.0, 0.0, 0.0]) / np.linalg.norm(np.cross(AXIS, [1.0, 0.0, 0.0]))
    pose[:3, 1] = np.cross(pose[:3, 2], pose[:3, 0])
    pose[:3, 3] = centre - 10.0 * AXIS
    plane = plane_from_pose(pose, centre=centre + [3.0, 0.0, 0.0])
    assert np.allclose(plane.v, -AXIS) and abs(plane.normal @ AXIS) < 1e-9
    assert np.linalg.norm(np.cross(plane.centre - centre, AXIS)) < 1e-9  # on the axis
    img = reslice(vol, plane, 30.0, 0.25)
    inside_cols = np.nonzero(img[60] > -300)[0]  # any row: the band runs along the axis (v)
    assert np.ptp(inside_cols) * 0.25 == pytest.approx(2 * RADIUS, abs=0.6)
    across = plane_from_pose(pose, perpendicular=True)
    assert np.allclose(across.normal, AXIS) and np.allclose(across.centre, pose[:3, 3])


def test_axial_plane_on_voxel_centres_reproduces_the_stored_slice():
    rng = np.random.default_rng(3)
    vol = Volume(rng.integers(-1000, 1000, (6, 7, 8)).astype(np.int16), (0.7, 0.9, 1.3), (5.0, -2.0, 1.0))
    plane = Plane.axial(vol.index_to_lps([3.5, 3.0, 2.0]))  # between columns 3 and 4, on row 3
    img = reslice(vol, plane, (8 * 0.7, 7 * 0.7), 0.7, order=1)
    assert img.shape == (round(7 * 0.7 / 0.7), 8)
    # u = +L = +i and v = +P = +j; the 7 rows at 0.7 mm span 4.2 mm around row 3 (0.9 mm)
    points = sample_points(plane, img.shape, 0.7)
    ijk = vol.lps_to_index(points)
    assert np.allclose(ijk[..., 0][0], np.arange(8)) and np.allclose(ijk[..., 2], 2.0)
    on_grid = np.isclose(ijk[..., 1], np.round(ijk[..., 1]))
    r, c = np.nonzero(on_grid)
    assert len(r) and np.array_equal(img[r, c], vol.array[2, np.round(ijk[r, c, 1]).astype(int), c])
    assert np.all(reslice(vol, plane.moved(50.0), 10.0, 1.0) == -1000.0)  # outside: air
    assert np.all(reslice(vol, plane.moved(50.0), 10.0, 1.0, fill=-3000) == -3000.0)


def test_rotations_compose_and_stay_orthonormal():
    plane = Plane.through((1.0, 2.0, 3.0), (0.2, -0.4, 0.9), (1.0, 0.0, 0.0))
    for axis in ("u", "v", "normal"):
        a = plane.rotated(axis, 25.0).rotated(axis, 20.0)
        b = plane.rotated(axis, 45.0)
        for name in ("normal", "u", "v"):
            assert np.allclose(getattr(a, name), getattr(b, name), atol=1e-12)
        assert np.allclose(plane.rotated(axis, 70.0).rotated(axis, -70.0).normal, plane.normal)
    quarter = plane.rotated("u", 90.0)  # right-handed about u: v turns into the old normal
    assert np.allclose(quarter.v, plane.normal) and np.allclose(quarter.normal, -plane.v)
    assert np.allclose(plane.rotated("normal", 90.0).u, plane.v)
    rng = np.random.default_rng(0)
    p = plane
    for _ in range(2000):
        p = p.rotated(rng.choice(["u", "v", "normal"]), rng.uniform(-7, 7))
    frame = np.stack([p.u, p.v, p.normal])
    assert np.allclose(frame @ frame.T, np.eye(3), atol=1e-9) and np.linalg.det(frame) == pytest.approx(1.0)
    assert np.allclose(p.centre, plane.centre)
    assert np.allclose(plane.to_plane(plane.to_lps(3.0, -4.0))[..., :2], [3.0, -4.0])


def test_plane_from_annulus_uses_the_measured_centre_normal_and_major_axis():
    normal = np.array([0.3, 0.5, -0.8])
    m = {"annulus": {"centre_lps": [10.0, 20.0, 30.0], "normal_lps": normal.tolist(),
                     "major_axis_lps": [1.0, 0.0, 0.3]}}
    plane = plane_from_annulus(m)
    assert np.allclose(plane.normal, normal / np.linalg.norm(normal))
    assert np.allclose(plane.centre, [10.0, 20.0, 30.0])
    major = np.array([1.0, 0.0, 0.3]) - (np.array([1.0, 0.0, 0.3]) @ plane.normal) * plane.normal
    assert np.allclose(plane.u, major / np.linalg.norm(major))
    assert np.allclose(np.cross(plane.u, plane.v), plane.normal)


@pytest.mark.parametrize("measurements", [{}, None, {"annulus": {}}, {"annulus": {"centre_lps": [0, 0, 0]}}])
def test_missing_annulus_is_an_input_error(measurements):
    with pytest.raises(InputError, match="annulus has not been measured"):
        plane_from_annulus(measurements)


def test_missing_centreline_or_pose_is_an_input_error():
    for m in ({}, {"aortic_centreline": {}}, {"aortic_centreline": {"points_lps": [[0, 0, 0]]}}):
        with pytest.raises(InputError, match="centreline has not been measured"):
            plane_on_centreline(m, 0.5)
    with pytest.raises(InputError, match="place a device"):
        plane_from_pose(np.eye(3))
    with pytest.raises(InputError, match="zero length"):
        Plane.through((0, 0, 0), (0, 0, 0))


def test_plane_on_a_curved_centreline_is_perpendicular_to_it():
    # a quarter circle of radius 30 mm in the L-S plane, 1 mm apart
    angles = np.linspace(0.0, np.pi / 2, 48)
    pts = np.stack([30 * np.cos(angles), np.zeros_like(angles), 30 * np.sin(angles)], axis=1)
    m = {"aortic_centreline": {"points_lps": pts.tolist()}}
    mid = plane_on_centreline(m, 0.5)
    expected = np.array([np.cos(np.radians(45)), 0.0, np.sin(np.radians(45))]) * 30
    assert np.linalg.norm(mid.centre - expected) < 0.1
    tangent = np.array([-1.0, 0.0, 1.0]) / np.sqrt(2)
    assert mid.normal @ tangent == pytest.approx(1.0, abs=1e-3)
    start, end = plane_on_centreline(m, 0.0), plane_on_centreline(m, 1.0)
    assert np.allclose(start.centre, pts[0]) and np.allclose(end.centre, pts[-1])
    assert start.normal @ [0.0, 0.0, 1.0] > 0.99 and end.normal @ [-1.0, 0.0, 0.0] > 0.99
    steady = plane_on_centreline(m, 0.52, u_hint=mid.u)
    assert steady.u @ mid.u > 0.99


def test_direction_letters():
    assert direction_letters([1, 0, 0]) == "L" and direction_letters([0, -1, 0]) == "A"
    assert direction_letters([0.8, 0.0, 0.6]) == "LS" and direction_letters([-0.2, 0.1, -0.97]) == "I"
