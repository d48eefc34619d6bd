"""Device poses: automatic placement at an anchor and the move/rotate/depth API."""

from types import SimpleNamespace

import numpy as np
import pytest

from hearttwin.core.devices import placement as pl
from hearttwin.core.devices.anchors import Anchor


def family(shape: str, depth_mm: float = 0.0, **geometry):
    return SimpleNamespace(shape=shape, position="test", placement={"depth_mm": depth_mm},
                           size=lambda s: SimpleNamespace(geometry=geometry))


def anchor(axis=(0.3, -0.5, 0.8)):
    a = np.asarray(axis, float) / np.linalg.norm(axis)
    return Anchor("test", np.array([10.0, -20.0, 35.0]), a, None, {})


def test_pose_is_rigid_and_coaxial():
    an = anchor()
    pose = pl.pose_from(an.centre, an.axis, reference=(1, 0, 0))
    assert pl.is_rigid(pose)
    assert np.allclose(pose[:3, 2], an.axis)
    assert np.allclose(pose[:3, 3], an.centre)
    assert pose[:3, 0] @ [1, 0, 0] > 0.9  # x as close to the reference as possible


def test_valve_inflow_sits_at_the_recommended_depth_below_the_anchor():
    fam, an = family("cylinder", depth_mm=3.0, diameter_mm=26, height_mm=18), anchor()
    pose = pl.auto_place(fam, 26, an)
    assert np.allclose(pose[:3, 3], an.centre - 3.0 * an.axis)
    assert pl.depth(pose, fam, 26, an) == pytest.approx(3.0)
    deeper = pl.set_depth(pose, fam, 26, an, 6.0)
    assert pl.depth(deeper, fam, 26, an) == pytest.approx(6.0)
    assert np.allclose(deeper[:3, :3], pose[:3, :3])


def test_plug_atrial_face_at_the_ostium_and_occluder_waist_in_the_septum():
    an = anchor()
    plug = family("plug", depth_mm=0.0, diameter_mm=27, length_mm=20)
    pose = pl.auto_place(plug, 27, an)
    assert np.allclose(pose[:3, 3] + 20.0 * pose[:3, 2], an.centre)  # atrial face
    disc = family("double_disc", waist_diameter_mm=12, waist_length_mm=4, disc_thickness_mm=2,
                  left_disc_diameter_mm=24, right_disc_diameter_mm=20)
    pose = pl.auto_place(disc, 12, an)
    assert np.allclose(pose[:3, 3] + 4.0 * pose[:3, 2], an.centre)  # waist middle


def test_rotate_tilt_and_move():
    fam, an = family("cylinder", depth_mm=4.0, diameter_mm=23, height_mm=17), anchor()
    pose = pl.auto_place(fam, 23, an)
    tilted = pl.tilt(pose, 7.5)
    assert pl.is_rigid(tilted)
    assert pl.axis_angle_deg(tilted, an) == pytest.approx(7.5)
    assert np.allclose(tilted[:3, 3], pose[:3, 3])  # about the inflow centre
    about = an.centre
    r = pl.rotate(pose, an.axis, 90.0, about_lps=about)  # spin about its own axis
    assert np.allclose(r[:3, 2], pose[:3, 2]) and np.allclose(r[:3, 3], pose[:3, 3])
    assert np.allclose(r[:3, 0], pose[:3, 1], atol=1e-9)
    moved = pl.move(pose, [1.0, 2.0, -3.0])
    assert np.allclose(moved[:3, 3] - pose[:3, 3], [1, 2, -3])
    up = pl.move_along_axis(pose, 2.0)
    assert pl.depth(up, fam, 23, an) == pytest.approx(2.0)
    assert pl.depth(pose, fam, 23, an) == pytest.approx(4.0)  # the original is unchanged


def test_non_rigid_pose_detected():
    pose = np.eye(4)
    pose[0, 0] = 1.2
    assert not pl.is_rigid(pose)
    assert not pl.is_rigid(np.eye(3))
