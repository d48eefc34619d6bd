"""Model-based heart motion from one CT phase: volumes, fold-free maps, root dilation."""

import numpy as np
import pytest

from hearttwin.core.errors import CancelledError, InputError
from hearttwin.core.imaging.volume import Volume
from hearttwin.core.jobs import CancelToken
from hearttwin.core.phantom.cycle import atrial_fraction, ventricular_fraction
from hearttwin.core.phantom.generate import generate_phantom
from hearttwin.core.phantom.params import PhantomParams
from hearttwin.core.simulation.motion import CHAMBERS, HeartMotion, MotionSettings

N_PHASES = 6
PHASES = np.arange(N_PHASES) / N_PHASES


def jacobian_volumes(motion, label, h=0.4, stride=2):
    """Chamber volume (mL) in the image per phase, from central differences of ``displacements``.

    Independent of the fit's own integration: the map is probed only through
    the public point API. Chamber points carried out of the image (a caval
    vein pushed through the field of view's edge) do not count.
    """
    labels = motion.labels
    arr = labels.array
    sub = np.argwhere(arr[::stride, ::stride, ::stride] == label) * stride
    pts = labels.index_to_lps(sub[:, ::-1].astype(float))
    weight = np.count_nonzero(arr == label) * labels.voxel_volume_mm3 / len(pts)
    moved = labels.lps_to_index(pts[None] + motion.displacements(pts))
    in_fov = np.all((moved > -0.5) & (moved < np.array(labels.size) - 0.5), axis=-1)
    cols = []
    for axis in range(3):
        step = np.zeros(3)
        step[axis] = h
        d = motion.displacements(pts + step) - motion.displacements(pts - step)
        cols.append(d / (2 * h))
    jac = np.stack(cols, axis=-1) + np.eye(3)  # (P, N, 3 comps, 3 axes)
    return (np.linalg.det(jac) * in_fov).sum(axis=1) * weight / 1000.0


def warp_tolerance(target, reference):
    """Warped-label counts: 2 % plus half of a change too small to move whole voxel layers."""
    return 0.02 * target + 0.5 * abs(target - reference)


@pytest.fixture(scope="module")
def ellipsoid():
    n, sp = 56, 2.0
    z, y, x = np.mgrid[:n, :n, :n] * sp - (n - 1) * sp / 2
    r = np.sqrt(x ** 2 + (y / 0.9) ** 2 + (z / 1.5) ** 2)
    lab = np.zeros((n, n, n), np.uint8)
    lab[r < 32] = 5
    lab[r < 23] = 1
    labels = Volume(lab, (sp, sp, sp), (-55.0, -55.0, -55.0))
    v_ed = np.count_nonzero(lab == 1) * sp ** 3 / 1000.0
    # LV 130 -> 50 mL, scaled to the ellipsoid's own end-diastolic volume
    curve = v_ed * (1.0 - (1.0 - 50.0 / 130.0) * np.sin(np.pi * PHASES) ** 2)
    motion = HeartMotion.fit(labels, {"LV": curve}, phases=PHASES)
    return motion, curve, v_ed


def test_ellipsoid_volumes_follow_the_curve(ellipsoid):
    motion, curve, v_ed = ellipsoid
    vols = jacobian_volumes(motion, 1)
    assert np.all(np.abs(vols / curve - 1) < 0.02), vols / curve
    assert min(curve) / v_ed < 0.45  # the curve really contracts the LV
    for p in range(N_PHASES):
        assert motion.jacobian_min(p) > 0.0
    es = int(np.argmin(curve))
    warped = motion.label_volumes_ml(es)["LV"]
    assert abs(warped - curve[es]) < warp_tolerance(curve[es], v_ed)


