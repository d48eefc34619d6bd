"""Virtual cohort (in silico trial) runner on Dask.

A study is cohort x devices x sizes: virtual patients are drawn from stated
distributions (:mod:`.distributions`) around a few base anatomies
(:mod:`.base`, the expensive work done once), each device and size is
planned on each patient over the cardiac cycle (:mod:`.cycle`, reduced
motion model; :mod:`.haemo`, 0D circulation with the device), batches of
patients run as Dask tasks (:mod:`.batch`, :mod:`.runner`), rows stream to
a resumable CSV (:mod:`.results`) and the study ends with summary CSVs and
an HTML report (:mod:`.summary`, :mod:`.study_report`).

Typical use::

    from hearttwin.cohort import StudySpec, run_study, write_report
    spec = StudySpec({"thv-balloon": [23, 26, 29]}, n_patients=200)
    info = run_study(spec, "study-folder")          # local cluster of 2 processes
    write_report("study-folder", spec, info)

This package never imports Qt; Dask is imported only when a study runs. The
names below are imported on first use, so a Dask worker importing
:mod:`.batch` does not pay for the report's matplotlib.
"""

from __future__ import annotations

import importlib

_LAZY = {"StudySpec": ("study", "StudySpec"), "run_study": ("runner", "run_study"),
         "write_report": ("study_report", "write")}

__all__ = list(_LAZY)


def __getattr__(name: str):
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module, attr = _LAZY[name]
    return getattr(importlib.import_module(f"{__name__}.{module}"), attr)
