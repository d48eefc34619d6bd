"""Model & measure, Device, Simulate, Report and the case file, driven through the window.

One window per module on the small phantom (its true labels stand in for the
segmentation, which tests/gui/test_segment.py covers); every step runs its
real jobs (measurement, plan preparation, the cycle, the report) in the
background as a user would.
"""

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QMessageBox

from gui_support import (Bot, close_window, grab_rgb, idle_without_errors, make_window, open_and_load,
                         window_with_true_labels)
from hearttwin.core import autosave, casefile
from hearttwin.core.devices import placement, plan
from hearttwin.gui.main_window import DEVICE_KEY
from hearttwin.gui.panels.device_panel import OUTLINE_COLOUR
from hearttwin.gui.panels.model_panel import ANNULUS_COLOUR
from hearttwin.gui.panels.phase_plot import WORST
from hearttwin.gui.panels.verdict_table import STATUS_COLOURS

Button = QMessageBox.StandardButton


def _idle(bot, window, timeout=120000):
    idle_without_errors(bot, window, timeout)


@pytest.fixture(scope="module")
def planned(qapp, phantom, phantom_dir, screenshot_dir):
    """A window with the phantom loaded and its true labels as the segmentation."""
    bot = Bot()
    window = window_with_true_labels(bot, phantom, phantom_dir)
    yield {"window": window, "bot": bot, "phantom": phantom}
    close_window(window)


@pytest.fixture(scope="module")
def measured(planned):
    """The Measure button's result, and measure_all called directly on the same inputs."""
    from hearttwin.core.anatomy import measure_all

    window, bot = planned["window"], planned["bot"]
    window.show_step("model")
    window.panel("model").measure_button.click()
    assert window.job is not None
    direct = measure_all(window.session.labels, window.session.volume)  # meanwhile, in this thread
    _idle(bot, window)
    return direct


def test_measure_table_and_landmarks(planned, measured, screenshot):
    window = planned["window"]
    panel = window.panel("model")
    area = measured["annulus"]["area_mm2"]
    assert float(panel.value_text("Annulus area (mm²)")) == pytest.approx(area, abs=0.05)
    row = [r for r in range(panel.table.rowCount()) if panel.table.item(r, 0).text().startswith("Annulus area")][0]
    lo, hi = measured["annulus"]["area_mm2_range"]
    assert panel.table.item(row, 2).text() == f"{lo:.1f} – {hi:.1f}"
    assert window.session.case.history[-1].name == "measure"
    # the annulus centre is drawn on its axial slice as a yellow square
    st = window.state
    centre = np.array(measured["annulus"]["centre_lps"])
    c = np.round(st.lps_to_canonical(centre)).astype(int)
    st.set_cursor((c[0] + 15, c[1] + 15, c[2]))
    QApplication.processEvents()
    axial = window.views.views["axial"]
    q = axial.canonical_to_widget(st.lps_to_canonical(centre))
    rgb = grab_rgb(axial)
    edge = rgb[int(q.y()) - 2:int(q.y()) + 3, int(q.x()) - 6:int(q.x()) - 2].reshape(-1, 3)
    assert (edge == ANNULUS_COLOUR).all(axis=1).any()
    screenshot("plan_1_measure", window)


@pytest.fixture(scope="module")
def placed(planned, measured):
    window, bot = planned["window"], planned["bot"]
    window.show_step("device")
    panel = window.panel("device")
    panel.select("thv-balloon")
    panel.place_button.click()
    assert window.job is not None
    _idle(bot, window)
    view = window.views.view3d
    bot.waitUntil(lambda: window.job is None and view.frame_current, timeout=60000)
    return panel


