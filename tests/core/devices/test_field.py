"""AnatomyField: signed distances against analytic shapes, labels, crop, speed."""

import time

import numpy as np
import pytest

from hearttwin.core.devices.field import AnatomyField
from hearttwin.core.errors import CancelledError, InputError
from hearttwin.core.imaging.volume import Volume
from hearttwin.core.jobs import CancelToken

R = 12.0
H = 0.5


def tube(radius=R, spacing=H, half=20.0, length=30.0, lumen=6, wall=5):
    """A straight tube along z (LPS z) centred on the z axis, lumen ``lumen``, wall ``wall``."""
    n = int(round(2 * half / spacing)) + 1
    nz = int(round(length / spacing)) + 1
    c = (np.arange(n) - (n - 1) / 2) * spacing
    inside = c[None, :] ** 2 + c[:, None] ** 2 <= radius ** 2
    arr = np.broadcast_to(np.where(inside, lumen, wall).astype(np.uint8), (nz, n, n)).copy()
    return Volume(arr, (spacing,) * 3, origin=(c[0], c[0], -length / 2))


@pytest.fixture(scope="module")
def tube_field():
    return AnatomyField.from_labels(tube(), (1, 6))


def test_tube_distance_matches_radius(tube_field):
    rho = np.array([0.0, 4.0, 8.0, 11.0, 11.7, 12.3, 13.0, 15.0])
    ang = np.radians([0, 17, 45, 100, 200, 290, 330, 135])
    pts = np.stack([rho * np.cos(ang), rho * np.sin(ang), np.linspace(-5, 5, len(rho))], axis=-1)
    d = tube_field.sample(pts)
    # voxelised circle: boundary within a quarter voxel, plus the staircase
    np.testing.assert_allclose(d, R - rho, atol=0.35)
    assert np.all(np.sign(d[rho < R - 0.5]) > 0) and np.all(np.sign(d[rho > R + 0.5]) < 0)


def test_sphere_in_rotated_anisotropic_volume():
    """Direction and anisotropic spacing are honoured (index <-> LPS)."""
    ang = np.radians(30)
    direction = np.array([[np.cos(ang), -np.sin(ang), 0], [np.sin(ang), np.cos(ang), 0], [0, 0, 1]])
    spacing = (0.6, 0.5, 0.8)
    shape = (50, 70, 60)  # z, y, x
    origin = np.array([-10.0, 5.0, 3.0])
    vol = Volume(np.zeros(shape, np.uint8), spacing, tuple(origin), direction)
    centre = vol.index_to_lps(np.array([30.3, 35.2, 25.4]))
    kk, jj, ii = np.indices(shape)
    lps = vol.index_to_lps(np.stack([ii, jj, kk], axis=-1))
    radius = 10.0
    vol.array[np.linalg.norm(lps - centre, axis=-1) <= radius] = 3
    field = AnatomyField.from_labels(vol, "laa")
    rng = np.random.default_rng(1)
    dirs = rng.normal(size=(200, 3))
    dirs /= np.linalg.norm(dirs, axis=1, keepdims=True)
    dist = rng.uniform(5, 14, size=200)  # near the wall (the medial axis is smoothed by interpolation)
    pts = centre + dist[:, None] * dirs
    np.testing.assert_allclose(field.sample(pts), radius - dist, atol=0.45)


def test_nearest_label_tells_myocardium_from_other_wall():
    vol = tube()
    arr = vol.array
    x = vol.index_to_lps(np.stack([np.arange(arr.shape[2]), np.zeros(arr.shape[2]),
                                   np.zeros(arr.shape[2])], axis=-1))[:, 0]
    arr[(arr == 5) & (x[None, None, :] < 0)] = 0  # wall on -x is "other", +x myocardium
    field = AnatomyField.from_labels(vol, (6,))
    pts = np.array([[11.0, 0.0, 0.0], [-11.0, 0.0, 0.0], [13.5, 0.0, 2.0], [-13.5, 0.0, 2.0]])
    assert field.label_at(pts).tolist() == [5, 0, 5, 0]
    # lumen points 0.5-4 mm from the wall face the wall of their side
    rng = np.random.default_rng(4)
    ang = rng.uniform(-1.0, 1.0, 100) + np.where(rng.random(100) < 0.5, 0.0, np.pi)
    rho = R - rng.uniform(0.5, 4.0, 100)
    ring = np.stack([rho * np.cos(ang), rho * np.sin(ang), rng.uniform(-5, 5, 100)], axis=-1)
    np.testing.assert_array_equal(field.label_at(ring), np.where(np.cos(ang) > 0, 5, 0))
    only_myo = AnatomyField.from_labels(vol, (6,), tissue_labels=(0,))
    assert only_myo.label_at(pts).tolist() == [0, 0, 0, 0]


def test_crop_matches_full_field(tube_field):
    cropped = AnatomyField.from_labels(tube(), (1, 6), centre_lps=(0, 0, 0), radius_mm=6.0,
                                       margin_mm=8.0)
    assert cropped.distance.size < tube_field.distance.size / 2
    rng = np.random.default_rng(2)
    pts = rng.uniform(-6, 6, size=(500, 3)) / np.sqrt(3)
    pts[:, 0] += 8.0  # near the wall on +x, within the sphere of interest + margin
    np.testing.assert_allclose(cropped.sample(pts), tube_field.sample(pts), atol=1e-4)


def test_sample_keeps_shape_and_clamps_outside(tube_field):
    pts = np.zeros((4, 5, 3))
    assert tube_field.sample(pts).shape == (4, 5)
    far = tube_field.sample(np.array([[0.0, 0.0, 500.0]]))  # beyond the end of the tube grid
    assert far[0] == pytest.approx(tube_field.sample(np.array([[0.0, 0.0, 15.0]]))[0], abs=1e-4)


def test_missing_lumen_is_an_input_error():
    with pytest.raises(InputError, match="no voxel of labels"):
        AnatomyField.from_labels(tube(), (2, 7))
    with pytest.raises(InputError, match="Unknown device position"):
        AnatomyField.from_labels(tube(), "tricuspid")
    with pytest.raises(InputError, match="outside the label map"):
        AnatomyField.from_labels(tube(), (6,), centre_lps=(500, 0, 0), radius_mm=5)


def test_build_reports_progress_and_can_be_cancelled():
    token = CancelToken()
    AnatomyField.from_labels(tube(), (6,), progress=token)
    assert token.updates > 0 and token.done == token.total
    token = CancelToken()
    token.cancel()
    with pytest.raises(CancelledError):
        AnatomyField.from_labels(tube(), (6,), progress=token)


def test_sampling_50k_points_is_fast(tube_field):
    rng = np.random.default_rng(3)
    # a device-like cloud: rings on a cylinder
    th = rng.uniform(0, 2 * np.pi, 50_000)
    pts = np.stack([11 * np.cos(th), 11 * np.sin(th), rng.uniform(-10, 10, 50_000)], axis=-1)
    best = np.inf
    for _ in range(5):
        t0 = time.perf_counter()
        tube_field.sample(pts)
        best = min(best, time.perf_counter() - t0)
    assert best < 0.010, f"50k samples took {best * 1e3:.1f} ms"
