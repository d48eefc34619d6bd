"""HeartTwin never touches the network: importing every module and running commands opens no socket.

Patient data must not leave the machine, and hospital networks block or
audit outgoing connections, so the app makes none (no update checks, no
telemetry, no remote fonts or tiles). Every test here runs with outgoing
connections and name lookups replaced by a function that records the attempt
and raises; the first test proves the guard really catches a connection.
The in-process guard covers threads too (it patches the socket class); it
does not see child processes.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import socket

import numpy as np
import pytest

import dicom_factory as f
import hearttwin


class NetworkUsed(AssertionError):
    pass


@pytest.fixture
def no_network(monkeypatch):
    """Make any outgoing connection or DNS lookup fail loudly; yields the list of attempts."""
    attempts: list[str] = []

    def refuse(what):
        def blocked(*args, **kwargs):
            attempts.append(f"{what}{args[1:] if what.startswith('socket.') else args}")
            raise NetworkUsed(f"HeartTwin tried to use the network: {what}")
        return blocked

    monkeypatch.setattr(socket.socket, "connect", refuse("socket.connect"))
    monkeypatch.setattr(socket.socket, "connect_ex", refuse("socket.connect_ex"))
    monkeypatch.setattr(socket.socket, "sendto", refuse("socket.sendto"))
    monkeypatch.setattr(socket, "create_connection", refuse("create_connection"))
    monkeypatch.setattr(socket, "getaddrinfo", refuse("getaddrinfo"))
    yield attempts


@pytest.fixture(autouse=True)
def _guard(no_network):
    yield
    assert no_network == [], f"network used: {no_network}"


def test_the_guard_catches_a_connection(no_network):
    with pytest.raises(NetworkUsed):
        socket.create_connection(("127.0.0.1", 9), timeout=0.1)
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s, pytest.raises(NetworkUsed):
        s.connect(("127.0.0.1", 9))
    assert len(no_network) == 2
    no_network.clear()


def _modules() -> list[str]:
    names = [hearttwin.__name__]
    for info in pkgutil.walk_packages(hearttwin.__path__, prefix="hearttwin."):
        if info.name != "hearttwin.__main__":  # runs the app when imported
            names.append(info.name)
    return names


def test_importing_every_module_opens_no_connection():
    names = _modules()
    assert {"hearttwin.core.casefile", "hearttwin.cli.info", "hearttwin.core.imaging.loader"} <= set(names)
    failed = []
    for name in names:
        try:
            importlib.import_module(name)
        except NetworkUsed:
            raise
        except ImportError as err:  # an optional GUI/cluster dependency may be absent here
            failed.append(f"{name}: {err}")
    assert len(failed) < len(names) / 4, failed


def test_command_line_runs_offline(tmp_path, capsys):
    from hearttwin.cli import main

    f.ct_series(f.phantom((6, 12, 10)), tmp_path / "ct")
    assert main(["info", str(tmp_path / "ct"), "--json", "-q"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["series"][0]["size"] == [10, 12, 6]
    assert main(["devices", "--json", "-q"]) == 0
    assert json.loads(capsys.readouterr().out)["devices"]


def test_case_save_and_load_run_offline(tmp_path):
    from hearttwin.core import casefile
    from hearttwin.core.case import case_from_image

    f.ct_series(f.phantom((6, 12, 10)), tmp_path / "ct")
    case = case_from_image(tmp_path / "ct")
    back = casefile.load(casefile.save(case, tmp_path / "p.htwin"))
    assert np.array_equal(back.image.array, case.image.array)
