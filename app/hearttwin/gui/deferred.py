"""Core functions named by ``"module:function"``, imported only where and when they run.

The window starts without the heavy core (segmentation pipelines, anatomy
measurement, the DICOM reader): a job is given a :class:`Deferred` instead of
the function, so the import happens in the worker thread that runs it, or, for
``isolate=True`` jobs, in the child process only (pickled, it travels as its
name).
"""

from __future__ import annotations

import pkgutil


class Deferred:
    """A function named ``"module:name"``, imported on first call.

    Parameters
    ----------
    target : str
        ``"package.module:function"``, as :func:`pkgutil.resolve_name` takes it.
    """

    def __init__(self, target: str) -> None:
        self.target = target

    def __call__(self, *args, **kwargs):
        return pkgutil.resolve_name(self.target)(*args, **kwargs)

    def __reduce__(self):
        return pkgutil.resolve_name, (self.target,)

    def __repr__(self) -> str:
        return f"Deferred({self.target!r})"


SCAN = Deferred("hearttwin.core.imaging.scanning:scan")
LOAD_VOLUME = Deferred("hearttwin.core.imaging.loader:load_volume")
SURFACE_ARRAYS = Deferred("hearttwin.gui.surfaces:surface_arrays")
MEASURE_ALL = Deferred("hearttwin.core.anatomy:measure_all")
SEGMENT_HEART = Deferred("hearttwin.core.segmentation.auto:segment_heart")
SEGMENT_FROM_SEEDS = Deferred("hearttwin.core.segmentation.seeded:segment_from_seeds")
