"""Device -> haemodynamics: orifice formulas and before/after simulations."""

import numpy as np
import pytest

from hearttwin.core.errors import InputError
from hearttwin.core.simulation import CirculationParams, apply_device, before_after
from hearttwin.core.simulation.haemodynamics import bernoulli_gradient, mean_gradient, orifice_flow


def test_bernoulli_is_the_four_v_squared_rule():
    # 400 mL/s through 100 mm2 is 4 m/s: 4 v^2 = 64 mmHg (rho/2 gives 3.975 v^2)
    assert bernoulli_gradient(400.0, 100.0) == pytest.approx(64.0, rel=0.01)
    assert bernoulli_gradient(0.0, 100.0) == 0.0
    # quadrupling with doubled flow, quartered with doubled area
    assert bernoulli_gradient(800.0, 100.0) == pytest.approx(4 * bernoulli_gradient(400.0, 100.0))
    assert bernoulli_gradient(400.0, 200.0) == pytest.approx(bernoulli_gradient(400.0, 100.0) / 4)
    with pytest.raises(InputError):
        bernoulli_gradient(100.0, 0.0)


def test_orifice_flow_inverts_bernoulli():
    q = np.array([-300.0, 50.0, 450.0])
    dp = np.sign(q) * bernoulli_gradient(np.abs(q), 80.0)
    np.testing.assert_allclose(orifice_flow(dp, 80.0), q, rtol=1e-12)


def test_mean_gradient_of_half_sine_ejection():
    sv, t, area = 70.0, 0.3, 120.0
    ts = np.linspace(0, t, 20001)
    q = np.pi * sv / (2 * t) * np.sin(np.pi * ts / t)
    assert np.trapezoid(q, ts) == pytest.approx(sv, rel=1e-6)
    numeric = np.trapezoid(bernoulli_gradient(q, area), ts) / t
    assert mean_gradient(sv, t, area) == pytest.approx(numeric, rel=1e-6)


def test_apply_device_validates():
    p = CirculationParams()
    with pytest.raises(InputError, match="valve"):
        apply_device(p, eoa_mm2=200)
    with pytest.raises(InputError):
        apply_device(p, valve="aortic", eoa_mm2=-1)
    with pytest.raises(InputError):
        apply_device(p, valve="aortic", paravalvular_gap_mm2=-3)
    with pytest.raises(InputError, match="Unknown valve"):
        apply_device(p, valve="septal")
    q = apply_device(p, valve="mitral", eoa_mm2=250, paravalvular_gap_mm2=12, neo_lvot_area_mm2=180)
    assert float(q.mitral_eoa_cm2) == pytest.approx(2.5)
    assert float(q.mitral_regurgitant_area_cm2) == pytest.approx(0.12)
    assert float(q.lvot_area_cm2) == pytest.approx(1.8)


def test_tavi_in_severe_stenosis_with_a_paravalvular_gap():
    before = CirculationParams(aortic_eoa_cm2=0.7)
    res = before_after(before, valve="aortic", eoa_mm2=180, paravalvular_gap_mm2=10, loops=True)
    b, a = res["before"]["valves"]["aortic"], res["after"]["valves"]["aortic"]
    assert b["mean_gradient_mmhg"] > 40 and a["mean_gradient_mmhg"] < b["mean_gradient_mmhg"] / 2
    assert b["regurgitant_volume_ml"] < 0.5 and a["regurgitant_volume_ml"] > 10
    assert res["change"]["mean_gradient_mmhg"] == [b["mean_gradient_mmhg"], a["mean_gradient_mmhg"]]
    assert res["after"]["lv"]["peak_pressure_mmhg"] < res["before"]["lv"]["peak_pressure_mmhg"] - 30
    loop = res["after"]["pv_loops"]["lv"]
    assert len(loop["volume_ml"]) == len(loop["pressure_mmhg"]) == len(loop["phase"])


def test_occluder_closes_the_shunt():
    res = before_after(CirculationParams(asd_area_cm2=2.0), close_shunt=True, loops=False)
    qpqs = res["change"]["qp_qs"]
    assert qpqs[0] > 1.5 and qpqs[1] == pytest.approx(1.0, abs=0.01)
    assert res["after"]["shunt_flow_l_min"] == 0.0
    assert "pv_loops" not in res["after"]


def test_neo_lvot_obstruction():
    res = before_after(CirculationParams(), neo_lvot_area_mm2=120, loops=False)
    g = res["change"]["lvot_gradient_peak_mmhg"]
    assert g[0] == 0.0 and g[1] > 30


def test_before_after_takes_one_patient():
    with pytest.raises(InputError):
        before_after(CirculationParams(heart_rate_bpm=np.array([60.0, 70.0])), close_shunt=True)
