"""Shared label maps for the mesh tests: the small phantom and analytic shapes."""

import numpy as np
import pytest

from hearttwin.core.imaging.volume import Volume


@pytest.fixture(scope="session")
def phantom_labels():
    from hearttwin.core.phantom.generate import generate_phantom
    from hearttwin.core.phantom.params import PhantomParams

    return generate_phantom(PhantomParams.sample(3, "small")).phases[0].labels


@pytest.fixture(scope="session")
def phantom_surfaces(phantom_labels):
    from hearttwin.core.mesh import surfaces_from_labels

    return surfaces_from_labels(phantom_labels)


@pytest.fixture(scope="session")
def shapes():
    """The shape helpers below (fixtures, since test modules cannot import conftest)."""
    return _Shapes


def ball(shape, centre, radius, spacing=(1.0, 1.0, 1.0)):
    """Boolean (z, y, x) mask of a ball; centre (i, j, k) in voxels, radius in mm."""
    z, y, x = np.indices(shape)
    d2 = sum(((g - c) * s) ** 2 for g, c, s in zip((x, y, z), centre, spacing))
    return d2 <= radius ** 2


def sphere_volume(radius=12.0, spacing=(1.0, 1.0, 1.0), **geometry):
    shape = tuple(int(2 * radius / s) + 8 for s in spacing[::-1])
    centre = [(n - 1) / 2 for n in shape[::-1]]
    arr = ball(shape, centre, radius, spacing).astype(np.uint8)
    return Volume(arr, spacing, **geometry), centre


class _Shapes:
    ball = staticmethod(ball)
    sphere_volume = staticmethod(sphere_volume)
