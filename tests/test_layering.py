"""Run-time checks of DESIGN.md's dependency rules that import-linter cannot express."""

import json
import pkgutil
import subprocess
import sys

import hearttwin


def _non_gui_modules():
    names = []
    for info in pkgutil.walk_packages(hearttwin.__path__, prefix="hearttwin."):
        if info.name.startswith("hearttwin.gui") or info.name == "hearttwin.__main__":
            continue
        names.append(info.name)
    return names


def _imported_after(code: str) -> set[str]:
    probe = code + "\nimport sys, json\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


def test_no_qt_and_no_vtk_rendering_outside_gui():
    modules = _non_gui_modules()
    assert "hearttwin.core.jobs" in modules  # the walk found the package
    loaded = _imported_after("\n".join(f"import {m}" for m in modules))
    assert not any(m.startswith(("PySide6", "shiboken6")) for m in loaded)
    core_only = _imported_after("\n".join(f"import {m}" for m in modules if m.startswith("hearttwin.core")))
    rendering = sorted(m for m in core_only if m.startswith("vtkmodules.vtkRendering"))
    assert rendering == []


def test_cli_starts_without_qt():
    loaded = _imported_after(
        "from hearttwin.__main__ import main\n"
        "try:\n    main(['--version'])\nexcept SystemExit:\n    pass"
    )
    assert "hearttwin.cli" in loaded
    assert not any(m.startswith("PySide6") for m in loaded)