def test_device_auto_place_and_keyboard_depth(planned, placed, screenshot):
    window, panel = planned["window"], placed
    ctx = panel.ctx
    assert ctx.family.id == "thv-balloon" and ctx.size == ctx.recommendation.size
    assert "->" in panel.reason.text()  # the chart's reasoning is shown
    before = dict(panel.metrics)
    assert before == plan.fit_metrics(ctx, pose=ctx.pose)[0]
    panel.setFocus()
    QTest.keyClick(panel, Qt.Key.Key_PageDown)
    after = panel.metrics
    assert after["implant_depth_mm"] == pytest.approx(before["implant_depth_mm"] + 1.0, abs=0.011)
    deeper = placement.set_depth(ctx.pose, ctx.family, ctx.size, ctx.anchor,
                                 placement.depth(ctx.pose, ctx.family, ctx.size, ctx.anchor) + 1.0)
    assert after == plan.fit_metrics(ctx, pose=deeper)[0]  # the fit of the moved pose, nothing else
    saved = np.array(window.session.case.devices[-1]["pose_lps"])
    assert np.allclose(saved, deeper)
    assert window.session.case.history[-1].name == "move_device"
    # a tilt turns the device axis by 1 degree
    QTest.keyClick(panel, Qt.Key.Key_BracketRight)
    turn = np.degrees(np.arccos(np.clip(np.dot(panel.pose[:3, 2], deeper[:3, 2]), -1, 1)))
    assert turn == pytest.approx(1.0, abs=1e-6)
    QTest.keyClick(panel, Qt.Key.Key_BracketLeft)
    assert np.allclose(panel.pose, deeper, atol=1e-9)
    # verdict rows coloured by status
    for v in panel.verdicts:
        assert panel.table.row_colour(v["rule"]) == STATUS_COLOURS[v["status"]]
    assert {v["status"] for v in panel.verdicts} >= {"pass"}
    # the device is in the 3D scene, and outlined where it crosses the slices
    assert DEVICE_KEY in window.views.view3d.labels
    st = window.state
    seat = ctx.anchor.centre
    c = np.round(st.lps_to_canonical(seat)).astype(int)
    st.set_cursor((c[0], c[1], c[2]))
    QApplication.processEvents()
    for plane in ("axial", "coronal", "sagittal"):
        rgb = grab_rgb(window.views.views[plane])
        assert (rgb.reshape(-1, 3) == OUTLINE_COLOUR).all(axis=1).sum() > 30, plane
    screenshot("plan_2_device", window)


@pytest.fixture(scope="module")
def simulated(planned, placed):
    window, bot = planned["window"], planned["bot"]
    window.show_step("simulate")
    panel = window.panel("simulate")
    panel.n_phases.setValue(6)
    panel.run_button.click()
    assert window.job is not None
    _idle(bot, window)
    return panel


def test_simulate_plot_and_verdicts(planned, simulated, screenshot):
    window, panel = planned["window"], simulated
    result = window.session.case.simulation["results"]["plan"]
    assert len(result["phases"]) == 6
    assert window.session.case.simulation["params"]["n_phases"] == 6
    metric = panel.metric_combo.currentText()
    points = panel.plot.points()
    assert len(points) == 6 and all(p is not None for p in points)
    ys = [p.y() for p in points]
    values = [r["metrics"][metric] for r in result["phases"]]
    # higher values are drawn higher (smaller y)
    assert np.all(np.sign(np.diff(ys)) == -np.sign(np.diff(values)))
    worst = panel.worst_index(metric)
    assert result["phases"][worst]["phase"] == pytest.approx(result["worst"][metric]["phase"])
    rgb = grab_rgb(panel.plot)
    w = points[worst]
    assert tuple(rgb[int(w.y()), int(w.x())]) == (WORST.red(), WORST.green(), WORST.blue())
    for v in result["verdicts"]:
        assert panel.verdict_table.row_colour(v["rule"]) == STATUS_COLOURS[v["status"]]
    change = result["haemodynamics"]["change"]
    table = panel.change_table
    assert table.rowCount() >= 3
    assert float(table.item(0, 1).text()) == pytest.approx(change["mean_gradient_mmhg"][0], rel=1e-3)
    assert float(table.item(0, 2).text()) == pytest.approx(change["mean_gradient_mmhg"][1], rel=1e-3)
    panel.slider.setValue(worst)
    assert panel.plot.current == worst and f"{result['phases'][worst]['phase']:.2f}" in panel.phase_label.text()
    screenshot("plan_3_simulate", window)


