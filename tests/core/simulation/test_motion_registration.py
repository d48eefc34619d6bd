"""Heart motion from several CT phases by registration (two-phase phantom)."""

import numpy as np
import pytest

from hearttwin.core.errors import CancelledError, InputError
from hearttwin.core.jobs import CancelToken
from hearttwin.core.phantom.generate import generate_phantom
from hearttwin.core.phantom.params import PhantomParams
from hearttwin.core.simulation.motion import CHAMBERS, HeartMotion


@pytest.fixture(scope="module")
def two_phases():
    phantom = generate_phantom(PhantomParams.sample(7, "small", phases=2, calcium=False))
    return [p.image for p in phantom.phases], [p.labels for p in phantom.phases]


def test_registration_recovers_second_phase(two_phases):
    images, labels = two_phases
    token = CancelToken()
    motion = HeartMotion.from_phases(images, labels[0], progress=token, iterations=(20, 15))
    assert motion.method == "registration" and motion.n_phases == 2
    assert token.updates > 0
    lv = labels[0].index_to_lps(np.argwhere(labels[0].array == 1)[::50, ::-1].astype(float))
    assert np.abs(motion.displacement(lv, 0)).max() == 0.0  # the reference phase
    assert np.abs(motion.displacement(lv, 1)).max() > 3.0
    assert motion.jacobian_min(1) > 0.0
    warped = motion.warp_labels(1)
    got = motion.label_volumes_ml(1, warped)
    truth = motion.label_volumes_ml(1, labels[1])
    before = motion.label_volumes_ml(1, labels[0])
    for key, label in CHAMBERS.items():
        # the phases differ by 10-35 % in volume; registration lands within 5 %
        assert abs(before[key] / truth[key] - 1) > 0.1
        assert abs(got[key] / truth[key] - 1) < 0.05, (key, got[key], truth[key])
        a, b = warped.array == label, labels[1].array == label
        dice = 2 * np.count_nonzero(a & b) / (np.count_nonzero(a) + np.count_nonzero(b))
        assert dice > 0.93, (key, dice)


def test_registration_inputs_and_cancel(two_phases):
    images, labels = two_phases
    with pytest.raises(InputError, match="at least two"):
        HeartMotion.from_phases(images[:1], labels[0])
    with pytest.raises(InputError, match="phases given"):
        HeartMotion.from_phases(images, labels[0], phases=[0.0])
    token = CancelToken()
    token.cancel()
    with pytest.raises(CancelledError):
        HeartMotion.from_phases(images, labels[0], progress=token, iterations=(5, 5))
