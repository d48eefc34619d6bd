"""Pressure-volume loops in the Simulate step: before (native) and after the device, drawn on one
plot with the current phase marked.

The window tests place a balloon-expandable valve on the small phantom (its
true labels stand in for the segmentation) and simulate the cycle with the
real jobs; the loops are checked against an independent run of the core 0D
model with the same personalised parameters.
"""

import numpy as np
import pytest
from PySide6.QtWidgets import QApplication

from gui_support import (Bot, close_window, grab_rgb, idle_without_errors, place_device,
                         window_with_true_labels)
from hearttwin.gui.panels.pv_loop import AFTER, BEFORE, PVLoopPlot, nice_ticks
from hearttwin.gui.panels.simulate_panel import plan_loops

N_PHASES = 8
VITALS = {"heart_rate_bpm": 70, "systolic": 120, "diastolic": 80}


def _idle(bot, window, timeout=120000):
    idle_without_errors(bot, window, timeout)


def _near(rgb, colour, tol=12):
    ref = np.array([colour.red(), colour.green(), colour.blue()])
    return np.all(np.abs(rgb.astype(int) - ref) <= tol, axis=-1)


def _inside(widget, rgb, inset=3):
    r = widget.frame()
    return rgb[int(r.top()) + inset:int(r.bottom()) - inset, int(r.left()) + inset:int(r.right()) - inset]


@pytest.fixture(scope="module")
def simulated(qapp, phantom, phantom_dir):
    bot = Bot()
    window = window_with_true_labels(bot, phantom, phantom_dir)
    place_device(bot, window)
    window.show_step("simulate")
    panel = window.panel("simulate")
    for spin, key in ((panel.heart_rate, "heart_rate_bpm"), (panel.systolic, "systolic"),
                      (panel.diastolic, "diastolic")):
        spin.setValue(VITALS[key])
    panel.n_phases.setValue(N_PHASES)
    panel.run()
    _idle(bot, window)
    yield {"window": window, "bot": bot, "panel": panel}
    close_window(window)


@pytest.fixture(scope="module")
def core_runs(simulated):
    """The same personalised circulation, simulated here without and with the plan's device."""
    from hearttwin.core.anatomy import measure_all
    from hearttwin.core.simulation.cycle import circulation_for
    from hearttwin.core.simulation.haemodynamics import apply_device
    from hearttwin.core.simulation.integrate import simulate
    from hearttwin.core.simulation.outputs import summarise

    session = simulated["window"].session
    measurements = session.case.measurements or measure_all(session.labels, session.volume)
    params, _result, _ = circulation_for(measurements, **VITALS)
    device = dict(session.case.simulation["results"]["plan"]["haemodynamics"]["device_model"])
    out = {}
    for key, p in (("before", params), ("after", apply_device(params, **device))):
        result = simulate(p)
        out[key] = {"result": result, "summary": summarise(result)}
    return out


