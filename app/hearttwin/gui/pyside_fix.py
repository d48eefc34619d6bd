"""Work around a reference-count bug of PySide6 6.12.0 that crashes Python 3.11 on exit.

In PySide6 6.12.0 ``SignalInstance.emit()`` returns ``True`` without taking a
reference, so every emit from Python code takes one reference away from the
``True`` singleton. On Python 3.11 (where ``True`` is not yet immortal) a
session of a few thousand emits drives its count to zero and the process
aborts ("Fatal Python error: bool_dealloc") at the latest when it exits.

:func:`apply` detects the leak at run time (a few emits of a private
signal) and, only then, gives ``True`` a very large reference count, which
is what Python 3.12 and later do for it anyway. Harmless when PySide6 is
fixed; remove once the project requires a fixed PySide6.
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


def apply() -> bool:
    """Protect ``True`` when the leak is present; returns whether it was needed."""
    global _applied
    if _applied or not emit_leaks_true():
        return _applied
    # CPython's object header starts with the reference count (Py_ssize_t)
    ctypes.c_ssize_t.from_address(id(True)).value += _RESERVE
    _applied = True
    return True
