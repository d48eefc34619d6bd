"""Sensitivity of the fit metrics: one-voxel segmentation shifts, device moves, root compliance and
blood pressure (small phantom, seed 2)."""

import numpy as np
import pytest
from scipy import ndimage

from hearttwin.core.anatomy import measure_all
from hearttwin.core.errors import CancelledError
from hearttwin.core.imaging.volume import Volume
from hearttwin.core.jobs import CancelToken
from hearttwin.core.phantom.generate import generate_phantom
from hearttwin.core.phantom.params import PhantomParams
from hearttwin.core.simulation.cycle import plan_cycle
from hearttwin.core.simulation.sensitivity import (cycle_motion, fit_sensitivity, intervals,
                                                   shift_lumen)

PHASES = 6


def _ball_in_shell():
    """Label 1 ball (radius 6 voxels) inside a label-5 shell (radius 9) in a label-0 box."""
    z, y, x = np.mgrid[:24, :24, :24] - 12
    r = np.sqrt(x * x + y * y + z * z)
    arr = np.zeros((24, 24, 24), np.uint8)
    arr[r <= 9] = 5
    arr[r <= 6] = 1
    arr[1:5, 1:5, 1:5] = 6  # a separate lumen blob touching only background
    return Volume(arr, (1.0, 1.0, 1.0), (0.0, 0.0, 0.0), np.eye(3))


def test_shift_lumen_moves_the_boundary_by_one_voxel():
    vol = _ball_in_shell()
    arr = vol.array
    cross = ndimage.generate_binary_structure(3, 1)
    lumen = np.isin(arr, (1, 6))
    grown = shift_lumen(vol, (1, 6), "dilated").array
    shrunk = shift_lumen(vol, (1, 6), "eroded").array
    np.testing.assert_array_equal(np.isin(grown, (1, 6)), ndimage.binary_dilation(lumen, cross))
    np.testing.assert_array_equal(np.isin(shrunk, (1, 6)), ndimage.binary_erosion(lumen, cross))
    # the ball grows into the shell as label 1; its lost rim becomes shell (5), the blob's rim 0
    gained = np.isin(grown, (1, 6)) & ~lumen
    assert set(np.unique(grown[gained & (arr == 5)])) == {1}
    lost = lumen & ~np.isin(shrunk, (1, 6))
    assert set(np.unique(shrunk[lost & (arr == 1)])) == {5}
    assert set(np.unique(shrunk[lost & (arr == 6)])) <= {0}
    # away from the boundary nothing changed
    far = ~ndimage.binary_dilation(lumen ^ ndimage.binary_erosion(lumen, cross), cross, iterations=2)
    np.testing.assert_array_equal(grown[far], arr[far])
    # the 1-voxel shell of a radius-6 ball: a few hundred voxels either way
    assert 500 < np.count_nonzero(gained) < 1500 and 300 < np.count_nonzero(lost) < 1200
    with pytest.raises(ValueError):
        shift_lumen(vol, (1,), "opened")


def test_intervals_span_the_nominal_and_every_run():
    out = intervals({"max_gap_mm": 0.5, "apposition_percent": 90.0},
                    [{"max_gap_mm": 0.2, "apposition_percent": 95.0}, {"max_gap_mm": 1.3},
                     {"max_gap_mm": None, "apposition_percent": 80.0}])
    assert out["max_gap_mm"] == 0.5 and out["max_gap_mm_range"] == [0.2, 1.3]
    assert out["apposition_percent_range"] == [80.0, 95.0]
    assert list(out)[0] == "apposition_percent"  # report order, not input order


@pytest.fixture(scope="module")
def case():
    p = generate_phantom(PhantomParams.sample(2, "small")).phases[0]
    return p.labels, p.image, measure_all(p.labels, p.image)


def _areas(plan):
    return np.array([r["metrics"]["annulus_area_mm2"] for r in plan["phases"]])