def test_report_html(planned, simulated, tmp_path, screenshot):
    window, bot = planned["window"], planned["bot"]
    window.show_step("report")
    panel = window.panel("report")
    panel.case_label.setText("Phantom test")
    out = tmp_path / "plan.html"
    assert panel.write(out) is not None
    _idle(bot, window, 180000)
    text = out.read_text(encoding="utf-8")
    family = window.panel("device").ctx.family.family
    assert family in text and "Phantom test" in text
    assert family in panel.preview.toPlainText()
    screenshot("plan_4_report", window)


def test_save_reopen_autosave_and_quit_prompt(planned, simulated, tmp_path, screenshot):
    window, bot = planned["window"], planned["bot"]
    cf = window.case_files
    case = window.session.case
    assert case.dirty and window.windowTitle().startswith("untitled case*")
    pose = np.array(case.devices[-1]["pose_lps"])
    # autosave writes a recovery file beside nothing of the user's
    cf.autosave_now(force=True)
    _idle(bot, window)
    found = [r for r in autosave.pending() if r.case_id == case.case_id]
    assert len(found) == 1
    path = tmp_path / "phantom.htwin"
    cf.save_to(path)
    _idle(bot, window)
    assert path.exists() and not case.dirty and window.windowTitle().startswith("phantom.htwin -")
    assert not [r for r in autosave.pending() if r.case_id == case.case_id]  # saved: recovery removed
    assert casefile.read_json_member(path, "case.json")["devices"][0]["pose_lps"] == pose.tolist()

    window.session.set_case(None)
    cf.open(path)
    _idle(bot, window)
    bot.waitUntil(lambda: window.job is None and window.panel("device").ctx is not None, timeout=60000)
    reopened = window.session.case
    assert reopened is not case and reopened.path == path and not reopened.dirty
    assert window.session.device_poly is not None and DEVICE_KEY in window.views.view3d.labels
    assert np.allclose(np.array(reopened.devices[-1]["pose_lps"]), pose, atol=1e-9)
    assert np.allclose(window.panel("device").pose, pose, atol=1e-6)
    assert reopened.measurements["annulus"]["area_mm2"] == case.measurements["annulus"]["area_mm2"]
    assert len(window.panel("simulate").plot.points()) == 6  # the saved plan is shown again
    view = window.views.view3d
    assert view.labels == {s.label for s in window.session.structures()} | {DEVICE_KEY}
    bot.waitUntil(lambda: view.frame_current, timeout=30000)
    screenshot("plan_5_reopened", window)

    # a change, then quitting asks; Cancel keeps the window open
    assert "moved" not in window.panel("simulate").overall.text()
    window.panel("device").apply_key(Qt.Key.Key_PageUp)
    assert reopened.dirty and "moved" in window.panel("simulate").overall.text()
    asked = []
    cf.answer = lambda title, text, buttons: asked.append(title) or Button.Cancel
    window.confirm_close = True
    try:
        assert not window.close() and window.isVisible() and asked == ["Unsaved changes"]
    finally:
        window.confirm_close = False
        cf.answer = None


def test_recovery_after_a_crash(planned, tmp_path):
    """A recovery file left behind is offered at start and reopens the unsaved case."""
    window, bot = planned["window"], planned["bot"]
    case = window.session.case
    saver = autosave.Autosaver(case)
    saver.save()  # as if HeartTwin had died after this autosave
    pose = np.array(case.devices[-1]["pose_lps"])
    cf = window.case_files
    cf.answer = lambda title, text, buttons: Button.Yes
    try:
        window.session.set_case(None)
        assert cf.offer_recovery()
        _idle(bot, window)
        bot.waitUntil(lambda: window.job is None and window.panel("device").ctx is not None, timeout=60000)
    finally:
        cf.answer = None
    recovered = window.session.case
    assert recovered.case_id == case.case_id and recovered.dirty
    assert np.allclose(np.array(recovered.devices[-1]["pose_lps"]), pose)