def test_ellipsoid_contracts_radially_and_shortens(ellipsoid):
    motion, curve, _ = ellipsoid
    es = int(np.argmin(curve))
    # apex and base on the long (z) axis, two opposite points on the short axis
    pts = np.array([[0, 0, -34.0], [0, 0, 34.0], [-23.0, 0, 0], [23.0, 0, 0]])
    moved = motion.warp_points(pts, es)
    length = np.linalg.norm(moved[1] - moved[0]) / 68.0
    width = np.linalg.norm(moved[3] - moved[2]) / 46.0
    assert 0.6 < length < 0.95
    assert 0.5 < width < 0.9
    # the wall thickens as the cavity shrinks and keeps most of its volume
    wall = motion.warp_points([[23.0, 0, 0], [32.0, 0, 0]], es)
    assert (wall[1, 0] - wall[0, 0]) / 9.0 > 1.15
    myo = jacobian_volumes(motion, 5)
    assert myo[es] / myo[0] > 0.8
    # far from the heart nothing moves much; the field is smooth (no jumps)
    assert np.abs(motion.displacement([[0, 0, 200.0]], es)).max() < 2.0
    rng = np.random.default_rng(1)
    a = rng.uniform(-40, 40, (2000, 3))
    b = a + rng.normal(0, 0.5, a.shape)
    du = np.linalg.norm(motion.displacement(a, es) - motion.displacement(b, es), axis=1)
    assert np.max(du / np.linalg.norm(a - b, axis=1)) < 1.0


@pytest.fixture(scope="module")
def phantom_motion():
    phantom = generate_phantom(PhantomParams.sample(7, "small", calcium=False))
    labels = phantom.phases[0].labels
    ref = {k: np.count_nonzero(labels.array == v) * labels.voxel_volume_mm3 / 1000.0
           for k, v in CHAMBERS.items()}
    curves = {
        "LV": ref["LV"] * ventricular_fraction(PHASES, 0.6),
        "RV": ref["RV"] * ventricular_fraction(PHASES, 0.5),
        "LA": ref["LA"] * atrial_fraction(PHASES, 0.4) / atrial_fraction(0.0, 0.4),
        "RA": ref["RA"] * atrial_fraction(PHASES, 0.4) / atrial_fraction(0.0, 0.4),
    }
    pressure = 80.0 + 40.0 * np.clip(np.sin(np.pi * (PHASES - 0.05) / 0.4), 0.0, None)
    settings = MotionSettings(root_compliance=0.0012)
    token = CancelToken()
    motion = HeartMotion.fit(labels, curves, pressure, PHASES, settings=settings,
                             progress=token)
    return motion, curves, ref, pressure, settings, token


def test_phantom_chamber_volumes_within_2_percent(phantom_motion):
    motion, curves, ref, _, _, token = phantom_motion
    assert token.updates > 0 and token.done == token.total
    for key, label in CHAMBERS.items():
        vols = jacobian_volumes(motion, label)
        assert np.all(np.abs(vols / curves[key] - 1) < 0.02), (key, vols / curves[key])
    for p in range(N_PHASES):
        assert motion.jacobian_min(p) > 0.0


def test_phantom_warped_label_volumes(phantom_motion):
    motion, curves, ref, _, _, _ = phantom_motion
    for p in (2, 4):  # end-systole and diastole
        vols = motion.label_volumes_ml(p)
        for key in CHAMBERS:
            assert abs(vols[key] - curves[key][p]) < warp_tolerance(curves[key][p], ref[key]), \
                (p, key, vols[key], curves[key][p])
        # structures that do not pump keep their volume, the myocardium most of it
        before = motion.label_volumes_ml(0, motion.labels)
        assert abs(vols["AO"] / before["AO"] - 1) < 0.05
        assert vols["MYO"] / before["MYO"] > 0.8


def test_annulus_area_follows_pressure(phantom_motion):
    motion, _, _, pressure, settings, _ = phantom_motion
    ann = motion.annulus
    assert ann is not None and 15 < 2 * ann["radius_mm"] < 35
    pts = ann["points_lps"]
    normal = ann["normal_lps"]
    basis = np.linalg.svd(np.eye(3) - np.outer(normal, normal))[0][:, :2]

    def area_measure(p):
        flat = (p - p.mean(axis=0)) @ basis
        return np.sqrt(np.linalg.det(np.cov(flat.T)))  # proportional to the ring's area

    base = area_measure(pts)
    expected = settings.root_compliance * (pressure - pressure[0])
    assert expected.max() > 0.03  # the test pressure makes a visible change
    for p in range(N_PHASES):
        change = area_measure(motion.warp_points(pts, p)) / base - 1.0
        assert abs(change - expected[p]) < 0.005, (p, change, expected[p])


