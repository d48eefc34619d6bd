import pytest

from hearttwin.core.phantom.generate import generate_phantom
from hearttwin.core.phantom.params import PhantomParams


@pytest.fixture(scope="session")
def small_params():
    return PhantomParams.sample(7, "small")


@pytest.fixture(scope="session")
def small_phantom(small_params):
    return generate_phantom(small_params)


@pytest.fixture(scope="session")
def cine_phantom():
    return generate_phantom(PhantomParams.sample(11, "small", phases=8, calcium=False))
