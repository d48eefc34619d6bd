"""Data step: cine playback of a multi-phase series, the DICOM header dialog, anonymised export.

Real window, real DICOM files written by tests/dicom_factory.py.
"""

from __future__ import annotations

import time

import numpy as np
import pydicom
import pytest
from pydicom.dataset import Dataset
from PySide6.QtCore import Qt

import dicom_factory as f
from gui_support import grab_rgb, open_and_load, wait_idle
from hearttwin.core.imaging import scan
from hearttwin.gui import display, error_dialog, header_dialog

NZ, NY, NX = 10, 32, 28
PHASES = 3
THICKNESS = 0.625
LEFT = Qt.MouseButton.LeftButton
MARKERS = (f.PATIENT_NAME, f.PATIENT_ID, f.BIRTH_DATE, "Zyxwvut", "Quentinella")


def _tag(p: int):
    def tag(k, ds):
        ds.TriggerTime = 100.0 * p + 0.3 * k  # phase p, with per-slice jitter
        ref = Dataset()
        ref.ReferencedSOPClassUID = ds.SOPClassUID
        ref.ReferencedSOPInstanceUID = "1.2.826.0.1.3680043.99.777.1"
        ds.SourceImageSequence = [ref]
        ds.ImageComments = "x" * 3000  # large: left unread by the header dialog
        return ds
    return tag


@pytest.fixture
def multiphase(tmp_path):
    """Three phases of one series (distinct random HU), as real DICOM files; returns (folder, volumes)."""
    folder = tmp_path / "Zyxwvut_Quentinella_PID-987654321"
    vols = [f.phantom((NZ, NY, NX), seed=10 + p) for p in range(PHASES)]
    uid = "1.2.826.0.1.3680043.8.498.77"
    for p in range(PHASES):
        f.ct_series(vols[p], folder / f"p{p}", series_uid=uid, per_slice=_tag(p), seed=p, thickness=THICKNESS)
    return folder, vols


def _expected_axial(window, vol, z):
    st = window.state
    return display.window_to_grey(display.plane_image(st.orientation.view(vol), "axial", z), st.window, st.level)


def _shown_axial(window):
    return window.views.views["axial"].slice_rgb()[..., 0]


# -- cine ------------------------------------------------------------------------------------
def test_cine_steps_and_plays_phases_without_touching_the_case(window, qtbot, multiphase):
    folder, vols = multiphase
    open_and_load(qtbot, window, folder)
    panel, session = window.panel("data"), window.session
    case, case_array = session.case, session.volume.array.copy()
    np.testing.assert_array_equal(case_array, vols[0])
    assert panel.cine_box.isVisibleTo(panel) and panel.cine_load_button.isEnabled()
    assert not panel.play_button.isEnabled()

    window.state.set_cursor((5, 7, 3))
    axial = window.views.views["axial"]
    axial.set_zoom(2.0)
    panel.load_cine()
    wait_idle(qtbot, window)
    player = panel.player
    assert player.ready and player.count == PHASES and player.phase == 0 and player.showing
    per_phase = player.bytes_held() / PHASES
    assert per_phase == NX * NY * NZ * 2  # int16 voxels, nothing duplicated per phase

    shots = []
    for k in (1, 2, 0):
        panel.cine_slider.setValue(k)
        assert player.phase == k
        z = int(window.state.cursor[2])
        np.testing.assert_array_equal(_shown_axial(window), _expected_axial(window, vols[k], z))
        other = _expected_axial(window, vols[(k + 1) % PHASES], z)
        assert np.count_nonzero(_shown_axial(window) != other) > 0.5 * other.size
        shots.append(grab_rgb(axial))
        assert f"phase {k + 1} of {PHASES}" in panel.cine_label.text()
    assert np.count_nonzero(np.any(shots[0] != shots[1], axis=2)) > 1000  # really repainted differently
    # crosshair, zoom and the case itself are untouched
    assert tuple(window.state.cursor) == (5, 7, 3) and axial.zoom == 2.0
    assert session.case is case
    np.testing.assert_array_equal(session.volume.array, case_array)
    assert player.last_frame_ms < 100

    panel.fps.setValue(20)
    seen = []
    player.phase_changed.connect(seen.append)
    t0 = time.perf_counter()
    qtbot.mouseClick(panel.play_button, LEFT)
    assert player.playing and panel.play_button.text() == "Pause"
    qtbot.waitUntil(lambda: len(seen) >= 5, timeout=5000)
    elapsed = time.perf_counter() - t0
    qtbot.mouseClick(panel.play_button, LEFT)
    assert not player.playing and panel.play_button.text() == "Play"
    assert seen[:5] == [(seen[0] + i) % PHASES for i in range(5)]  # in order, looping
    assert elapsed >= 4 * 0.05 * 0.8  # paced by the timer (20 fps), not as fast as possible
    n_after = len(seen)
    qtbot.wait(200)
    assert len(seen) == n_after  # paused means paused
    np.testing.assert_array_equal(session.volume.array, case_array)


