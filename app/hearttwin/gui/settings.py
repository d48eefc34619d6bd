"""Persistent user settings (QSettings, INI format): window state and recent files."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings

#: how many recent paths the File menu remembers
MAX_RECENT = 8


def settings() -> QSettings:
    """HeartTwin's per-user settings (tests redirect them with ``QSettings.setPath``)."""
    return QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, "HeartTwin", "HeartTwin")


def recent_paths() -> list[str]:
    value = settings().value("recent", [])
    if isinstance(value, str):  # QSettings returns a bare string for a one-item list
        value = [value]
    return [str(v) for v in (value or [])]


def add_recent(path: str) -> list[str]:
    """Put ``path`` first in the recent list (no duplicates, at most MAX_RECENT)."""
    path = str(Path(path).resolve())
    paths = [path] + [p for p in recent_paths() if p != path]
    paths = paths[:MAX_RECENT]
    s = settings()
    s.setValue("recent", paths)
    s.sync()
    return paths


def clear_recent() -> None:
    s = settings()
    s.remove("recent")
    s.sync()