def test_loops_follow_the_core_simulation(simulated, core_runs):
    panel = simulated["panel"]
    plot = panel.pv_plot
    assert panel.pv_chamber.currentData() == "lv" and set(plot.loops) == {"before", "after"}
    peaks = {}
    for which in ("before", "after"):
        phase, volume, pressure = plot.loops[which]
        s = core_runs[which]["summary"]
        assert 60 <= len(phase) <= 200  # about 100 samples a beat
        assert volume.max() == pytest.approx(float(s["lv"]["edv_ml"][0]), rel=0.01)
        assert volume.min() == pytest.approx(float(s["lv"]["esv_ml"][0]), rel=0.01)
        assert pressure.max() == pytest.approx(float(s["lv"]["peak_pressure_mmhg"][0]), abs=1.5)
        assert volume.max() - volume.min() > 20  # a real stroke volume
        peaks[which] = pressure.max()
    # the native loop peaks at about the simulated (cuff-fitted) systolic pressure
    systolic = float(core_runs["before"]["summary"]["aortic_pressure_mmhg"]["systolic"][0])
    assert systolic == pytest.approx(VITALS["systolic"], rel=0.05)
    assert peaks["before"] == pytest.approx(systolic, rel=0.12)
    # the device's effect has the direction the core predicts (a smaller valve orifice: higher LV peak)
    core_change = float(core_runs["after"]["summary"]["lv"]["peak_pressure_mmhg"][0]
                        - core_runs["before"]["summary"]["lv"]["peak_pressure_mmhg"][0])
    assert abs(core_change) > 2.0
    assert np.sign(peaks["after"] - peaks["before"]) == np.sign(core_change)
    # drawn that way too: the higher peak is nearer the top of the plot
    tops = {w: min(q.y() for q in plot.curve_points(w)) for w in ("before", "after")}
    assert np.sign(tops["before"] - tops["after"]) == np.sign(core_change)

    # the right ventricle's loops on request
    panel.pv_chamber.setCurrentIndex(panel.pv_chamber.findData("rv"))
    try:
        for which in ("before", "after"):
            _, volume, pressure = plot.loops[which]
            s = core_runs[which]["summary"]["rv"]
            assert volume.max() == pytest.approx(float(s["edv_ml"][0]), rel=0.01)
            assert pressure.max() == pytest.approx(float(s["peak_pressure_mmhg"][0]), abs=1.5)
            assert pressure.max() < 0.6 * peaks["before"]
        assert "right ventricle" in plot.title
    finally:
        panel.pv_chamber.setCurrentIndex(panel.pv_chamber.findData("lv"))


def test_both_curves_drawn_with_axes(simulated, screenshot):
    panel = simulated["panel"]
    plot = panel.pv_plot
    QApplication.processEvents()
    rgb = grab_rgb(plot)
    inside = _inside(plot, rgb)
    grey, orange = _near(inside, BEFORE).sum(), _near(inside, AFTER).sum()
    assert grey > 40 and orange > 80, (grey, orange)
    # the loops fill much of the frame, within it
    vt, pt = plot.ticks()
    assert len(vt) >= 3 and len(pt) >= 3 and pt[0] <= 0
    rect = plot.frame()
    for which in ("before", "after"):
        pts = plot.curve_points(which)
        xs, ys = [q.x() for q in pts], [q.y() for q in pts]
        assert rect.left() < min(xs) and max(xs) < rect.right() and rect.top() < min(ys) < max(ys) < rect.bottom()
        assert max(ys) - min(ys) > 0.5 * rect.height()
    # no curve pixels outside the frame's left/bottom axes region except the legend above it
    below = rgb[int(rect.bottom()) + 2:, :]
    assert _near(below, AFTER, 6).sum() == 0
    screenshot("simulate_pv_loop", panel)


def test_marker_follows_the_phase_slider(simulated):
    window, panel = simulated["window"], simulated["panel"]
    plot = panel.pv_plot
    plan = window.session.case.simulation["results"]["plan"]
    lv_curve = np.array(plan["motion"]["chamber_volumes_ml"]["LV"])
    systole = int(np.argmin(lv_curve))
    assert systole != 0
    panel.slider.setValue(0)
    QApplication.processEvents()
    at_ed = plot.marker_points()
    img_ed = grab_rgb(plot)
    panel.slider.setValue(systole)
    QApplication.processEvents()
    at_es = plot.marker_points()
    img_es = grab_rgb(plot)
    assert set(at_ed) == set(at_es) == {"before", "after"}
    for which in ("before", "after"):
        assert np.hypot(at_es[which].x() - at_ed[which].x(), at_es[which].y() - at_ed[which].y()) > 10
    # the marked point is the loop's point at the slider's phase: the same volume change as
    # the beating heart's LV (the animation's relative volume curve)
    phase = plan["phases"][systole]["phase"]
    v_es, _ = plot.at_phase("before", phase)
    v_ed, _ = plot.at_phase("before", plan["phases"][0]["phase"])
    assert v_es / v_ed == pytest.approx(lv_curve[systole] / lv_curve[0], rel=0.02)
    # drawn there (the after dot on top), and the picture changed around the old and new marks
    q = at_es["after"]
    assert _near(img_es[int(q.y()), int(q.x())][None], AFTER, 2).all()
    for m in (at_ed["after"], at_es["after"]):
        x, y = int(m.x()), int(m.y())
        assert np.any(img_ed[y - 7:y + 8, x - 7:x + 8] != img_es[y - 7:y + 8, x - 7:x + 8])


