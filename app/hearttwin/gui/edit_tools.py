"""Label editing from the slice views: the paint/erase brush and its undo commands.

The operations are core's (:mod:`hearttwin.core.segmentation.editing`): each
changes the label map in place and returns an exact :class:`Edit`. A brush
stroke (press, drag, release) becomes one ``QUndoCommand`` holding the
stroke's edits, reverted in reverse order on undo.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QUndoCommand

from ..core.imaging import Volume
from ..core.segmentation import editing


class LabelEditCommand(QUndoCommand):
    """Edits already applied to the session's labels; undo reverts them."""

    def __init__(self, session, edits: list, text: str) -> None:
        super().__init__(text)
        self.session = session
        self.edits = [e for e in edits if e.count]
        self._applied = True  # pushed after the stroke was drawn

    def redo(self) -> None:
        if self._applied:
            return
        for edit in self.edits:
            edit.apply(self.session.labels.array)
        self._applied = True
        self.session.labels_edited()

    def undo(self) -> None:
        for edit in reversed(self.edits):
            edit.revert(self.session.labels.array)
        self._applied = False
        self.session.labels_edited()


class BrushTool:
    """Paint ``label`` (or erase, ``label=0``) in spheres of ``radius_mm`` along a drag."""

    def __init__(self, session, label: int, radius_mm: float) -> None:
        self.session = session
        self.label = int(label)
        self.radius_mm = float(radius_mm)
        self._edits: list = []
        self._last = None

    @property
    def name(self) -> str:
        return "Erase" if self.label == 0 else "Paint"

    def _ensure_labels(self) -> Volume:
        if self.session.labels is None:  # painting from scratch: an empty map on the image grid
            vol = self.session.volume
            self.session.set_labels(Volume(np.zeros(vol.array.shape, np.uint8), vol.spacing, vol.origin,
                                           vol.direction, meta={"kind": "labels"}), step="new_labels")
        return self.session.labels

    def _apply(self, state, centres) -> None:
        labels = self._ensure_labels()
        if self.label == 0:
            edit = editing.erase(labels, centres, self.radius_mm)
        else:
            edit = editing.paint(labels, centres, self.radius_mm, self.label)
        if edit.count:
            self._edits.append(edit)
            self.session.labels_edited()

    def press(self, state, cxyz) -> None:
        if cxyz is None or state.volume is None:
            return
        self._edits = []
        self._last = state.canonical_to_lps(cxyz)
        self._apply(state, self._last)

    def move(self, state, cxyz) -> None:
        if cxyz is None or self._last is None:
            return
        point = state.canonical_to_lps(cxyz)
        # centres every half radius between the last point and this one: no gaps in fast strokes
        n = max(1, int(np.ceil(np.linalg.norm(point - self._last) / max(self.radius_mm / 2, 0.1))))
        centres = self._last + (point - self._last) * (np.arange(1, n + 1)[:, None] / n)
        self._last = point
        self._apply(state, centres)

    def release(self, state) -> None:
        if self._edits:
            voxels = sum(e.count for e in self._edits)
            what = "Erase" if self.label == 0 else f"Paint label {self.label}"
            self.session.undo_stack.push(LabelEditCommand(self.session, self._edits,
                                                          f"{what} ({voxels} voxels)"))
            self.session.case.record("brush", {"label": self.label, "radius_mm": self.radius_mm,
                                               "dabs": len(self._edits), "changed_voxels": voxels})
        self._edits, self._last = [], None


class SeedTool:
    """Each click adds a seed point (LPS mm) for ``label`` to ``seeds`` and calls ``changed()``."""

    def __init__(self, seeds: dict, label: int, changed) -> None:
        self.seeds, self.label, self.changed = seeds, int(label), changed

    def press(self, state, cxyz) -> None:
        if cxyz is None or state.volume is None:
            return
        self.seeds.setdefault(self.label, []).append(tuple(float(v) for v in state.canonical_to_lps(cxyz)))
        self.changed()

    def move(self, state, cxyz) -> None:
        pass

    def release(self, state) -> None:
        pass
