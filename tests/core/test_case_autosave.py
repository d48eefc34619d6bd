"""Autosave to a recovery file and recovery at the next start; the data folder; logging."""

import logging
import os
import subprocess
import sys

import numpy as np
import pytest

from hearttwin.core import autosave, casefile, logs
from hearttwin.core.case import Case
from hearttwin.core.imaging.volume import Volume


class Clock:
    def __init__(self):
        self.t = 0.0

    def __call__(self):
        return self.t


def _case():
    case = Case()
    case.set_labels(Volume(np.ones((3, 4, 5), np.uint8), (1, 1, 1)))
    return case


def test_autosave_only_when_dirty_changed_and_interval_passed(tmp_path):
    clock = Clock()
    case = Case()
    saver = autosave.Autosaver(case, tmp_path / "rec", interval_s=60, clock=clock)
    clock.t = 100
    assert saver.maybe_save() is None  # clean case: nothing to protect
    case.set_measurements({"annulus": {"area_mm2": 410.0}})
    clock.t = 159
    saver._last_time = 100
    assert not saver.due()
    clock.t = 161
    path = saver.maybe_save()
    assert path == tmp_path / "rec" / f"autosave-{case.case_id}.htwin" and path.exists()
    assert case.dirty, "an autosave is not a save"
    clock.t = 1000
    assert saver.maybe_save() is None  # nothing changed since the autosave
    case.touch()
    assert saver.maybe_save() == path
    # the user saves: the recovery file is stale and goes away at the next tick
    casefile.save(case, tmp_path / "plan.htwin")
    assert saver.maybe_save() is None and not path.exists()


def test_recovery_after_a_crash(tmp_path):
    rec = tmp_path / "rec"
    case = _case()
    casefile.save(case, tmp_path / "plan.htwin")
    case.set_measurements({"annulus": {"area_mm2": 432.1}})  # unsaved work
    code = (
        "import sys, numpy as np\n"
        "from hearttwin.core import autosave, casefile\n"
        "case = casefile.load(sys.argv[1])\n"
        "case.set_measurements({'annulus': {'area_mm2': 432.1}})\n"
        "autosave.Autosaver(case, sys.argv[2], interval_s=0).maybe_save()\n"
        "import os; os._exit(9)  # crash: no clean shutdown\n"
    )
    proc = subprocess.run([sys.executable, "-c", code, str(tmp_path / "plan.htwin"), str(rec)])
    assert proc.returncode == 9
    found = autosave.pending(rec)
    assert len(found) == 1 and found[0].case_id == case.case_id
    assert found[0].case_path == str(tmp_path / "plan.htwin") and found[0].saved_utc
    back = autosave.recover(found[0])
    assert back.measurements["annulus"]["area_mm2"] == 432.1
    assert np.array_equal(back.labels.array, case.labels.array)
    assert back.dirty and back.path == tmp_path / "plan.htwin" and "recovered" in back.warnings[-1]
    # the user saves the recovered case where it belongs, the recovery file goes
    casefile.save(back, back.path)
    saver = autosave.Autosaver(back, rec)
    saver.maybe_save()
    assert autosave.pending(rec) == []
    assert casefile.load(tmp_path / "plan.htwin").measurements["annulus"]["area_mm2"] == 432.1


def test_pending_skips_files_of_a_running_instance_and_damaged_files(tmp_path):
    rec = tmp_path / "rec"
    case = _case()
    case.touch()
    autosave.Autosaver(case, rec, interval_s=0).save()
    doc = casefile.read_json_member(autosave.recovery_path(case, rec), autosave.RECOVERY_MEMBER)
    assert doc["pid"] == os.getpid() and doc["case_id"] == case.case_id
    assert [r.case_id for r in autosave.pending(rec)] == [case.case_id]  # ours: offered
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        # a recovery file written by another HeartTwin that is still running
        case2 = _case()
        case2.case_id = "f" * 32
        casefile.save(case2, autosave.recovery_path(case2, rec), backup=False, mark_saved=False,
                      extra_members={autosave.RECOVERY_MEMBER: {"case_id": case2.case_id, "pid": other.pid,
                                                                "case_path": None}})
        assert [r.case_id for r in autosave.pending(rec)] == [case.case_id]
        assert len(autosave.pending(rec, include_running=True)) == 2
    finally:
        other.kill()
        other.wait()
    (rec / "autosave-0000000000000000.htwin").write_bytes(b"garbage")  # skipped, not fatal
    assert sorted(r.case_id for r in autosave.pending(rec)) == sorted([case.case_id, "f" * 32])


def test_autosave_file_name_holds_only_the_case_id(tmp_path):
    case = _case()
    case.path = tmp_path / "Zyxwvut^Quentinella" / "plan.htwin"
    assert autosave.recovery_path(case, tmp_path).name == f"autosave-{case.case_id}.htwin"
    case.case_id = "../../etc/passwd"
    assert autosave.recovery_path(case, tmp_path).parent == tmp_path


def test_data_dir_rules(monkeypatch, tmp_path):
    monkeypatch.delenv("HEARTTWIN_DATA_DIR", raising=False)
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert logs.data_dir() == tmp_path / "xdg" / "hearttwin"
    assert logs.log_dir() == tmp_path / "xdg" / "hearttwin" / "logs"
    assert autosave.recovery_dir() == tmp_path / "xdg" / "hearttwin" / "recovery"
    monkeypatch.setenv("XDG_DATA_HOME", "relative/path")  # invalid per the XDG spec: ignored
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert logs.data_dir() == tmp_path / "home" / ".local" / "share" / "hearttwin"
    monkeypatch.setenv("HEARTTWIN_DATA_DIR", str(tmp_path / "mine"))
    assert logs.data_dir() == tmp_path / "mine"


def test_setup_logging_writes_a_rotating_file_and_can_be_replaced(tmp_path):
    log = logging.getLogger("hearttwin.test")
    try:
        path = logs.setup_logging(tmp_path / "a", max_bytes=2000, backups=2)
        for i in range(100):
            log.info("message number %d with some padding to fill the file", i)
        files = sorted(p.name for p in (tmp_path / "a").iterdir())
        assert files == ["hearttwin.log", "hearttwin.log.1", "hearttwin.log.2"]
        assert "message number 99" in path.read_text() and path.stat().st_size <= 2000
        logging.getLogger("pydicom").warning("third-party record")  # not ours: not in the file
        path2 = logs.setup_logging(tmp_path / "b")
        log.warning("after the switch")
        assert "after the switch" in path2.read_text() and "after the switch" not in path.read_text()
        assert "third-party" not in path.read_text() + path2.read_text()
        assert "HeartTwin" in path2.read_text().splitlines()[0]
    finally:
        logs.shutdown_logging()
    assert not any(isinstance(h, logging.FileHandler) for h in logging.getLogger("hearttwin").handlers)


@pytest.fixture(autouse=True)
def _no_stray_handlers():
    yield
    logs.shutdown_logging()
