"""3D-print mode: closed, hollowed to a wall thickness, cut open and still watertight."""

import numpy as np
import pytest

from hearttwin.core.errors import InputError
from hearttwin.core.mesh import make_printable, mesh_report, surfaces_from_labels


@pytest.fixture(scope="module")
def sphere(shapes):
    vol, centre = shapes.sphere_volume(20.0, origin=(10.0, -20.0, 5.0))
    return surfaces_from_labels(vol)[1], vol.index_to_lps(centre)


def test_solid_print_is_closed_and_keeps_volume(sphere):
    poly, _ = sphere
    r = mesh_report(make_printable(poly))
    assert r["watertight"] and r["manifold"] and r["outward"]
    assert r["volume_ml"] == pytest.approx(mesh_report(poly)["volume_ml"], rel=1e-3)


def test_hollow_shell_has_the_wall_volume(sphere):
    poly, _ = sphere
    outer_ml = mesh_report(poly)["volume_ml"]
    shell = mesh_report(make_printable(poly, wall_mm=2.0))
    assert shell["watertight"] and shell["manifold"] and shell["outward"]
    # outer volume minus a ball 2 mm smaller
    expected = outer_ml - 4 / 3 * np.pi * 18.0 ** 3 / 1000
    assert shell["volume_ml"] == pytest.approx(expected, rel=0.05)


def test_cut_shell_is_open_inside_yet_watertight(sphere):
    poly, centre = sphere
    cut = make_printable(poly, wall_mm=2.0, cut_plane=(centre, (0, 0, -1)))
    r = mesh_report(cut)
    assert r["watertight"] and r["manifold"], r
    b = cut.GetBounds()
    assert b[5] == pytest.approx(centre[2], abs=1e-3)  # the part below the plane is kept
    assert b[4] == pytest.approx(centre[2] - 20.0, abs=0.6)
    # half of the shell
    full = mesh_report(make_printable(poly, wall_mm=2.0))["volume_ml"]
    assert r["volume_ml"] == pytest.approx(full / 2, rel=0.05)


def test_solid_cut_caps_the_section(sphere):
    poly, centre = sphere
    r = mesh_report(make_printable(poly, cut_plane=(centre, (1, 0, 0))))
    assert r["watertight"] and r["manifold"] and r["outward"]
    assert r["volume_ml"] == pytest.approx(mesh_report(poly)["volume_ml"] / 2, rel=0.03)


def test_bad_print_options(sphere):
    poly, centre = sphere
    with pytest.raises(InputError, match="no cavity"):
        make_printable(poly, wall_mm=25.0)
    with pytest.raises(InputError, match="positive"):
        make_printable(poly, wall_mm=0.0)
    with pytest.raises(InputError, match="whole model"):
        make_printable(poly, cut_plane=(centre + np.array([0, 0, 30.0]), (0, 0, 1)))
