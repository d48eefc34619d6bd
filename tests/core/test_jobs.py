import io
import threading

import pytest

from hearttwin.core import jobs
from hearttwin.core.errors import CancelledError, HeartTwinError, InputError, NotDicomError


def test_report_updates_and_cancel_raises():
    token = jobs.CancelToken()
    jobs.report(token, 3, 10, "reading")
    assert (token.done, token.total, token.message) == (3, 10, "reading")
    token.cancel()
    with pytest.raises(CancelledError):
        jobs.report(token, 4, 10, "reading")
    assert token.done == 3  # the cancelled step did not report


def test_cancel_from_another_thread_stops_a_loop():
    token = jobs.CancelToken()
    started = threading.Event()
    steps = []

    def work():
        started.set()
        for i in range(10_000_000):
            jobs.check(token)
            steps.append(i)

    t = threading.Thread(target=lambda: pytest.raises(CancelledError, work))
    t.start()
    started.wait()
    token.cancel()
    t.join(timeout=5)
    assert not t.is_alive()
    assert len(steps) < 10_000_000


def test_sub_progress_maps_into_parent_range():
    token = jobs.CancelToken()
    sub = jobs.SubProgress(token, 50, 100, total=100)
    sub.update(1, 4, "half of second half")
    assert token.done == pytest.approx(62.5)
    assert token.total == 100
    token.cancel()
    assert sub.cancelled


def test_terminal_progress_non_tty_prints_one_line_per_step():
    buf = io.StringIO()
    p = jobs.TerminalProgress(buf)
    p.update(0, 300, "Reading DICOM headers (0/300)")
    p.update(32, 300, "Reading DICOM headers (32/300)")
    p.update(300, 300, "Grouping series")
    p.update(300, 300, "Grouping series")
    assert buf.getvalue() == "Reading DICOM headers (0/300)\nGrouping series\n"


def test_sitk_filter_aborts_when_cancelled_midway():
    import numpy as np
    import SimpleITK as sitk

    img = sitk.GetImageFromArray(np.random.default_rng(0).normal(size=(40, 64, 64)).astype(np.float32))
    token = jobs.CancelToken()
    f = sitk.CurvatureFlowImageFilter()
    f.SetNumberOfIterations(50)
    jobs.sitk_observe(f, token, "smoothing")
    # the user presses Cancel once the filter is about 10% through
    f.AddCommand(sitk.sitkIterationEvent, lambda: token.cancel() if f.GetProgress() > 0.1 else None)
    with pytest.raises(RuntimeError, match="aborted"):
        f.Execute(img)
    assert 0.1 < f.GetProgress() < 0.5
    assert token.updates > 0 and token.message == "smoothing"
    with pytest.raises(CancelledError):
        jobs.check(token)


def test_error_types_carry_exit_codes():
    assert issubclass(NotDicomError, InputError)
    assert NotDicomError("x").exit_code == 2
    assert HeartTwinError("x").exit_code == 1
    assert str(CancelledError()) == "Cancelled by the user."
