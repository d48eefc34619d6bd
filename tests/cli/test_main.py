import subprocess
import sys

import hearttwin


def run(*args):
    return subprocess.run([sys.executable, "-m", "hearttwin", *args], capture_output=True, text=True)


def test_version():
    r = run("--version")
    assert r.returncode == 0
    assert r.stdout.strip() == f"HeartTwin {hearttwin.__version__}"


def test_unknown_option_is_bad_input():
    r = run("info", "--no-such-option")
    assert r.returncode == 2
    assert "unrecognized arguments: --no-such-option" in r.stderr


def test_help_lists_subcommands():
    r = run("--help")
    assert r.returncode == 0
    for name in ("info", "phantom"):
        assert name in r.stdout