def test_export_models_stl(planned, tmp_path):
    """One STL per structure; the LV model encloses the LV's labelled volume (within 10 %)."""
    from vtkmodules.vtkFiltersCore import vtkMassProperties
    from vtkmodules.vtkIOGeometry import vtkSTLReader

    window, bot = planned["window"], planned["bot"]
    panel = window.panel("model")
    assert panel.export_to(tmp_path, fmt="stl", printable=False) is not None
    _idle(bot, window)
    keys = {s.key for s in window.session.structures()}
    assert {p.stem for p in tmp_path.glob("*.stl")} == keys
    lv_key = next(s.key for s in window.session.structures() if s.label == 1)
    reader = vtkSTLReader()
    reader.SetFileName(str(tmp_path / f"{lv_key}.stl"))
    mass = vtkMassProperties()
    mass.SetInputConnection(reader.GetOutputPort())
    mass.Update()
    labels = window.session.labels
    expected = np.count_nonzero(labels.array == 1) * float(np.prod(labels.spacing))
    assert mass.GetVolume() == pytest.approx(expected, rel=0.1)


def test_new_case_discards(planned):
    """File > New on a dirty case asks; Discard clears the case and its recovery file."""
    window = planned["window"]
    case = window.session.case
    window.panel("device").apply_key(Qt.Key.Key_PageUp)
    assert case.dirty
    asked = []
    window.case_files.answer = lambda title, text, buttons: asked.append(title) or Button.Discard
    try:
        window.actions_by_name["new_case"].trigger()
    finally:
        window.case_files.answer = None
    assert asked == ["Unsaved changes"] and window.session.case is None
    assert window.state.volume is None and window.state.device is None
    assert not [r for r in autosave.pending() if r.case_id == case.case_id]


@pytest.mark.slow
def test_walkthrough_on_the_sample_case(qapp, tmp_path, screenshot):
    """The README walkthrough, step by step on sample_dicom, as a user drives it (its screenshots
    are docs/screenshots/, see scripts/screenshots.sh)."""
    from pathlib import Path

    sample = Path(__file__).resolve().parents[2] / "sample_dicom"
    bot = Bot()
    window = make_window(bot)
    view = window.views.view3d
    try:
        # 1. Data: open the folder; its only CT series loads
        open_and_load(bot, window, sample)
        assert window.panel("data").table.rowCount() >= 1
        screenshot("walkthrough_1_data", window)
        # 2. Segment: automatic segmentation, then the 3D surfaces
        window.show_step("segment")
        window.panel("segment").auto_button.click()
        bot.waitUntil(lambda: window.job is None and bool(window.session.surfaces), timeout=300000)
        _idle(bot, window)
        assert set(np.unique(window.session.labels.array)) >= {1, 2, 3, 4, 5, 6, 7}
        bot.waitUntil(lambda: view.frame_current, timeout=60000)
        screenshot("walkthrough_2_segment", window)
        # 3. Model & measure
        window.show_step("model")
        window.panel("model").measure_button.click()
        _idle(bot, window)
        assert window.session.case.measurements["annulus"]["area_mm2"] > 200
        screenshot("walkthrough_3_measure", window)
        # 4. Device: the recommended balloon-expandable valve, placed automatically, 1 mm deeper
        window.show_step("device")
        device = window.panel("device")
        device.select("thv-balloon")
        device.place_button.click()
        _idle(bot, window)
        window.actions_by_name["device_depth_plus"].trigger()
        assert window.session.case.history[-1].name == "move_device"
        bot.waitUntil(lambda: view.frame_current, timeout=60000)
        screenshot("walkthrough_4_device", window)
        # 5. Simulate: the cycle, then the beating heart at its worst phase
        window.show_step("simulate")
        simulate = window.panel("simulate")
        simulate.run_button.click()
        _idle(bot, window)
        assert simulate.frames_current()
        simulate.play()
        bot.wait(500)
        simulate.pause()
        simulate.slider.setValue(simulate.worst_index(simulate.metric_combo.currentText()))
        assert view.points is not None
        bot.waitUntil(lambda: view.frame_current, timeout=60000)
        screenshot("walkthrough_5_simulate", window)
        # 6. Report, and the case saved
        window.show_step("report")
        out = tmp_path / "plan.html"
        window.panel("report").write(out)
        _idle(bot, window, 300000)
        assert out.exists() and window.panel("device").ctx.family.family in out.read_text(encoding="utf-8")
        window.case_files.save_to(tmp_path / "sample.htwin")
        _idle(bot, window)
        assert (tmp_path / "sample.htwin").exists() and not window.session.case.dirty
        bot.waitUntil(lambda: view.frame_current, timeout=60000)
        screenshot("walkthrough_6_report", window)
    finally:
        close_window(window)
