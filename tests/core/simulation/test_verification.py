"""Credibility evidence (FDA 2023 / ASME V&V 40) for the 0D circulation.

Code verification: analytic solutions (Windkessel decay, RC step), blood
volume conservation, observed order of accuracy under step halving and
agreement with scipy's adaptive stiff integrator. Validation: the default
adult against published normal resting values.
"""

import numpy as np
import pytest
from scipy.integrate import solve_ivp

from hearttwin.core.simulation import CirculationParams, Model, simulate, summarise
from hearttwin.core.simulation.params import RA, SA, SV
from hearttwin.core.simulation.stepper import Stepper

SHUT = 1e15  # a resistance that lets effectively nothing through


def _isolated(**open_edges):
    """Every edge shut except those given; chambers passive (no activation)."""
    kw = dict(valve_resistance=SHUT, closed_valve_resistance=SHUT, r_systemic=SHUT, r_venous=SHUT,
              r_pulmonary=SHUT, r_pulmonary_venous=SHUT,
              lv_emax=0.065, rv_emax=0.033, la_emax=0.16, ra_emax=0.11)
    kw.update(open_edges)
    return CirculationParams(**kw)


def _run(params, v, seconds, steps_per_beat):
    model = Model(params)
    st = Stepper(model, steps_per_beat)
    beats = seconds / model.rr[0]
    assert abs(beats - round(beats)) < 1e-9
    for _ in range(int(round(beats))):
        st.beat(v)
    return model, v


def test_windkessel_decay_matches_exponential():
    """Arteries draining through the systemic resistance: dp(t) = dp0 exp(-t (Ea + Eb) / R)."""
    p = _isolated(r_systemic=1.1, sa_compliance=1.4, sv_compliance=60.0, heart_rate_bpm=60)
    model = Model(p)
    v = model.initial_state()
    v[SA] = model.v0[SA] + 100 * 1.4  # 100 mmHg in the arteries
    dp0 = 100 - (v[SV, 0] - model.v0[SV, 0]) / 60.0
    _, v = _run(p, v, 3.0, 37)
    ea, eb = 1 / 1.4, 1 / 60.0
    dp = ea * (v[SA, 0] - model.v0[SA, 0]) - eb * (v[SV, 0] - model.v0[SV, 0])
    expected = dp0 * np.exp(-3.0 * (ea + eb) / 1.1)
    assert dp == pytest.approx(expected, rel=1e-9)
    assert expected < 0.2 * dp0  # the decay really happened


def test_rc_step_charges_the_atrium():
    """A venous reservoir charging the (passive) right atrium through R: RC step response."""
    r, c_sv = 0.03, 1e6  # RA elastance 0.11 mmHg/mL (passive)
    p = _isolated(r_venous=r, sv_compliance=c_sv, heart_rate_bpm=60)
    model = Model(p)
    v = model.initial_state()
    v[RA] = model.v0[RA]  # empty atrium, 0 mmHg
    v[SV] = model.v0[SV] + 5.0 * c_sv  # a 5 mmHg reservoir
    p_source = (v[SV, 0] - model.v0[SV, 0]) / c_sv
    times = [0.05, 0.1, 0.3]
    got = []
    for t in times:
        vv = v.copy()
        st = Stepper(model, 100)
        steps = int(round(t / st.h[0]))
        st.steps = steps  # integrate only part of a beat
        st.beat(vv)
        got.append((vv[RA, 0] - model.v0[RA, 0]) * 0.11)
    e_sum = 0.11 + 1 / c_sv  # the reservoir gives up volume too (barely)
    tau = r / e_sum
    expected = [p_source * 0.11 / e_sum * (1 - np.exp(-t / tau)) for t in times]
    np.testing.assert_allclose(got, expected, rtol=1e-9)
    assert got[-1] > 0.6 * p_source  # charged most of the way


@pytest.mark.parametrize("extra", [{}, {"asd_area_cm2": 1.2, "mitral_regurgitant_area_cm2": 0.3,
                                        "aortic_regurgitant_area_cm2": 0.1}])
def test_blood_volume_is_conserved(extra):
    r = simulate(CirculationParams(blood_volume_ml=5100.0, **extra), min_beats=20, max_beats=20)
    total = r.volumes.sum(axis=1)[:, 0]
    assert np.max(np.abs(total - 5100.0)) / 5100.0 < 1e-6
    assert r.flows[:, 8].any() == bool(extra)  # the shunt carried blood only when open


def _end_state(model, v0, steps):
    v = v0.copy()
    Stepper(model, steps).beat(v)
    return v[:, 0]