def test_use_this_phase_and_leaving_the_step(window, qtbot, multiphase):
    folder, vols = multiphase
    open_and_load(qtbot, window, folder)
    panel = window.panel("data")
    panel.load_cine()
    wait_idle(qtbot, window)
    panel.cine_slider.setValue(1)
    z = int(window.state.cursor[2])
    window.show_step("segment")  # the other steps work on the case image: the views show it again
    assert not panel.player.showing
    np.testing.assert_array_equal(_shown_axial(window), _expected_axial(window, vols[0], z))
    window.show_step("data")
    panel.cine_slider.setValue(2)
    np.testing.assert_array_equal(_shown_axial(window), _expected_axial(window, vols[2], z))
    qtbot.mouseClick(panel.use_phase_button, LEFT)
    qtbot.waitUntil(lambda: window.session.volume.meta.get("phase") == 2, timeout=30000)
    wait_idle(qtbot, window)
    np.testing.assert_array_equal(window.session.volume.array, vols[2])
    step = window.session.case.history[0]
    assert step.name == "open_image" and step.params["phase"] == 2
    assert panel.player.ready and panel.player.phase == 2  # the phases stay loaded


def test_cine_refuses_above_the_memory_cap(window, qtbot, multiphase, monkeypatch):
    folder, _ = multiphase
    open_and_load(qtbot, window, folder)
    monkeypatch.setenv("HEARTTWIN_CINE_MAX_MB", "0.01")
    before = len(error_dialog.open_dialogs())
    assert window.panel("data").load_cine() is None
    dialogs = error_dialog.open_dialogs()[before:]
    assert dialogs and "phases" in dialogs[0].informativeText() and "memory" in dialogs[0].informativeText()
    assert not window.panel("data").player.ready and window.job is None
    for d in dialogs:
        d.close()


# -- DICOM header ----------------------------------------------------------------------------
def _open_header(window, qtbot):
    header_dialog.install(window)
    header_dialog.install(window)  # idempotent
    act = window.actions_by_name["dicom_header"]
    view_menu = next(a.menu() for a in window.menuBar().actions() if a.text().replace("&", "") == "View")
    assert [a for a in view_menu.actions() if a is act] == [act]
    assert act.shortcut().toString() == "Ctrl+I"
    others = [a for name, a in window.actions_by_name.items() if name != "dicom_header"]
    assert all(a.shortcut().toString() != "Ctrl+I" for a in others)
    act.trigger()
    dialog = window.panel("data").header_dialog
    qtbot.waitUntil(lambda: bool(dialog.rows), timeout=10000)
    return dialog


def _row(dialog, keyword):
    return next(r for r in dialog.visible_rows() if r[1] == keyword)


def test_header_dialog_lists_values_hides_identifying_ones_and_filters(window, qtbot, multiphase, screenshot):
    folder, _ = multiphase
    open_and_load(qtbot, window, folder)
    dialog = _open_header(window, qtbot)
    assert dialog.hide_check.isChecked()  # safe for screenshots by default
    assert _row(dialog, "Modality") == ("(0008,0060)", "Modality", "CS", "CT")
    assert _row(dialog, "SliceThickness")[3] == str(THICKNESS)
    assert _row(dialog, "TransferSyntaxUID")[3].endswith("(Explicit VR Little Endian)")
    assert _row(dialog, "PatientName")[3] == header_dialog.HIDDEN
    assert _row(dialog, "SeriesInstanceUID")[3] == header_dialog.HIDDEN
    text = " ".join(" ".join(r) for r in dialog.visible_rows())
    assert not any(m in text for m in MARKERS) and "PID-987654321" not in dialog.windowTitle()
    # sequences expand: the item's registered UID shows, the instance UID is hidden
    seq = next(i for i, r in dialog._items if r.keyword == "SourceImageSequence")
    assert seq.childCount() == 1 and seq.child(0).text(1) == "Item 1"
    inner = {seq.child(0).child(i).text(1): seq.child(0).child(i).text(3) for i in range(seq.child(0).childCount())}
    assert inner["ReferencedSOPClassUID"].endswith("(CT Image Storage)")
    assert inner["ReferencedSOPInstanceUID"] == header_dialog.HIDDEN
    screenshot("dicom_header_dialog", dialog)

    dialog.hide_check.setChecked(False)  # the clinician's own workstation: everything readable
    assert _row(dialog, "PatientName")[3] == f.PATIENT_NAME
    assert _row(dialog, "PatientID")[3] == f.PATIENT_ID
    assert _row(dialog, "ImageComments")[3] == "(3000 bytes, not read)"  # deferred, never loaded

    dialog.filter_edit.setText("thickness")
    shown = dialog.visible_rows()
    assert [r[1] for r in shown] == ["SliceThickness"]
    dialog.filter_edit.setText("0008,0060")
    assert [r[1] for r in dialog.visible_rows()] == ["Modality"]
    dialog.filter_edit.setText("ReferencedSOPClassUID")  # a nested match shows its parents, expanded
    assert [r[1] for r in dialog.visible_rows()] == ["SourceImageSequence", "Item 1", "ReferencedSOPClassUID"]
    assert seq.isExpanded()
    dialog.hide_check.setChecked(True)
    dialog.filter_edit.setText("Zyxwvut")  # a hidden value cannot be found by filtering either
    assert dialog.visible_rows() == []
    dialog.close()


