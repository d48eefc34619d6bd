"""Work around reference-count bugs of PySide6 6.12.0 that crash Python 3.11 on exit.

In PySide6 6.12.0 ``SignalInstance.emit()`` returns ``True`` without taking a
reference, and so do the methods that return nothing (``setVisible``,
``setValue``, ``QAction.trigger``, ``QPainter.end`` ...) with ``None``: every
call from Python code takes one reference away from that singleton. On
Python 3.11 (where ``True`` and ``None`` are not yet immortal) a session of a
few thousand calls drives the count to zero and the process aborts ("Fatal
Python error: bool_dealloc" / "none_dealloc") at the latest when it exits.

:func:`apply` detects each leak at run time (a few calls on a private
object) and, only then, gives that singleton a very large reference count,
which is what Python 3.12 and later do for it anyway. Harmless when PySide6
is fixed; remove once the project requires a fixed PySide6.
"""

from __future__ import annotations

import ctypes
import sys

from PySide6.QtCore import QObject, Signal

#: references added to True when the leak is present (never reached by emits)
_RESERVE = 1 << 40
_applied = False


class _Probe(QObject):
    ping = Signal()


def emit_leaks_true(samples: int = 16) -> bool:
    """Whether ``Signal.emit`` loses a reference to ``True`` on this PySide6/Python."""
    probe = _Probe()
    before = sys.getrefcount(True)
    for _ in range(samples):
        probe.ping.emit()
    return sys.getrefcount(True) <= before - samples // 2


def void_call_leaks_none(samples: int = 16) -> bool:
    """Whether a method returning nothing loses a reference to ``None`` on this PySide6/Python."""
    probe = _Probe()
    before = sys.getrefcount(None)
    for _ in range(samples):
        probe.setObjectName("probe")
    return sys.getrefcount(None) <= before - samples // 2


def apply() -> bool:
    """Protect ``True`` and ``None`` from the leaks present; returns whether any was."""
    global _applied
    if _applied:
        return True
    leaking = [obj for obj, leaks in ((True, emit_leaks_true), (None, void_call_leaks_none)) if leaks()]
    for obj in leaking:  # CPython's object header starts with the reference count (Py_ssize_t)
        ctypes.c_ssize_t.from_address(id(obj)).value += _RESERVE
    _applied = bool(leaking)
    return _applied