@pytest.mark.parametrize("extra", [{}, {"asd_area_cm2": 1.0, "mitral_regurgitant_area_cm2": 0.2}])
def test_observed_order_of_accuracy_is_two(extra):
    """Step halving over one beat of the full nonlinear loop (Strang splitting: order 2).

    Valve opening and closing make single halvings irregular, so the order is
    the least-squares slope of log(change per halving) over four halvings.
    """
    model = Model(CirculationParams(**extra))
    v0 = simulate(CirculationParams(**extra)).volumes[0]
    steps = [100, 200, 400, 800, 1600, 3200]
    ends = {n: _end_state(model, v0, n) for n in steps}
    changes = [np.abs(ends[n] - ends[2 * n]).max() for n in steps[:-1]]
    slope = -np.polyfit(np.log2(steps[:-1]), np.log2(changes), 1)[0]
    assert 1.8 < slope < 2.3, (slope, changes)
    assert changes[0] < 0.2  # mL: already small at 8 ms steps


def test_matches_scipy_stiff_reference():
    """Default step (10 ms) against Radau at tight tolerance over one periodic beat."""
    result = simulate(CirculationParams())
    model = result.model
    v0 = result.volumes[0][:, 0]
    rr = model.rr[0]
    sol = solve_ivp(lambda t, y: model.rhs(t, y[:, None])[:, 0], (0, rr), v0, method="Radau",
                    rtol=1e-8, atol=1e-8, dense_output=True)
    assert sol.success
    ref = sol.sol(result.time[:, 0])  # (8, N+1)
    err = np.abs(result.volumes[:, :, 0].T - ref)
    # worst during ejection (~500 mL/s): 1 mL is a 2 ms timing shift, 1.3 % of the stroke volume
    assert err.max() < 1.0
    assert err[:, -1].max() < 0.5  # and the beat ends where the reference does
    lv = ref[0]
    ef_ref = 100 * (lv.max() - lv.min()) / lv.max()
    assert summarise(result)["lv"]["ef_percent"][0] == pytest.approx(ef_ref, abs=0.3)


def test_default_adult_within_published_normal_ranges():
    """Resting adult: LV EDV 120-140 mL, EF 55-70 %, BP ~120/80, PA ~25/10, CO ~5 L/min."""
    s = summarise(simulate(CirculationParams()))
    one = lambda x: float(np.asarray(x)[0])  # noqa: E731
    assert 120 <= one(s["lv"]["edv_ml"]) <= 140
    assert 55 <= one(s["lv"]["ef_percent"]) <= 70
    assert 45 <= one(s["rv"]["ef_percent"]) <= 70
    assert 110 <= one(s["aortic_pressure_mmhg"]["systolic"]) <= 135
    assert 70 <= one(s["aortic_pressure_mmhg"]["diastolic"]) <= 85
    assert 15 <= one(s["pulmonary_pressure_mmhg"]["systolic"]) <= 30
    assert 4 <= one(s["pulmonary_pressure_mmhg"]["diastolic"]) <= 14
    assert 10 <= one(s["pulmonary_pressure_mmhg"]["mean"]) <= 20
    assert 4.5 <= one(s["cardiac_output_l_min"]) <= 6.0
    assert 4 <= one(s["la"]["mean_pressure_mmhg"]) <= 12
    assert 1 <= one(s["ra"]["mean_pressure_mmhg"]) <= 8
    assert 3 <= one(s["lv"]["end_diastolic_pressure_mmhg"]) <= 12
    for valve in s["valves"].values():
        assert one(valve["regurgitant_volume_ml"]) < 0.5
        assert one(valve["mean_gradient_mmhg"]) < 10
    assert one(s["qp_qs"]) == pytest.approx(1.0, abs=0.01)


def test_verification_module_figures_match_the_analytic_solutions():
    """The figures the credibility report prints, for other circuit values, against closed forms."""
    from hearttwin.core.simulation import verification as ver

    wk = ver.windkessel_decay(seconds=2.0, steps_per_beat=50, r=0.8, c_arterial=2.0, p0=80.0)
    # the venous reservoir starts at its own small pressure: dp0 is read back, the decay is ours
    assert wk["initial_mmhg"] == pytest.approx(80.0, abs=10.0)
    tau = 0.8 / (1 / 2.0 + 1 / 60.0)
    assert wk["simulated_mmhg"] == pytest.approx(wk["initial_mmhg"] * np.exp(-2.0 / tau), rel=1e-9)
    rc = ver.rc_step(times_s=(0.02, 0.2), r=0.05, source_mmhg=8.0)
    assert rc["tau_s"] == pytest.approx(0.05 / 0.11, rel=1e-5)
    for t, got in zip((0.02, 0.2), rc["simulated_mmhg"]):
        assert got == pytest.approx(8.0 * (1 - np.exp(-t / (0.05 / 0.11))), rel=1e-5)
    order = ver.observed_order(steps=(200, 400, 800, 1600))
    assert order["passed"] == (1.8 < order["order"] < 2.3)
    assert order["changes_ml"][0] > order["changes_ml"][-1] * 8  # three halvings, ~2^2 each
    rows = {r["quantity"]: r for r in ver.validation()["rows"]}
    assert rows["Mean pulmonary arterial pressure"]["normal_range"] == [8.0, 20.0]
    assert all(r["passed"] == (r["normal_range"][0] <= r["value"] <= (r["normal_range"][1] or 1e9))
               for r in rows.values())
