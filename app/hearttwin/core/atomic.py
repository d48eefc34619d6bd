"""Atomic file writes: a half-written file never replaces a good one.

Write to a temporary file in the destination folder, flush it to disk, then
rename it over the destination (atomic on POSIX and Windows). The new file
gets the permissions an ordinary ``open(..., "w")`` would give (0666 less the
umask), not mkstemp's private 0600.
"""

from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path


def _default_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


@contextmanager
def atomic_path(path, suffix: str = ""):
    """Yield a temporary path beside ``path``; on success fsync it and rename it over ``path``."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=".hearttwin-", suffix=suffix or "".join(path.suffixes), dir=path.parent)
    os.close(fd)
    tmp = Path(tmp)
    try:
        yield tmp
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.chmod(tmp, _default_mode())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