def test_header_rows_read_without_pixels(multiphase):
    folder, _ = multiphase
    path = next(p for p in sorted(folder.rglob("*")) if p.is_file())
    rows = header_dialog.read_header_rows(path)
    keywords = [r.keyword for top in rows for r in top.walk()]
    assert "PixelData" not in keywords and "Modality" in keywords
    assert keywords.index("TransferSyntaxUID") < keywords.index("Modality")  # file meta first


# -- anonymised export -----------------------------------------------------------------------
def test_export_anonymised_series(window, qtbot, multiphase, tmp_path):
    folder, vols = multiphase
    open_and_load(qtbot, window, folder)
    header_dialog.install(window)
    assert "export_anonymised" in window.actions_by_name
    panel = window.panel("data")
    out = tmp_path / "export"
    out.mkdir()
    panel.export_anonymised(out)
    wait_idle(qtbot, window)
    target = panel.last_export
    assert target is not None and target.parent == out
    files = sorted(target.glob("*.dcm"))
    sources = [p for p in folder.rglob("*") if p.is_file()]
    assert len(files) == len(sources) == PHASES * NZ
    assert f"Exported {len(files)} anonymised images" in window.statusBar().currentMessage()
    for path in files:
        ds = pydicom.dcmread(path)
        assert str(ds.PatientName) != f.PATIENT_NAME and str(ds.PatientID) != f.PATIENT_ID
        assert ds.PatientBirthDate in ("", None) and ds.PatientIdentityRemoved == "YES"
        raw = path.read_bytes()
        assert not any(m.encode() in raw for m in MARKERS)
    result = scan(target)
    assert len(result.series) == 1
    info = result.series[0]
    assert info.phases == PHASES and info.slices == NZ and info.loadable
    from hearttwin.core.imaging import load_volume

    np.testing.assert_array_equal(load_volume(info, phase=1).array, vols[1])
    # a second export goes to a new folder, never over the first
    panel.export_anonymised(out)
    wait_idle(qtbot, window)
    assert panel.last_export != target and len(list(target.glob("*.dcm"))) == PHASES * NZ


def test_export_refuses_the_source_folder_and_cancel_removes_the_copy(window, qtbot, multiphase, tmp_path,
                                                                      monkeypatch):
    from hearttwin.core.imaging.anonymise import anonymise_files
    from hearttwin.gui.panels import data_panel

    folder, _ = multiphase
    open_and_load(qtbot, window, folder)
    panel = window.panel("data")
    before = len(error_dialog.open_dialogs())
    assert panel.export_anonymised(folder / "p0") is None
    dialogs = error_dialog.open_dialogs()[before:]
    assert dialogs and "inside the opened DICOM folder" in dialogs[0].informativeText()
    for d in dialogs:
        d.close()

    class CancelAfter:  # the user presses Cancel after two files
        def __init__(self, progress):
            self.progress, self.n = progress, 0

        @property
        def cancelled(self):
            return self.progress.cancelled

        def update(self, done, total, message=""):
            self.n += 1
            if self.n > 2:
                self.progress.cancel()
            self.progress.update(done, total, message)

    def cancelling(files, out, progress=None):
        return anonymise_files(files, out, progress=CancelAfter(progress))

    monkeypatch.setattr(data_panel, "ANONYMISE_FILES", cancelling)
    out = tmp_path / "export"
    job = panel.export_anonymised(out)
    assert job is not None
    wait_idle(qtbot, window)
    qtbot.waitUntil(lambda: "cancelled" in window.statusBar().currentMessage(), timeout=5000)
    assert not (out / "HeartTwin_anonymised_series_3").exists() and panel.last_export is None


def test_cancelling_the_phase_load_keeps_nothing(window, qtbot, multiphase, monkeypatch):
    from hearttwin.gui import cine

    folder, vols = multiphase
    open_and_load(qtbot, window, folder)
    real = cine.load_cine_phases

    def cancelled_after_first_phase(info, progress=None):
        class Pressed:  # the user presses Cancel once phase 1 is read
            cancelled = property(lambda self: progress.cancelled)

            def update(self, done, total, message=""):
                if done >= 1:
                    progress.cancel()
                progress.update(done, total, message)
        return real(info, progress=Pressed())

    monkeypatch.setattr(cine, "load_cine_phases", cancelled_after_first_phase)
    panel = window.panel("data")
    assert panel.load_cine() is not None
    wait_idle(qtbot, window)
    assert "cancelled" in window.statusBar().currentMessage()
    assert not panel.player.ready and not panel.play_button.isEnabled()
    z = int(window.state.cursor[2])
    np.testing.assert_array_equal(_shown_axial(window), _expected_axial(window, vols[0], z))  # the case image
