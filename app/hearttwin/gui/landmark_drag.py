"""Moving measured landmarks (annulus centre, coronary ostia) with the mouse on the Model step.

While the Model & measure step is shown, its panel puts a
:class:`LandmarkDragger` in ``ViewState.landmark_editor``. A left press
within :data:`GRAB_PX` of a landmark square in a slice view (navigate mode,
no tool active) grabs it; dragging moves it within that slice's plane (its
depth across the slice is kept); the release pushes one
:class:`MoveLandmarkCommand` on the session's undo stack.

The geometry is core's: :func:`hearttwin.core.anatomy.measure.move_landmark`
recomputes the heights that depend on the moved point (an ostium's height
above the annulus plane; every height when the annulus centre moves). The
command stores the whole measurements before and after, so undo restores the
old point and values exactly, and records ``move_landmark`` (undo:
``undo_move_landmark``) in the case history. Recomputed values carry no
uncertainty range (the core drops their ``_range``): the table shows "—".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PySide6.QtGui import QUndoCommand

from . import display

#: a press this close (screen pixels) to a landmark square grabs it
GRAB_PX = 6.0
#: landmarks are drawn (and can be grabbed) within this many slices of the shown one
SHOWN_WITHIN_SLICES = 2.0
#: human names of the core's movable landmarks (status messages, undo text)
TITLES = {"annulus_centre": "annulus centre", "left_ostium": "left coronary ostium",
          "right_ostium": "right coronary ostium"}
#: the recomputed values named in the status message after a move
SUMMARY_LABELS = {"coronary_ostia.left.height_mm": "left coronary height",
                  "coronary_ostia.right.height_mm": "right coronary height",
                  "root.sinotubular_junction_height_mm": "STJ height"}


def _point_at(measurements: dict, name: str):
    from ..core.anatomy.measure import MOVABLE_LANDMARKS

    section, key = MOVABLE_LANDMARKS[name]
    node = measurements
    for part in section.split("."):
        node = (node or {}).get(part)
    return (node or {}).get(key)


class MoveLandmarkCommand(QUndoCommand):
    """Move landmark ``name`` of the session's measurements to ``point_lps`` (on push); undo puts it back.

    Raises :class:`~hearttwin.core.errors.InputError` (from core) when the
    move is impossible, before anything changed.
    """

    def __init__(self, session, name: str, point_lps) -> None:
        from ..core.anatomy.measure import move_landmark  # SciPy: imported on the first move, not at start

        super().__init__(f"Move {TITLES.get(name, name)}")
        self.session, self.case, self.name = session, session.case, name
        self.before = session.case.measurements
        self.after, self.changed = move_landmark(self.before, name, point_lps)
        self.old_point, self.new_point = _point_at(self.before, name), _point_at(self.after, name)
        self._stored = self.before  # the measurements object the case holds when we last set it

    def _valid(self) -> bool:
        """Nothing else changed the measurements since (a new measurement, another case)."""
        return self.session.case is self.case and self.case.measurements is self._stored

    def _set(self, measurements: dict, step: str, point) -> None:
        self.case.set_measurements(measurements, step=step,
                                   params={"landmark": self.name, "point_lps": point, "changed": self.changed})
        self._stored = self.case.measurements
        self.session.measurements_changed.emit()

    def redo(self) -> None:
        if not self._valid():
            self.setObsolete(True)
            return
        self._set(self.after, "move_landmark", self.new_point)

    def undo(self) -> None:
        if not self._valid():
            self.setObsolete(True)
            return
        self._set(self.before, "undo_move_landmark", self.old_point)


@dataclass
class _Grab:
    index: int          # in state.landmarks
    name: str           # core landmark name
    axis: int           # canonical axis across the slice (kept while dragging)
    start: np.ndarray   # canonical (x, y, z) of the landmark when grabbed
    lps: np.ndarray | None = None  # where it is dragged to


class LandmarkDragger:
    """Grab, drag and drop the landmarks of ``state.landmarks`` (see module docstring).

    Parameters
    ----------
    session : Session
        Holds the measurements and the undo stack.
    keys : dict
        Landmark display name (as in ``state.landmarks``) -> core landmark
        name (:data:`hearttwin.core.anatomy.measure.MOVABLE_LANDMARKS`).
    notify : callable, optional
        ``notify(message)`` tells the user what changed (the status bar).
    """

    def __init__(self, session, keys: dict, notify=None) -> None:
        self.session, self.keys, self.notify = session, dict(keys), notify
        self._grab: _Grab | None = None

    def landmark_at(self, view, pos, tolerance_px: float = GRAB_PX) -> int | None:
        """Index in ``state.landmarks`` of the movable square drawn on ``view`` nearest ``pos``
        (within ``tolerance_px`` of its centre), or None."""
        state = view.state
        if state.volume is None:
            return None
        axis = display.FIXED_AXIS[view.plane]
        best = None
        for i, (name, lps, _rgb) in enumerate(state.landmarks):
            if name not in self.keys:
                continue
            c = state.lps_to_canonical(lps)
            if abs(c[axis] - view.slice_index) > SHOWN_WITHIN_SLICES:
                continue
            q = view.canonical_to_widget(c)
            d = float(np.hypot(q.x() - pos.x(), q.y() - pos.y()))
            if d <= tolerance_px and (best is None or d < best[0]):
                best = (d, i)
        return None if best is None else best[1]

    def press(self, view, index: int) -> None:
        """Grab landmark ``index`` of ``view.state.landmarks`` on ``view``."""
        name, lps, _rgb = view.state.landmarks[index]
        self._grab = _Grab(index, self.keys[name], display.FIXED_AXIS[view.plane],
                           view.state.lps_to_canonical(lps))

    def move(self, state, delta) -> None:
        """Drag the grabbed landmark by canonical ``delta`` (x, y, z) from where it was grabbed,
        within the slice plane; the views show it there (the case changes on release)."""
        g = self._grab
        if g is None or delta is None:
            return
        d = np.asarray(delta, float).copy()
        d[g.axis] = 0.0
        c = np.clip(g.start + d, -0.5, np.asarray(state.size, float) - 0.5)
        g.lps = state.canonical_to_lps(c)
        state.preview_landmark(g.index, g.lps)

    def release(self, state) -> bool:
        """Drop the landmark: one undoable move of the case's measurements; False when it did not move."""
        from ..core.errors import InputError

        g, self._grab = self._grab, None
        if g is None or g.lps is None or np.allclose(g.lps, state.canonical_to_lps(g.start), atol=1e-3):
            return False
        try:
            command = MoveLandmarkCommand(self.session, g.name, g.lps)
        except InputError as err:
            self._say(str(err))
            self.session.measurements_changed.emit()  # back to the measured position
            return False
        self.session.undo_stack.push(command)
        self._say(self._summary(command))
        return True

    def _say(self, message: str) -> None:
        if self.notify is not None:
            self.notify(message)

    @staticmethod
    def _summary(command: MoveLandmarkCommand) -> str:
        parts = []
        for path in command.changed:
            if path in SUMMARY_LABELS:
                section, _, key = path.rpartition(".")
                old, new = _value(command.before, section, key), _value(command.after, section, key)
                parts.append(f"{SUMMARY_LABELS[path]} {new:.1f} mm" + (f" (was {old:.1f})" if old is not None else ""))
        note = " Annulus sizes stay as measured; Measure re-measures them and keeps the moved landmarks." \
            if command.name == "annulus_centre" else ""
        return f"Moved the {TITLES[command.name]}: {'; '.join(parts)}.{note} Ctrl+Z undoes it."


def _value(measurements: dict, section: str, key: str):
    node = measurements
    for part in section.split("."):
        node = (node or {}).get(part)
    v = (node or {}).get(key)
    return float(v) if isinstance(v, (int, float)) else None
