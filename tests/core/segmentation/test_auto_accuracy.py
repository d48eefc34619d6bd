"""Automatic segmentation accuracy on held-out phantoms (seeds never used for tuning).

Thresholds are the values measured on these seeds minus a small margin
(measured minima on seeds 0-2: LV 0.990, RV 0.973, LA 0.979, RA 0.982,
MYO 0.958, AO 0.991, PA 0.981; chamber volume error <= 1.9 %).
"""

import numpy as np
import pytest


from hearttwin.core.imaging.volume import Volume

HELD_OUT = (0, 1, 2)  # see conftest.py
KEYS = ["LV", "RV", "LA", "RA", "MYO", "AO", "PA"]
MIN_DICE = {"LV": 0.97, "RV": 0.95, "LA": 0.95, "RA": 0.95, "MYO": 0.93, "AO": 0.97, "PA": 0.95}


@pytest.mark.parametrize("seed", HELD_OUT)
def test_dice_per_structure(seed, held_out_phantoms, auto_results, dice_per_label):
    truth = held_out_phantoms[seed].labels.array
    result = auto_results[seed]
    scores = dice_per_label(result.labels.array, truth)
    low = {k: round(v, 3) for k, v in scores.items() if v < MIN_DICE[k]}
    assert not low, f"seed {seed}: Dice below threshold {low} (all: {scores})"
    assert np.mean(list(scores.values())) >= 0.96
    assert result.missing == [] and result.warnings == []


@pytest.mark.parametrize("seed", HELD_OUT)
def test_chamber_volumes_within_3_percent(seed, held_out_phantoms, auto_results):
    truth = held_out_phantoms[seed].labels.array
    pred = auto_results[seed].labels.array
    for k in (1, 2, 3, 4):
        t, p = int((truth == k).sum()), int((pred == k).sum())
        assert abs(p - t) / t <= 0.03, f"{KEYS[k - 1]}: {p} vs {t} voxels"


def test_result_on_input_grid(held_out_phantoms, auto_results):
    image = held_out_phantoms[HELD_OUT[0]].image
    result = auto_results[HELD_OUT[0]]
    assert isinstance(result.labels, Volume)
    assert result.labels.array.shape == image.array.shape
    assert result.labels.array.dtype == np.uint8
    assert result.labels.spacing == image.spacing and result.labels.origin == image.origin
    assert set(np.unique(result.labels.array)) <= set(range(8))
    assert result.method == "auto" and result.seconds > 0
    levels = result.params["levels"]
    assert levels["left_hu"] > levels["right_hu"] > levels["myocardium_hu"] > levels["fat_hu"]
