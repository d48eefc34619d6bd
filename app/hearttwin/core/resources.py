"""Where HeartTwin's resources (device catalogue, labels, presets) live.

Looked up, in order: ``$HEARTTWIN_RESOURCES``; a frozen bundle's
``resources/`` (PyInstaller); the source tree's ``resources/`` beside
``app/``. Files are read-only data shipped with the application.
"""

from __future__ import annotations

import json
import os
import sys
from functools import lru_cache
from pathlib import Path

from .errors import ProcessingError


def bundled_candidates(name: str, env_var: str) -> list[Path]:
    """Where a folder shipped with HeartTwin may be, in order: ``$env_var``, the frozen
    bundle (PyInstaller's ``sys._MEIPASS``), the source tree."""
    candidates = []
    if os.environ.get(env_var):
        candidates.append(Path(os.environ[env_var]))
    if getattr(sys, "frozen", False) and hasattr(sys, "_MEIPASS"):
        candidates.append(Path(sys._MEIPASS) / name)
    candidates.append(Path(__file__).resolve().parents[3] / name)
    return candidates


@lru_cache(maxsize=None)
def resources_dir() -> Path:
    candidates = bundled_candidates("resources", "HEARTTWIN_RESOURCES")
    for path in candidates:
        if (path / "labels.json").is_file():
            return path
    raise ProcessingError(
        "HeartTwin's resources folder was not found (looked in: "
        + ", ".join(str(p) for p in candidates)
        + "). Reinstall HeartTwin or set HEARTTWIN_RESOURCES."
    )


def load_json(relative: str) -> dict:
    path = resources_dir() / relative
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as err:
        raise ProcessingError(f"The resource file {relative} cannot be read: {err}") from None
