"""Personalisation: fitting volumes and cuff pressures."""

import numpy as np
import pytest

from hearttwin.core.errors import InputError
from hearttwin.core.simulation import CirculationParams, fit, summarise


def test_fit_dilated_ventricle_and_hypertension():
    targets = {"lv_edv_ml": 190.0, "lv_esv_ml": 120.0, "rv_edv_ml": 150.0,
               "systolic_mmhg": 150.0, "diastolic_mmhg": 92.0}
    f = fit(CirculationParams(heart_rate_bpm=78), targets)
    assert f.converged
    s = summarise(f.result)
    assert s["lv"]["edv_ml"][0] == pytest.approx(190.0, rel=0.01)
    assert s["lv"]["esv_ml"][0] == pytest.approx(120.0, rel=0.01)
    assert s["rv"]["edv_ml"][0] == pytest.approx(150.0, rel=0.01)
    assert s["aortic_pressure_mmhg"]["systolic"][0] == pytest.approx(150.0, rel=0.01)
    assert s["aortic_pressure_mmhg"]["diastolic"][0] == pytest.approx(92.0, rel=0.01)
    assert s["heart_rate_bpm"][0] == pytest.approx(78.0)
    # the fitted parameters moved the way physiology says they should
    assert float(f.params.lv_v0) > 10.0  # a bigger chamber
    assert float(f.params.r_systemic) > 1.0  # hypertension: more resistance
    # filling pressure stays physiological (chamber scaled, not over-filled)
    assert 4 < s["lv"]["end_diastolic_pressure_mmhg"][0] < 16


def test_fit_is_vectorised():
    edv = np.array([110.0, 160.0])
    f = fit(CirculationParams(heart_rate_bpm=np.array([65.0, 90.0])), {"lv_edv_ml": edv,
                                                                        "la_ed_ml": np.array([45.0, 70.0])})
    assert f.converged
    np.testing.assert_allclose(summarise(f.result)["lv"]["edv_ml"], edv, rtol=0.01)


@pytest.mark.parametrize("targets, message", [
    ({"lv_edv_ml": 100.0, "lv_esv_ml": 120.0}, "below"),
    ({"systolic_mmhg": 80.0, "diastolic_mmhg": 90.0}, "above"),
    ({"lv_edv_ml": -5.0}, "positive"),
    ({"lv_mass_g": 100.0}, "Unknown"),
])
def test_bad_targets(targets, message):
    with pytest.raises(InputError, match=message):
        fit(CirculationParams(), targets)