def test_stenosis_relief_widget(qtbot):
    """A stenotic native valve replaced by a larger-orifice valve: the core predicts a lower LV peak
    after; the widget draws the after loop's top lower than the before loop's."""
    from hearttwin.core.simulation.haemodynamics import before_after
    from hearttwin.core.simulation.params import CirculationParams

    h = before_after(CirculationParams(aortic_eoa_cm2=0.6), valve="aortic", eoa_mm2=180.0)
    before, after = h["before"]["pv_loops"]["lv"], h["after"]["pv_loops"]["lv"]
    drop = max(before["pressure_mmhg"]) - max(after["pressure_mmhg"])
    assert drop > 10  # the core's direction for this case
    plot = PVLoopPlot()
    qtbot.addWidget(plot)
    plot.resize(400, 300)
    plot.set_loops(before, after, "LV")
    tops = {w: min(q.y() for q in plot.curve_points(w)) for w in ("before", "after")}
    assert tops["after"] > tops["before"] + 10
    # an empty plot draws no curve, and says why
    plot.set_loops(None, None, note="nothing")
    rgb = grab_rgb(plot)
    assert not _near(rgb, AFTER).any() and plot.marker_points() == {} and plot.curve_points("after") == []


def test_plan_loops_sources():
    loop = {"phase": [0, 0.5, 1], "volume_ml": [120, 50, 120], "pressure_mmhg": [8, 110, 8]}
    other = dict(loop, pressure_mmhg=[8, 130, 8])
    plan = {"haemodynamics": {"before": {"pv_loops": {"lv": loop}}, "after": {"pv_loops": {"lv": other}}}}
    assert plan_loops(plan, "lv")[:2] == (loop, other)
    native = {"haemodynamics": {"note": "no change", "native_pv_loops": {"lv": loop}}}
    b, a, label, _ = plan_loops(native, "lv")
    assert b is loop and a is loop and "no change" in label
    b, a, _, note = plan_loops({"haemodynamics": {}}, "lv")
    assert b is None and a is None and "simulate" in note


def test_nice_ticks():
    assert nice_ticks(37.2, 151.0) == [25.0, 50.0, 75.0, 100.0, 125.0, 150.0, 175.0]
    assert nice_ticks(0.0, 1.0) == [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
    t = nice_ticks(3.3, 27.9)
    assert t[0] <= 3.3 and t[-1] >= 27.9 and 3 <= len(t) <= 8


def test_native_loops_for_a_device_without_haemodynamic_effect(qtbot, phantom):
    """A vascular stent does not change the 0D circulation: the Simulate job adds the native loops
    (personalised to the case's chamber volumes), drawn as before = after."""
    from hearttwin.gui import plan_jobs

    plan, _frames = plan_jobs.simulate_cycle(phantom.labels, device_id="vascular-stent", size=None, pose=None,
                                             n_phases=4, **VITALS)
    h = plan["haemodynamics"]
    assert "before" not in h and set(h["native_pv_loops"]) == {"lv", "rv"}
    before, after, label, _ = plan_loops(plan, "lv")
    assert before is after and "no change" in label
    ct_volumes = plan["motion"]["chamber_volumes_ml"]
    for chamber, key in (("lv", "LV"), ("rv", "RV")):
        loop = h["native_pv_loops"][chamber]
        # the circulation is personalised to the CT phase's (end-diastolic) chamber volume
        assert loop["volume_ml"][0] == pytest.approx(ct_volumes[key][0], rel=0.02)
        assert max(loop["volume_ml"]) - min(loop["volume_ml"]) > 10
    assert max(h["native_pv_loops"]["lv"]["pressure_mmhg"]) == pytest.approx(VITALS["systolic"], rel=0.12)
    plot = PVLoopPlot()
    qtbot.addWidget(plot)
    plot.resize(400, 300)
    plot.set_loops(before, after, "LV", label)
    inside = _inside(plot, grab_rgb(plot))
    assert _near(inside, BEFORE).sum() > 40 and _near(inside, AFTER).sum() > 40
