"""Fit over the cardiac cycle on a phantom (seed 2, small): per-phase metrics, the worst phase
decides the verdicts, the annulus breathes with aortic pressure, device haemodynamics."""

import numpy as np
import pytest

from hearttwin.core.anatomy import measure_all
from hearttwin.core.devices.catalogue import get_device
from hearttwin.core.phantom.generate import generate_phantom
from hearttwin.core.phantom.params import PhantomParams
from hearttwin.core.simulation.cycle import circulation_for, plan_cycle, worst_values
from hearttwin.core.simulation.integrate import steps_for

PHASES = 8


@pytest.fixture(scope="module")
def phase_and_measurements():
    p = generate_phantom(PhantomParams.sample(2, "small")).phases[0]
    return p, measure_all(p.labels, p.image)


@pytest.fixture(scope="module")
def planned(phase_and_measurements):
    p, m = phase_and_measurements
    return m, plan_cycle(p.labels, device_id="thv-balloon", size=26, measurements=m,
                         n_phases=PHASES)


def test_every_phase_has_the_metrics(planned):
    _, res = planned
    assert [r["phase"] for r in res["phases"]] == pytest.approx(np.arange(PHASES) / PHASES)
    for row in res["phases"]:
        for key in ("oversizing_area_percent", "apposition_percent", "max_gap_mm",
                    "max_penetration_mm", "coronary_distance_left_mm", "implant_depth_mm"):
            assert row["metrics"][key] is not None, key


def test_annulus_dilates_in_systole_and_oversizing_follows(planned):
    m, res = planned
    areas = np.array([r["metrics"]["annulus_area_mm2"] for r in res["phases"]])
    assert areas[0] == pytest.approx(m["annulus"]["area_mm2"], rel=0.01)  # the CT phase
    assert 1.005 < areas.max() / areas.min() < 1.10  # a few % with the default compliance
    over = np.array([r["metrics"]["oversizing_area_percent"] for r in res["phases"]])
    assert np.argmax(areas) == np.argmin(over)  # the largest annulus is the least oversized


def test_verdicts_use_the_worst_phase(planned):
    _, res = planned
    fam = get_device("thv-balloon")
    assert res["worst"] == worst_values(res["phases"], fam)
    dist = [r["metrics"]["coronary_distance_left_mm"] for r in res["phases"]]
    assert res["worst"]["coronary_distance_left_mm"]["value"] == min(dist)
    over = [r["metrics"]["oversizing_area_percent"] for r in res["phases"]]
    # both ends of the oversizing rule matter (-5% and +20% caution bounds): every phase here
    # lies nearer the upper one, so the most oversized phase (rupture risk) is the worst
    assert min(over) > 7.5 and res["worst"]["oversizing_area_percent"]["value"] == max(over)
    v = {x["rule"]: x for x in res["verdicts"]}
    assert v["coronary_distance_left_mm"]["value"] == min(dist)


def test_haemodynamics_before_and_after(planned):
    _, res = planned
    h = res["haemodynamics"]
    assert h["change"]["valve"] == "aortic"
    before, after = h["change"]["mean_gradient_mmhg"]
    assert after > before  # a 26 mm valve's orifice is smaller than the native valve's
    assert 5.0 < h["after"]["cardiac_output_l_min"] < 7.0
    assert h["after"]["lv"]["ef_percent"] > 40


def test_chamber_volumes_follow_the_circulation(planned):
    m, res = planned
    lv = np.array(res["motion"]["chamber_volumes_ml"]["LV"])
    assert lv[0] == pytest.approx(m["chambers"]["LV"]["volume_ml"], rel=0.03)
    assert 0.3 < 1 - lv.min() / lv.max() < 0.8  # an ejection fraction


def test_worst_of_a_two_sided_rule_is_the_value_furthest_beyond_a_bound():
    fam = get_device("thv-balloon")  # oversizing: caution below -5 %, above 20 %
    phases = [{"phase": i / 4, "metrics": {"oversizing_area_percent": v, "max_gap_mm": g}}
              for i, (v, g) in enumerate([(10.0, 0.2), (-7.0, 1.5), (21.0, 0.4), (0.0, 0.1)])]
    worst = worst_values(phases, fam)
    assert worst["oversizing_area_percent"] == {"phase": 0.25, "value": -7.0}
    assert worst["max_gap_mm"] == {"phase": 0.25, "value": 1.5}
    phases[1]["metrics"]["oversizing_area_percent"] = -5.5
    assert worst_values(phases, fam)["oversizing_area_percent"]["value"] == 21.0


def test_worst_values_converge_with_the_phase_count(phase_and_measurements):
    """Calculation verification: the worst value of each metric over 10, 20 and 40 phases
    (each doubling also contains the coarser phases, so the worst can only get worse)."""
    p, m = phase_and_measurements
    worst = {n: plan_cycle(p.labels, device_id="thv-balloon", size=26, measurements=m,
                           n_phases=n)["worst"] for n in (10, 20, 40)}
    tolerance = {"oversizing_area_percent": 0.5, "coronary_distance_left_mm": 0.1,
                 "coronary_distance_right_mm": 0.1, "annulus_area_mm2": 2.0, "max_gap_mm": 0.2}
    for key, tol in tolerance.items():
        w10, w20, w40 = (worst[n][key]["value"] for n in (10, 20, 40))
        assert abs(w40 - w20) <= tol and abs(w40 - w20) <= abs(w40 - w10) + 1e-9, (key, w10, w20, w40)


def test_circulation_steps_per_beat_is_passed_through(phase_and_measurements):
    _, m = phase_and_measurements
    params, default, _ = circulation_for(m)
    assert len(default.phase) == steps_for(default.model.rr) + 1  # 10 ms steps
    for measurements in (m, {}):  # personalised, and the defaults when nothing is measured
        _, result, _ = circulation_for(measurements, steps_per_beat=50)
        assert len(result.phase) == 51 and result.volumes.shape[0] == 51
    coarse = circulation_for(m, steps_per_beat=50)[1]
    # the coarser beat is the same patient: end-diastolic LV volume within 2%
    assert coarse.volumes[:, 0, 0].max() == pytest.approx(default.volumes[:, 0, 0].max(), rel=0.02)