def test_root_compliance_sets_how_much_the_annulus_breathes(case):
    labels, _, m = case
    common = dict(device_id="thv-balloon", size=26, measurements=m, n_phases=PHASES)
    default = plan_cycle(labels, **common)
    same = plan_cycle(labels, motion=cycle_motion(labels, m, n_phases=PHASES), **common)
    assert same["worst"] == default["worst"]  # cycle_motion rebuilds plan_cycle's own motion
    rigid = plan_cycle(labels, motion=cycle_motion(labels, m, n_phases=PHASES, root_compliance=0.0),
                       **common)
    soft = plan_cycle(labels, motion=cycle_motion(labels, m, n_phases=PHASES, root_compliance=0.002),
                      **common)
    swing = {k: np.ptp(_areas(p)) / _areas(p).min() for k, p in
             (("rigid", rigid), ("default", default), ("soft", soft))}
    # a rigid root still moves a little with the ventricle (< 1.5 %); compliance adds to it
    assert swing["rigid"] < 0.015 and swing["rigid"] < swing["default"] < swing["soft"]
    # ~0.1 % of area per mmHg over a ~40-50 mmHg pulse pressure
    assert 0.02 < swing["default"] < 0.08
    assert swing["soft"] - swing["rigid"] > 1.5 * (swing["default"] - swing["rigid"])


@pytest.fixture(scope="module")
def sensitivity(case):
    labels, image, m = case
    return fit_sensitivity(labels, device_id="thv-balloon", size=26, image=image, measurements=m,
                           n_phases=PHASES, compliances=(0.0,), pressures=((150.0, 70.0),))


def test_every_factor_reports_intervals_around_the_nominal(sensitivity):
    s = sensitivity
    assert [len(s["factors"][f]["runs"]) for f in ("segmentation", "position", "compliance",
                                                   "pressure")] == [2, 6, 1, 1]
    for key, nominal in s["nominal"].items():
        lo, hi = s["overall"][key + "_range"]
        assert lo <= nominal <= hi
        for f in s["factors"].values():
            flo, fhi = f["intervals"][key + "_range"]
            assert lo <= flo <= nominal <= fhi <= hi
    spread = {k: np.subtract(*s["overall"][k + "_range"][::-1]) for k in s["nominal"]}
    assert spread["max_penetration_mm"] > 0.1  # the inputs do matter


def test_a_one_millimetre_move_changes_distances_by_at_most_a_millimetre(sensitivity):
    s = sensitivity
    runs = {r["label"]: r["metrics"] for r in s["factors"]["position"]["runs"]}
    nominal = s["nominal"]
    # a rigid 1 mm move changes a distance to a fixed point by at most 1 mm (+ rounding)
    for metrics in runs.values():
        for key in ("coronary_distance_left_mm", "coronary_distance_right_mm"):
            assert abs(metrics[key] - nominal[key]) <= 1.0 + 0.02
    # moving along the axis shifts the implant depth by the move (downstream = shallower)
    assert runs["axial +1.0 mm"]["implant_depth_mm"] == pytest.approx(
        nominal["implant_depth_mm"] - 1.0, abs=0.1)
    assert runs["axial -1.0 mm"]["implant_depth_mm"] == pytest.approx(
        nominal["implant_depth_mm"] + 1.0, abs=0.1)


def test_segmentation_shift_changes_the_chambers_and_the_fit(sensitivity):
    seg = {r["label"]: r["metrics"] for r in sensitivity["factors"]["segmentation"]["runs"]}
    grown, shrunk = seg["lumen dilated by 1 voxel"], seg["lumen eroded by 1 voxel"]
    nominal = sensitivity["nominal"]
    # a wider lumen is penetrated less deeply, a narrower one more
    assert grown["max_penetration_mm"] < nominal["max_penetration_mm"] < shrunk["max_penetration_mm"]


def test_sensitivity_is_cancellable(case):
    labels, image, m = case
    token = CancelToken()
    token.cancel()
    with pytest.raises(CancelledError):
        fit_sensitivity(labels, device_id="thv-balloon", size=26, image=image, measurements=m,
                        n_phases=PHASES, progress=token)
