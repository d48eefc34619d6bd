"""The circulation model: parameters, vectorisation, the scalar fast path, steady state, physiology."""

import numpy as np
import pytest

from hearttwin.core.errors import InputError
from hearttwin.core.simulation import CirculationParams, Model, simulate, summarise
from hearttwin.core.simulation.integrate import beat_signature
from hearttwin.core.simulation.scalar import ScalarBeat
from hearttwin.core.simulation.stepper import Stepper


def one(x):
    return float(np.asarray(x)[0])


@pytest.mark.parametrize("bad, message", [
    ({"heart_rate_bpm": 300}, "Heart rate"),
    ({"sa_compliance": -1.0}, "sa_compliance"),
    ({"lv_emax": 0.01}, "LV"),
    ({"asd_area_cm2": -0.5}, "asd_area_cm2"),
    ({"blood_volume_ml": 1000.0}, "unstressed"),
    ({"heart_rate_bpm": np.array([60.0, 70.0]), "lv_emax": np.array([2.0, 2.5, 3.0])}, "values"),
])
def test_invalid_parameters_are_input_errors(bad, message):
    with pytest.raises(InputError, match=message):
        simulate(CirculationParams(**bad))


def test_vectorised_run_equals_individual_runs():
    hr = np.array([55.0, 70.0, 95.0])
    emax = np.array([2.0, 3.0, 3.5])
    asd = np.array([0.0, 0.0, 0.0])
    both = simulate(CirculationParams(heart_rate_bpm=hr, lv_emax=emax, asd_area_cm2=asd),
                    steps_per_beat=90, min_beats=6, max_beats=6)
    assert both.volumes.shape == (91, 8, 3)
    for i in range(3):
        alone = simulate(CirculationParams(heart_rate_bpm=hr[i], lv_emax=emax[i], asd_area_cm2=asd[i]),
                         steps_per_beat=90, min_beats=6, max_beats=6)
        np.testing.assert_allclose(both.volumes[:, :, i], alone.volumes[:, :, 0], rtol=0, atol=1e-9)
        np.testing.assert_allclose(both.flows[:, :, i], alone.flows[:, :, 0], rtol=0, atol=1e-7)
    ef = summarise(both)["lv"]["ef_percent"]
    assert ef[2] > ef[0]  # stronger contraction ejects more


def test_a_shunt_in_the_batch_barely_changes_the_others():
    """With any shunt the odd substep is split in two around it: same order, ~1e-4 apart."""
    mixed = simulate(CirculationParams(asd_area_cm2=np.array([0.0, 1.0])), min_beats=5, max_beats=5)
    alone = simulate(CirculationParams(), min_beats=5, max_beats=5)
    np.testing.assert_allclose(mixed.volumes[:, :, 0], alone.volumes[:, :, 0], rtol=1e-3)
    assert np.abs(mixed.volumes[:, :, 1] - alone.volumes[:, :, 0]).max() > 1.0  # the shunt matters


@pytest.mark.parametrize("extra", [{}, {"asd_area_cm2": 1.0, "mitral_regurgitant_area_cm2": 0.2,
                                        "tricuspid_regurgitant_area_cm2": 0.3}])
def test_scalar_path_replays_the_vectorised_step(extra):
    model = Model(CirculationParams(**extra))
    st = Stepper(model, 80)
    sb = ScalarBeat(st)
    v1 = model.initial_state()
    v2 = v1.copy()
    rec1, rec2 = np.empty((81, 8, 1)), np.empty((81, 8, 1))
    m1, m2 = np.zeros((80, 9, 1)), np.zeros((80, 9, 1))
    for _ in range(3):
        st.beat(v1, rec1, m1)
        sb.beat(v2, rec2, m2)
    np.testing.assert_allclose(rec1, rec2, rtol=0, atol=1e-10)
    np.testing.assert_allclose(m1, m2, rtol=0, atol=1e-10)
    assert np.abs(m1).sum() > 100  # blood moved


def test_steady_state_is_periodic_to_half_a_percent():
    r = simulate(CirculationParams(heart_rate_bpm=85))
    assert r.converged[0] and 2 <= r.beats[0] <= r.beats_run
    v = r.volumes[-1].copy()
    st = Stepper(r.model, len(r.phase) - 1)
    rec = np.empty_like(r.volumes)
    st.beat(v, rec)
    last = beat_signature(r.volumes, r.model.v0)
    nxt = beat_signature(rec, r.model.v0)
    assert np.max(np.abs(nxt - last) / np.abs(last)) < 0.005
    p_next = r.model.elastance_series(r.time) * (rec - r.model.v0)
    aortic = r.pressures[:, 1, 0]
    assert p_next[:, 1, 0].max() == pytest.approx(aortic.max(), rel=0.005)
    assert p_next[:, 1, 0].min() == pytest.approx(aortic.min(), rel=0.005)


