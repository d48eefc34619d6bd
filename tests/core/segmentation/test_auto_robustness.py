"""Robustness of the automatic pipeline to what real scans vary, and its behaviour
when a structure is out of view or the job is cancelled."""

import numpy as np
import pytest


from hearttwin.core.errors import CancelledError, InputError
from hearttwin.core.imaging.volume import Volume
from hearttwin.core.jobs import CancelToken
from hearttwin.core.phantom.generate import generate_phantom
from hearttwin.core.phantom.params import PhantomParams
from hearttwin.core.segmentation.auto import segment_heart

# seed 3 (held out) with one acquisition property pushed to an extreme each;
# thresholds: measured minimum Dice of the case minus a small margin
CASES = {
    "low contrast, weak right heart": (dict(blood_left=260.0, right_mix=0.62), 0.92),
    "noisy": (dict(noise_std=45.0), 0.94),
    "heart off-centre in the field of view": (dict(fov_offset=(35.0, 10.0, -12.0)), 0.94),
    "fine pixels, thicker slices": (dict(spacing=(0.9, 0.9, 1.2), size=(200, 200, 130)), 0.94),
    # low contrast with vertebral marrow brighter than the blood (tuning seed 113
    # failed completely: the affine fit was pulled onto the spine); measured min 0.978
    "marrow brighter than low-contrast blood": (dict(blood_left=270.0, marrow=400.0), 0.95),
}


@pytest.mark.parametrize("name", list(CASES))
def test_robust_to_acquisition(name, dice_per_label):
    overrides, threshold = CASES[name]
    phase = generate_phantom(PhantomParams.sample(3, "small", **overrides)).phases[0]
    result = segment_heart(phase.image)
    scores = dice_per_label(result.labels.array, phase.labels.array)
    assert min(scores.values()) >= threshold, scores
    assert result.missing == []


def test_implausible_affine_fit_falls_back_to_translation(monkeypatch, held_out_phantoms,
                                                          dice_per_label):
    """An affine fit that inflates the heart (as the bone-pulled fit of tuning seed 113
    did: scales 1.7 / 1.3) is rejected and the translation placement used instead."""
    from hearttwin.core.segmentation import register

    assert not register.plausible(_scaled(register.translation_transform(np.zeros(3)),
                                          (1.7, 1.3, 1.05)))
    assert register.plausible(_scaled(register.translation_transform(np.zeros(3)),
                                      (1.15, 0.9, 1.05)))
    fit = register.affine

    def inflated(*args, **kwargs):
        return _scaled(fit(*args, **kwargs), (1.6, 1.3, 1.05))

    monkeypatch.setattr(register, "affine", inflated)
    phase = held_out_phantoms[2]
    token = CancelToken()
    result = segment_heart(phase.image, progress=token)
    assert token.updates >= 10 and token.done == token.total  # progress reaches the end
    assert result.params["prior_fit"].startswith("translation")
    scores = dice_per_label(result.labels.array, phase.labels.array)
    assert min(scores.values()) >= 0.95, scores  # measured min 0.971
    assert result.missing == []


def _scaled(tx, factors):
    m = np.array(tx.GetMatrix()).reshape(3, 3) @ np.diag(factors)
    tx.SetMatrix([float(v) for v in m.ravel()])
    return tx


def test_heart_not_found_is_said_first(monkeypatch, held_out_phantoms):
    """A prior placed away from the heart finds no blood: a clear warning, no labels."""
    from hearttwin.core.segmentation import register

    monkeypatch.setattr(register, "initial_translation", lambda *a, **k: np.array(
        [0.0, 0.0, 400.0]))
    result = segment_heart(held_out_phantoms[1].image)
    assert set(result.missing) == {"LV", "RV", "LA", "RA", "MYO", "AO", "PA"}
    assert result.warnings[0].startswith("Heart not found")
    assert not result.labels.array.any()


def test_pulmonary_artery_out_of_view_is_reported(held_out_phantoms, dice_per_label):
    phase = held_out_phantoms[1]
    truth = phase.labels.array
    z_pa = int(np.nonzero((truth == 7).any(axis=(1, 2)))[0].min())
    cropped = Volume(phase.image.array[:z_pa].copy(), phase.image.spacing, phase.image.origin)
    result = segment_heart(cropped)
    assert "PA" in result.missing
    assert any(w.startswith("Pulmonary artery not found") for w in result.warnings)
    assert not (result.labels.array == 7).any()
    scores = dice_per_label(result.labels.array, truth[:z_pa])
    for key in ("LV", "RV", "MYO"):
        assert key not in result.missing
        assert scores[key] >= 0.9, scores


def test_no_heart_in_view_says_so():
    vol = Volume(np.full((40, 64, 64), -100, np.int16), (1.5, 1.5, 1.5))
    result = segment_heart(vol)
    assert set(result.missing) == {"LV", "RV", "LA", "RA", "MYO", "AO", "PA"}
    assert result.warnings and not result.labels.array.any()


def test_rejects_tiny_input():
    with pytest.raises(InputError):
        segment_heart(Volume(np.zeros((4, 64, 64), np.int16), (1.0, 1.0, 1.0)))


class CancelAfter(CancelToken):
    def __init__(self, n):
        super().__init__()
        self.n = n

    def update(self, done, total, message=""):
        super().update(done, total, message)
        if self.updates >= self.n:
            self.cancel()


@pytest.mark.parametrize("n", [1, 4, 12])
def test_cancel_stops_the_job(n, held_out_phantoms):
    token = CancelAfter(n)
    with pytest.raises(CancelledError):
        segment_heart(held_out_phantoms[0].image, progress=token)
    assert token.updates >= n
    assert token.message

