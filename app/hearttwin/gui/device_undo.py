"""Undoable device moves on the Device step.

Every recorded change of the placed device (a move key, a handle drag from
press to release, "Place automatically") pushes one
:class:`DevicePoseCommand` on the session's shared undo stack, next to the
label edits, ruler measures and landmark moves. The command keeps the whole
device state before and after (:class:`DeviceState`: the prepared plan and the
4x4 pose, copied), so undo and redo put the exact matrix back and re-run the
panel's live fit (metrics table, verdicts, 3D device, slice outlines).

The case history follows the landmark moves' rule: redo records the step
(``move_device`` or ``place_device``), undo records ``undo_<step>``
(``undo_move_device``, ``undo_place_device``). Undoing the first placement
removes the device from the case. Consecutive key presses are not merged:
one press is one undo step.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PySide6.QtGui import QUndoCommand


@dataclass(frozen=True)
class DeviceState:
    """The device as the case holds it: the prepared plan (``PlanContext``) and pose, or no device."""

    ctx: object | None = None
    pose: np.ndarray | None = None

    @classmethod
    def of(cls, ctx, pose) -> "DeviceState":
        """A state holding a private copy of ``pose`` (None when there is no device)."""
        if ctx is None or pose is None:
            return cls()
        return cls(ctx, np.array(pose, dtype=float, copy=True))

    @property
    def placed(self) -> bool:
        return self.ctx is not None and self.pose is not None


def record_device(session, state: DeviceState, step: str, poly=None) -> None:
    """Make the case's device ``state`` (recording ``step`` in the history) and show ``poly``.

    A device of another family or size replaces the case's one; no device
    removes it.
    """
    from ..core.devices import plan

    case = session.case
    if case is None:
        return
    if not state.placed:
        while case.devices:
            case.remove_device(len(case.devices) - 1, step=step)
        session.show_device(None)
        return
    device_id, size = state.ctx.family.id, plan.size_label(state.ctx.size)
    current = case.devices[-1] if case.devices else None
    if current is not None and current["id"] == device_id and str(current["size"]) == str(size):
        session.set_device(device_id, size, state.pose, step=step, poly=poly)
        return
    case.devices.clear()
    case.place_device(device_id, str(size), state.pose, step=step)
    session.show_device(poly)


class DevicePoseCommand(QUndoCommand):
    """Change the placed device from ``before`` to ``after`` (on push); undo puts ``before`` back.

    Parameters
    ----------
    panel : DevicePanel
        Shows a state through ``panel.apply_state(state, step)``.
    before, after : DeviceState
        The device before and after the change.
    step : str
        The history step of the change (``move_device``, ``place_device``).
    text : str
        The Edit menu's "Undo ..." text.
    """

    def __init__(self, panel, before: DeviceState, after: DeviceState, step: str, text: str) -> None:
        super().__init__(text)
        self.panel, self.before, self.after, self.step = panel, before, after, step
        self.session = panel.window.session
        self.case = self.session.case

    def _valid(self) -> bool:
        """Still the same case (a new case clears the stack, but be safe)."""
        return self.session.case is self.case

    def redo(self) -> None:
        if not self._valid():
            self.setObsolete(True)
            return
        self.panel.apply_state(self.after, self.step)

    def undo(self) -> None:
        if not self._valid():
            self.setObsolete(True)
            return
        self.panel.apply_state(self.before, f"undo_{self.step}")
