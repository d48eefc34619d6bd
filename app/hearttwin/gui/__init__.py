"""HeartTwin's desktop application (PySide6). The only package that imports Qt.

Entry point: :func:`hearttwin.gui.app.run`. Modules: ``app`` (start-up),
``main_window`` and ``actions`` (window, menus, shortcuts), ``session`` (the
open case), ``case_files`` (new/open/save, autosave and recovery), ``plan_jobs``
(the Qt-free jobs of the later steps), ``view_state`` and ``display`` (what the views show), views
(``slice_view``, ``view3d``, ``view_grid``), ``panels`` (one per workflow
step), ``workers`` and ``job_bar`` (background jobs), ``edit_tools`` (brush and
undo), ``error_dialog`` and ``crash`` (errors shown to users), ``pyside_fix``
(a PySide6 6.12.0 reference-count workaround, applied on import).
"""

import multiprocessing as _mp

if _mp.parent_process() is None:  # not in the Qt-free child of process_jobs
    from . import pyside_fix

    pyside_fix.apply()
