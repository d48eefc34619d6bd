"""Where HeartTwin keeps its data (logs, recovery files) and the rotating log file.

The data folder is, in order: ``$HEARTTWIN_DATA_DIR``; on Windows
``%LOCALAPPDATA%\\HeartTwin``; on macOS ``~/Library/Application Support/HeartTwin``;
elsewhere ``$XDG_DATA_HOME/hearttwin`` or ``~/.local/share/hearttwin`` (the
XDG base directory rules, without a new dependency).

:func:`setup_logging` attaches a :class:`~logging.handlers.RotatingFileHandler`
to the ``hearttwin`` logger only, not to the root logger: third-party
libraries (pydicom among them) may put header values, hence patient data, in
their own log records, and those must not reach our file. HeartTwin's own
messages never contain names, IDs, birth dates or paths (DESIGN.md).
"""

from __future__ import annotations

import logging
import os
import sys
from logging.handlers import RotatingFileHandler
from pathlib import Path

LOGGER = "hearttwin"
LOG_NAME = "hearttwin.log"
FORMAT = "%(asctime)s %(levelname)-7s %(name)s [%(process)d]: %(message)s"

_handler: RotatingFileHandler | None = None


def data_dir() -> Path:
    """HeartTwin's per-user data folder (not created here)."""
    override = os.environ.get("HEARTTWIN_DATA_DIR", "").strip()
    if override:
        return Path(override).expanduser()
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or str(Path.home() / "AppData" / "Local")
        return Path(base) / "HeartTwin"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / "HeartTwin"
    xdg = os.environ.get("XDG_DATA_HOME", "").strip()
    # the XDG spec says a relative XDG_DATA_HOME is invalid and must be ignored
    base = Path(xdg) if xdg and os.path.isabs(xdg) else Path.home() / ".local" / "share"
    return base / "hearttwin"


def log_dir() -> Path:
    """The folder of the rotating log files."""
    return data_dir() / "logs"


def setup_logging(folder=None, *, level: int = logging.INFO, max_bytes: int = 2 * 1024 * 1024,
                  backups: int = 5) -> Path:
    """Send the ``hearttwin`` logger to a rotating file in ``folder`` (default :func:`log_dir`).

    Calling it again replaces the previous handler (e.g. another folder in
    tests). Returns the log file's path.

    Parameters
    ----------
    folder : str or Path, optional
    level : int
        Level of the ``hearttwin`` logger and of the file.
    max_bytes, backups : int
        Rotate at ``max_bytes``, keeping ``backups`` old files (``.1`` ... ``.N``).
    """
    global _handler
    folder = Path(folder) if folder is not None else log_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / LOG_NAME
    logger = logging.getLogger(LOGGER)
    shutdown_logging()
    handler = RotatingFileHandler(path, maxBytes=max_bytes, backupCount=backups, encoding="utf-8", delay=True)
    handler.setFormatter(logging.Formatter(FORMAT))
    handler.setLevel(level)
    logger.addHandler(handler)
    logger.setLevel(level)
    _handler = handler
    from .. import __version__

    logger.info("HeartTwin %s logging started (Python %s, %s)", __version__, sys.version.split()[0], sys.platform)
    return path


def shutdown_logging() -> None:
    """Detach and close the handler added by :func:`setup_logging` (no-op if none)."""
    global _handler
    if _handler is not None:
        logging.getLogger(LOGGER).removeHandler(_handler)
        _handler.close()
        _handler = None