def test_unconverged_run_says_so():
    r = simulate(CirculationParams(), max_beats=2, min_beats=1)
    assert not r.converged[0] and r.beats_run == 2


def test_phase_zero_is_end_diastole():
    r = simulate(CirculationParams())
    lv = r.volumes[:, 0, 0]
    assert lv[0] >= lv.max() - 0.5  # the R wave closes filling: LV at its largest
    assert np.argmin(lv) < len(lv) // 2  # end-systole in the first half of the beat


def test_aortic_stenosis_raises_gradient_and_lv_pressure():
    s = summarise(simulate(CirculationParams(aortic_eoa_cm2=np.array([3.5, 0.7]))))
    grad = s["valves"]["aortic"]["mean_gradient_mmhg"]
    assert grad[1] > 40 > 10 > grad[0]
    lvp = s["lv"]["peak_pressure_mmhg"]
    assert lvp[1] - s["aortic_pressure_mmhg"]["systolic"][1] > 40


def test_mitral_regurgitation_fills_the_left_atrium():
    s = summarise(simulate(CirculationParams(mitral_regurgitant_area_cm2=np.array([0.0, 0.4]))))
    rv = s["valves"]["mitral"]["regurgitant_volume_ml"]
    assert rv[0] < 0.5 and rv[1] > 30
    assert s["la"]["mean_pressure_mmhg"][1] > s["la"]["mean_pressure_mmhg"][0] + 2
    # total LV output = forward + regurgitant: the LV SV exceeds the aortic forward volume
    assert s["lv"]["sv_ml"][1] == pytest.approx(s["forward_stroke_volume_ml"][1] + rv[1], rel=0.02)


def test_atrial_shunt_gives_left_to_right_flow():
    s = summarise(simulate(CirculationParams(asd_area_cm2=np.array([0.0, 2.0]))))
    assert s["qp_qs"][0] == pytest.approx(1.0, abs=0.01)
    assert s["qp_qs"][1] > 1.5
    assert s["shunt_flow_l_min"][1] > 1.0
    assert s["rv"]["edv_ml"][1] > s["rv"]["edv_ml"][0] + 10  # RV volume overload


def test_lvot_obstruction_gradient():
    s = summarise(simulate(CirculationParams(lvot_area_cm2=np.array([np.inf, 1.5]))))
    g = s["lvot_gradient_peak_mmhg"]
    assert g[0] == 0.0
    q = s["valves"]["aortic"]["peak_flow_ml_s"][1]
    # 4 v^2 with v = Q / A (m/s)
    assert g[1] == pytest.approx(4 * (q / 150.0) ** 2, rel=0.01)
    assert s["lv"]["peak_pressure_mmhg"][1] > s["lv"]["peak_pressure_mmhg"][0] + 15


def test_heart_rate_changes_cardiac_output_sensibly():
    s = summarise(simulate(CirculationParams(heart_rate_bpm=np.array([50.0, 70.0, 100.0]))))
    sv = s["lv"]["sv_ml"]
    assert sv[0] > sv[1] > sv[2]  # less filling time
    assert one(s["heart_rate_bpm"][:1]) == pytest.approx(50.0)
    co = s["cardiac_output_l_min"]
    np.testing.assert_allclose(co, s["forward_stroke_volume_ml"] * np.array([50, 70, 100]) / 1000)


def test_invalid_numbers_are_reported():
    from hearttwin.core.errors import ProcessingError

    with pytest.raises((InputError, ProcessingError)):
        simulate(CirculationParams(lv_emax=np.nan))
    with pytest.raises(InputError):
        simulate(CirculationParams(), steps_per_beat=4)
    with pytest.raises(InputError, match="shape"):
        simulate(CirculationParams(), initial=np.ones((8, 2)))


def test_progress_and_cancel():
    from hearttwin.core.errors import CancelledError
    from hearttwin.core.jobs import CancelToken

    token = CancelToken()
    simulate(CirculationParams(), progress=token)
    assert token.updates >= 3 and "steady state" in token.message
    token = CancelToken()
    token.cancel()
    with pytest.raises(CancelledError):
        simulate(CirculationParams(), progress=token)
