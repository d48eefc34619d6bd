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


@lru_cache(maxsize=None)
def resources_dir() -> Path:
    candidates = []
    if os.environ.get("HEARTTWIN_RESOURCES"):
        candidates.append(Path(os.environ["HEARTTWIN_RESOURCES"]))
    if getattr(sys, "frozen", False) and hasattr(sys, "_MEIPASS"):
        candidates.append(Path(sys._MEIPASS) / "resources")
    candidates.append(Path(__file__).resolve().parents[3] / "resources")
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
