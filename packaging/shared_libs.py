"""Which collected system libraries only the left-out plugins needed.

PyInstaller copies every shared library a collected binary links to into the top of the
bundle. When the spec then leaves a plugin out (e.g. Qt's GTK 3 theme), the libraries only
that plugin linked (cairo, pango, gdk-pixbuf, ...) would stay behind, unused.
``orphaned`` names them: top-level libraries reachable through DT_NEEDED from a left-out
binary and from no kept one. Only what a left-out binary linked is considered; should a kept
binary also open one of those with dlopen (e.g. VTK's X11 loader), it gets the system's copy,
as it already does for X11, OpenGL and OSMesa.
"""
from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterable


def needed(path: str) -> set[str]:
    """The DT_NEEDED sonames of an ELF file (empty for anything else)."""
    out = subprocess.run(["readelf", "-d", "-W", path], capture_output=True, text=True).stdout
    return {line.split("[", 1)[1].rstrip("]") for line in out.splitlines() if "(NEEDED)" in line}


def _reach(starts: Iterable[str], top: dict[str, str], links: Callable[[str], set[str]]) -> set[str]:
    """Top-level library names reachable from the binaries at ``starts`` (source paths)."""
    seen: set[str] = set()
    todo = [name for src in starts for name in links(src)]
    while todo:
        name = todo.pop()
        if name in seen or name not in top:
            continue
        seen.add(name)
        todo.extend(links(top[name]))
    return seen


def orphaned(kept: list[tuple], left_out: list[tuple], links: Callable[[str], set[str]] = needed) -> set[str]:
    """Destination names of top-level libraries in ``kept`` that only ``left_out`` needed.

    Entries are PyInstaller TOC tuples ``(dest, source, typecode)``; a top-level library is one
    whose destination has no folder and that is not a Python extension module.
    """
    top = {dest: src for dest, src, *_ in kept
           if "/" not in dest.replace("\\", "/") and ".cpython-" not in dest and dest.startswith("lib")}
    roots = [src for dest, src, *_ in kept if dest not in top]
    still_needed = _reach(roots, top, links)
    return _reach([src for _, src, *_ in left_out], top, links) - still_needed
