"""The beating heart in the Simulate step: frames from the worker, playback, scrubbing, worst phase.

One window per module on the small phantom (its true labels stand in for the
segmentation); the device is placed and the cycle simulated by the real jobs.
"""

import time

import numpy as np
import pytest
from PySide6.QtWidgets import QApplication
from vtkmodules.util.numpy_support import numpy_to_vtk, numpy_to_vtkIdTypeArray, vtk_to_numpy
from vtkmodules.vtkCommonCore import vtkPoints
from vtkmodules.vtkCommonDataModel import vtkCellArray, vtkPolyData
from vtkmodules.vtkFiltersCore import vtkMassProperties

from gui_support import (Bot, close_window, grab_rgb, idle_without_errors, place_device,
                         window_with_true_labels)
from hearttwin.gui.main_window import DEVICE_KEY
from hearttwin.gui.panels.phase_plot import WORST

N_PHASES = 8


def _idle(bot, window, timeout=120000):
    idle_without_errors(bot, window, timeout)


def _frame(bot, view):
    view.refresh()
    bot.waitUntil(lambda: view.frame_current, timeout=30000)
    return view.last_rgb.copy()


@pytest.fixture(scope="module")
def simulated(qapp, phantom, phantom_dir):
    bot = Bot()
    window = window_with_true_labels(bot, phantom, phantom_dir)
    place_device(bot, window)
    bot.waitUntil(lambda: window.job is None and bool(window.session.surfaces), timeout=120000)
    _idle(bot, window)
    view = window.views.view3d
    still = _frame(bot, view)  # the heart at the CT phase, before any animation
    window.show_step("simulate")
    panel = window.panel("simulate")
    panel.n_phases.setValue(N_PHASES)
    panel.run()
    _idle(bot, window)
    yield {"window": window, "bot": bot, "panel": panel, "still": still}
    close_window(window)


def _pts(poly):
    return vtk_to_numpy(poly.GetPoints().GetData())


def _enclosed_ml(poly, points):
    """Volume (mL) a surface with other points encloses (built anew: the view draws ``poly``)."""
    cells = vtkCellArray()
    cells.SetData(numpy_to_vtkIdTypeArray(vtk_to_numpy(poly.GetPolys().GetOffsetsArray()).copy(), deep=True),
                  numpy_to_vtkIdTypeArray(vtk_to_numpy(poly.GetPolys().GetConnectivityArray()).copy(), deep=True))
    pts = vtkPoints()
    pts.SetData(numpy_to_vtk(np.ascontiguousarray(points, np.float32), deep=True))
    moved = vtkPolyData()
    moved.SetPoints(pts)
    moved.SetPolys(cells)
    mass = vtkMassProperties()
    mass.SetInputData(moved)
    mass.Update()
    return mass.GetVolume() / 1000.0


def test_frames_follow_the_simulated_chamber_volumes(simulated):
    window, panel = simulated["window"], simulated["panel"]
    plan = window.session.case.simulation["results"]["plan"]
    frames = panel.frames
    assert panel.frames_current() and len(frames["phases"]) == N_PHASES
    assert np.allclose(frames["phases"], [row["phase"] for row in plan["phases"]])
    surfaces = window.session.surfaces
    assert set(frames["surfaces"]) == set(surfaces)
    lv = surfaces[1]
    ref = vtk_to_numpy(lv.GetPoints().GetData())
    lv_frames = frames["surfaces"][1]
    assert lv_frames.shape == (N_PHASES,) + ref.shape
    assert np.abs(lv_frames[0] - ref).max() < 0.5  # phase 0 is the CT phase: (almost) no motion
    # the LV surface encloses the LV volume curve of the 0D model the plan used
    curve = np.array(plan["motion"]["chamber_volumes_ml"]["LV"])
    enclosed = np.array([_enclosed_ml(lv, f) for f in lv_frames])
    assert curve.min() / curve.max() < 0.75  # the heart does beat
    assert np.allclose(enclosed / enclosed[0], curve / curve[0], atol=0.03)
    # the device moves rigidly with the tissue at its seat
    dev = frames["device"]
    ref_dev = vtk_to_numpy(window.session.device_poly.GetPoints().GetData())
    assert dev.shape == (N_PHASES,) + ref_dev.shape
    pick = np.random.default_rng(0).choice(len(ref_dev), 40, replace=False)

    def pairwise(p):
        return np.linalg.norm(p[pick, None] - p[None, pick], axis=2)

    for k in range(N_PHASES):
        assert np.allclose(pairwise(dev[k]), pairwise(ref_dev), atol=1e-3)
    shift = np.linalg.norm(dev.mean(axis=1) - ref_dev.mean(axis=0), axis=1)
    assert shift[0] < 0.5 and shift.max() > 1.0