def test_all_phases_at_once_match_single_phase(phantom_motion):
    motion = phantom_motion[0]
    pts = motion.annulus["points_lps"][:50]
    every = motion.displacements(pts)
    assert every.shape == (N_PHASES, len(pts), 3)
    for p in range(N_PHASES):
        np.testing.assert_allclose(every[p], motion.displacement(pts, p), atol=1e-4)


def test_bad_inputs_and_cancel(ellipsoid):
    motion, curve, _ = ellipsoid
    labels = motion.labels
    with pytest.raises(InputError, match="same number"):
        HeartMotion.fit(labels, {"LV": curve, "RV": curve[:3]})
    with pytest.raises(InputError, match="no RV"):
        HeartMotion.fit(labels, {"LV": curve, "RV": curve})
    with pytest.raises(InputError, match="positive"):
        HeartMotion.fit(labels, {"LV": -curve})
    with pytest.raises(InputError, match="out of range"):
        motion.displacement([[0, 0, 0]], N_PHASES)
    token = CancelToken()
    token.cancel()
    with pytest.raises(CancelledError):
        HeartMotion.fit(labels, {"LV": curve}, progress=token)


def _rotated_grid(shape=(14, 12, 13), spacing=3.0):
    from hearttwin.core.simulation.deform import Grid

    rot = np.linalg.qr(np.random.default_rng(3).standard_normal((3, 3)))[0]
    return Grid(np.array([-20.0, -15.0, -18.0]), spacing, rot, shape)


def test_jacobian_and_region_volumes_of_an_affine_map():
    """Trilinear fields reproduce an affine map exactly: det(A) everywhere, volumes times det(A)."""
    from hearttwin.core.simulation import deform

    grid = _rotated_grid()
    a = np.array([[0.8, 0.1, 0.0], [-0.05, 1.1, 0.2], [0.0, 0.1, 0.7]])
    nodes = grid.nodes_lps()  # (nz, ny, nx, 3)
    u = np.moveaxis(nodes @ (a - np.eye(3)).T, -1, 0).astype(np.float32)
    assert deform.jacobian_min(u, grid) == pytest.approx(np.linalg.det(a), rel=1e-4)
    rng = np.random.default_rng(0)
    centre = nodes.reshape(-1, 3).mean(axis=0)
    regions = [(centre + rng.uniform(-5, 5, (200, 3)), np.full(200, 0.5)),
               (centre + rng.uniform(-3, 3, (50, 3)), np.full(50, 2.0))]
    vols = deform.RegionVolumes(grid, regions).volumes(u)
    np.testing.assert_allclose(vols, np.array([100.0, 100.0]) * np.linalg.det(a), rtol=1e-4)
    # folding: a reflected axis gives a negative determinant
    flip = np.diag([1.0, -1.0, 1.0])
    u_flip = np.moveaxis(nodes @ (flip - np.eye(3)).T, -1, 0).astype(np.float32)
    assert deform.jacobian_min(u_flip, grid) == pytest.approx(-1.0, rel=1e-4)


def test_inverse_of_a_strong_local_stretch():
    """A smooth bump that stretches space 2.5-fold at its centre (plain fixed-point
    inversion diverges there); the inverse maps every node back onto itself."""
    from hearttwin.core.simulation import deform

    grid = _rotated_grid(shape=(24, 22, 23), spacing=2.0)
    nodes = grid.nodes_lps()
    c = nodes.reshape(-1, 3).mean(axis=0)
    d = nodes - c
    # u = k d exp(-|d|^2 / s^2): grad u at the centre is k I (stretch 1 + k)
    u = np.moveaxis(1.5 * d * np.exp(-np.sum(d ** 2, axis=-1) / 64.0)[..., None], -1, 0)
    u = u.astype(np.float32)
    assert deform.jacobian_min(u, grid) > 0.0
    v = deform.invert(u, grid)
    pre = nodes.reshape(-1, 3) + v.reshape(3, -1).T
    back = pre + deform.interpolate(u, grid, pre).T
    assert np.abs(back - nodes.reshape(-1, 3)).max() < 0.03
    assert np.abs(v).max() > 3.0  # it really moved
