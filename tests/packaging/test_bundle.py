"""The packaged HeartTwin: build the bundle and the .deb, install it, run the installed executable.

Slow (a clean virtual environment, PyInstaller, dpkg-deb: ~7 minutes once SimpleITK is built) and it
installs a system package, so it runs only when asked:

    HEARTTWIN_PACKAGING=1 .venv/bin/python -m pytest tests/packaging

as root on a Debian/Ubuntu machine (``dpkg -i``; the package is removed again
with ``dpkg --purge`` at the end). ``HEARTTWIN_PACKAGING_REUSE=1`` keeps the build
environment between runs (``packaging/build.sh --reuse-venv``). The first build also
compiles the slim SimpleITK (about 50 minutes on 2 cores; cached in ``build/simpleitk``, or
in ``$SIMPLEITK_WORKDIR`` when set).
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "sample_dicom"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(os.environ.get("HEARTTWIN_PACKAGING") != "1",
                       reason="packaging test: set HEARTTWIN_PACKAGING=1 (builds and installs a .deb)"),
    pytest.mark.skipif(not sys.platform.startswith("linux") or shutil.which("dpkg") is None,
                       reason="needs a Debian/Ubuntu system"),
]


def _project_version() -> str:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]


def _bare_env(home: Path) -> dict:
    """No display, no Python on PATH, no virtual environment: what a fresh desktop user has."""
    return {"PATH": "/usr/bin:/bin", "HOME": str(home), "LANG": "C.UTF-8"}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("dist")
    cmd = ["bash", str(ROOT / "packaging" / "build.sh"), "--out", str(out)]
    if os.environ.get("HEARTTWIN_PACKAGING_REUSE") == "1":
        cmd.append("--reuse-venv")
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=4 * 3600)
    assert proc.returncode == 0, proc.stderr[-4000:]
    artefacts = [Path(line) for line in proc.stdout.split()]
    tarball = next(p for p in artefacts if p.name.endswith(".tar.gz"))
    deb = next(p for p in artefacts if p.suffix == ".deb")
    return {"tarball": tarball, "deb": deb, "info": (out / "build-info.txt").read_text()}


@pytest.fixture(scope="module")
def installed(built):
    if os.geteuid() != 0:
        pytest.skip("installing the .deb needs root")
    proc = subprocess.run(["dpkg", "-i", str(built["deb"])], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    yield Path("/usr/bin/hearttwin")
    subprocess.run(["dpkg", "--purge", "hearttwin"], capture_output=True, text=True, timeout=600, check=True)
    assert not Path("/usr/bin/hearttwin").exists()
    assert not Path("/opt/hearttwin").exists()


def test_tarball_holds_the_one_folder_bundle(built):
    with tarfile.open(built["tarball"]) as tar:
        sizes = {m.name: m.size for m in tar.getmembers()}
    names = set(sizes)
    assert "hearttwin/hearttwin" in names
    assert any(n.startswith("hearttwin/_internal/resources/devices/") for n in names)
    assert any(n.startswith("hearttwin/_internal/sample_dicom/dicom/") for n in names)
    # only the VTK modules HeartTwin imports (and their dependencies), no umbrella, no Qt Quick
    vtk = {Path(n).name for n in names if "/vtkmodules/" in n}
    assert any(n.startswith("vtkRenderingOpenGL2") for n in vtk)
    assert any(n.startswith("vtkRenderingVolume") for n in vtk)  # the 3D view's volume rendering
    unused = ("vtkCharts", "vtkViews", "vtkIOExodus", "vtkWeb", "vtkIOCGNS")
    assert not [n for n in vtk if n.startswith(unused)]
    assert not any("/PySide6/QtQuick" in n or "/PySide6/Qt/qml/" in n for n in names)
    # the slim SimpleITK (packaging/simpleitk): one extension, a fraction of the stock 270 MB
    sitk = [size for n, size in sizes.items() if "/SimpleITK/_SimpleITK" in n and ".so" in n]
    assert len(sitk) == 1 and sitk[0] < 80e6, sitk
    filters = int(re.search(r"SimpleITK \S+ with (\d+) filter classes", built["info"]).group(1))
    assert 15 < filters < 100  # the stock wheel has 301
    # Qt's ICU data slimmed (packaging/icu_data.py), no GTK theme nor the libraries only it linked,
    # none of the scikit-image parts HeartTwin never reaches
    icu = [size for n, size in sizes.items() if "/Qt/lib/libicudata.so" in n and size]
    assert len(icu) == 1 and icu[0] < 20e6, icu
    assert not [n for n in names if "libqgtk3" in n or Path(n).name.startswith(("libcairo.", "libpango-"))]
    assert not [n for n in names if "/skimage/feature/" in n or "/skimage/filters/rank/" in n]


def test_deb_installs_desktop_integration(installed):
    assert installed.is_file() and os.access(installed, os.X_OK)
    desktop = Path("/usr/share/applications/hearttwin.desktop").read_text()
    assert "MimeType=application/x-hearttwin-case;" in desktop and "Exec=hearttwin %f" in desktop
    mime = Path("/usr/share/mime/packages/hearttwin.xml").read_text()
    assert '<glob pattern="*.htwin"/>' in mime
    assert Path("/usr/share/icons/hicolor/scalable/apps/hearttwin.svg").is_file()
    assert Path("/usr/share/icons/hicolor/256x256/apps/hearttwin.png").is_file()
    if shutil.which("update-mime-database"):
        assert Path("/usr/share/mime/application/x-hearttwin-case.xml").is_file()


def test_installed_version_is_the_project_version(installed, tmp_path):
    proc = subprocess.run([str(installed), "--version"], capture_output=True, text=True,
                          env=_bare_env(tmp_path), timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"HeartTwin {_project_version()}"


def test_installed_info_reads_the_sample(installed, tmp_path):
    proc = subprocess.run([str(installed), "info", str(SAMPLE), "--json"], capture_output=True,
                          text=True, env=_bare_env(tmp_path), timeout=300)
    assert proc.returncode == 0, proc.stderr
    series = json.loads(proc.stdout)["series"]
    selected = [s for s in series if s["selected"]]
    assert len(selected) == 1
    assert selected[0]["slices"] == len(list((SAMPLE / "dicom").glob("*.dcm")))


def test_installed_self_test_passes_headless(installed, tmp_path):
    from hearttwin.selftest import STEPS

    proc = subprocess.run([str(installed), "--self-test"], capture_output=True, text=True,
                          env=_bare_env(tmp_path), timeout=1200)
    assert proc.returncode == 0, proc.stdout + proc.stderr[-4000:]
    assert "(frozen bundle)" in proc.stdout
    passed = [line.split()[1] for line in proc.stdout.splitlines() if line.startswith("PASS")]
    assert passed == list(STEPS)