def test_scrub_play_pause_and_stop(simulated):
    window, bot, panel = simulated["window"], simulated["bot"], simulated["panel"]
    view = window.views.view3d
    frames = panel.frames
    curve = [row for row in window.session.case.simulation["results"]["plan"]["motion"]
             ["chamber_volumes_ml"]["LV"]]
    systole = int(np.argmin(curve))
    panel.slider.setValue(0)
    first = _frame(bot, view)
    panel.slider.setValue(systole)
    assert view.points is not None and np.array_equal(_pts(view.points[1]), frames["surfaces"][1][systole])
    assert np.array_equal(_pts(view.points[DEVICE_KEY]), frames["device"][systole])
    contracted = _frame(bot, view)
    changed = np.any(first != contracted, axis=2).mean()
    assert changed > 0.01, changed  # the heart visibly smaller in systole

    # play: the phases advance at about the frame rate, and the 3D view keeps up
    panel.slider.setValue(0)
    start_id, start = view._frame_id, time.monotonic()
    seen = set()
    panel.play_button.click()
    assert panel.play_button.isChecked() and panel.timer.isActive()
    bot.waitUntil(lambda: seen.add(panel.slider.value()) or time.monotonic() - start > 1.5, timeout=5000)
    rendered = (view._frame_id - start_id) / (time.monotonic() - start)
    print(f"animation: {len(seen)} phases shown, {rendered:.1f} rendered frames/s")
    assert len(seen) == N_PHASES  # 1.5 s at ~15 frames/s goes round the 8 phases
    # a slow (software) renderer drops frames rather than slowing the beat; it still draws
    assert view._frame_id - start_id >= 2
    panel.play_button.click()  # pause: stays at the phase shown
    assert not panel.timer.isActive() and panel.play_button.text() == "Play"
    at = panel.slider.value()
    bot.wait(200)
    assert panel.slider.value() == at and view.points is not None
    assert np.array_equal(_pts(view.points[1]), frames["surfaces"][1][at])

    # Space (Workflow > Play/pause) plays and pauses on this step only
    play = window.actions_by_name["play_cycle"]
    assert play.isEnabled() and play.shortcut().toString() == "Space"
    play.trigger()
    assert panel.timer.isActive()
    play.trigger()
    assert not panel.timer.isActive()

    # leaving the step shows the CT phase again, exactly as before the animation
    window.show_step("report")
    assert view.points is None and not panel.play_button.isChecked() and not play.isEnabled()
    assert np.array_equal(_frame(bot, view), simulated["still"])
    window.show_step("simulate")


def test_worst_phase_marked_on_plot_and_scrubber(simulated):
    panel = simulated["panel"]
    metric = panel.metric_combo.currentText()
    worst = panel.worst_index(metric)
    assert worst is not None and panel.slider.worst == worst
    QApplication.processEvents()
    rgb = grab_rgb(panel.slider)
    red = np.array([WORST.red(), WORST.green(), WORST.blue()])
    y = panel.slider.height() - 3
    assert (rgb[y, int(round(panel.slider.value_x(worst)))] == red).all()
    others = [k for k in range(N_PHASES) if k != worst]
    for k in others:
        assert not (rgb[y, int(round(panel.slider.value_x(k)))] == red).all(), k
    # and on the plot
    q = panel.plot.points()[worst]
    assert (grab_rgb(panel.plot)[int(q.y()), int(q.x())] == red).all()


def test_moved_device_recomputes_frames_on_play(simulated):
    window, bot, panel = simulated["window"], simulated["bot"], simulated["panel"]
    from PySide6.QtCore import Qt

    window.show_step("device")
    window.panel("device").apply_key(Qt.Key.Key_PageDown)
    assert not panel.frames_current()
    window.show_step("simulate")
    assert "moved" in panel.overall.text()
    bot.waitUntil(lambda: window.views.view3d.frame_current, timeout=30000)
    panel.play()
    assert window.job is not None  # the frames for the moved device, in the background
    _idle(bot, window)
    assert panel.frames_current() and panel.timer.isActive()
    pose = np.array(window.session.case.devices[-1]["pose_lps"])
    assert np.allclose(panel.frames["poses"][0][:3, 3], pose[:3, 3], atol=0.5)
    panel.stop()
    assert window.views.view3d.points is None
