"""Label editing from the slice views: mouse tools, their undo command and the label counts.

The operations are core's (:mod:`hearttwin.core.segmentation.editing`): each
changes the label map in place and returns an exact :class:`Edit`. A brush
stroke (press, drag, release) becomes one ``QUndoCommand`` holding the
stroke's edits, reverted in reverse order on undo. Every in-place change goes
through :func:`labels_changed_by`, which keeps the per-label voxel counts of
the structure table current from the edits themselves (a full recount of a
512x512x300 map costs ~0.3 s of GUI thread).
"""

from __future__ import annotations

import weakref

import numpy as np
from PySide6.QtGui import QUndoCommand

from ..core.imaging.volume import Volume


class LabelCounts:
    """Voxels per label value (256,) of a session's label map, updated from edits.

    The counts are trusted while the label map is the same object and the
    case's revision is the one noted after the last update through
    :func:`labels_changed_by`; anything else (a new map, a change made
    elsewhere) triggers one full recount.
    """

    def __init__(self) -> None:
        self.labels = None
        self.revision = None
        self.counts: np.ndarray | None = None
        self.full_counts = 0  # how many full recounts were needed (tests, diagnostics)

    def trusted(self, session) -> bool:
        return (self.counts is not None and session.labels is self.labels and session.case is not None
                and session.case.revision == self.revision)

    def add(self, session, edits, sign: int) -> None:
        """Count ``edits`` just applied (or reverted, ``sign=-1``); forget the counts if they were stale."""
        if not self.trusted(session):
            self.counts = None
            return
        for edit in edits:
            ch = edit.changes
            if ch.count:
                self.counts += sign * (np.bincount(ch.new, minlength=256) - np.bincount(ch.old, minlength=256))

    def mark(self, session) -> None:
        """Note the case revision as consistent with the counts (after our own change)."""
        if self.counts is not None and session.labels is self.labels and session.case is not None:
            self.revision = session.case.revision  # add() ran just before: the counts are current

    def current(self, session) -> np.ndarray:
        """The counts for the session's current labels (all zero without labels)."""
        labels = session.labels
        if labels is None:
            return np.zeros(256, np.int64)
        if self.counts is None or labels is not self.labels or session.case.revision != self.revision:
            self.counts = np.bincount(labels.array.ravel(), minlength=256).astype(np.int64)
            self.labels, self.revision = labels, session.case.revision
            self.full_counts += 1
        return self.counts


_COUNTS: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def label_counts(session) -> LabelCounts:
    """The :class:`LabelCounts` of ``session`` (made on first use)."""
    counts = _COUNTS.get(session)
    if counts is None:
        counts = _COUNTS[session] = LabelCounts()
    return counts


def labels_changed_by(session, edits, sign: int = 1) -> None:
    """After applying (``sign=1``) or reverting (``-1``) ``edits`` in place: update counts, announce."""
    counts = label_counts(session)
    counts.add(session, edits, sign)
    session.labels_edited()
    counts.mark(session)


def record_step(session, name: str, params: dict) -> None:
    """Add an editing step to the case history (keeps the counts trusted)."""
    session.case.record(name, params)
    label_counts(session).mark(session)


class LabelEditCommand(QUndoCommand):
    """Edits already applied to the session's labels; undo reverts them."""

    def __init__(self, session, edits: list, text: str) -> None:
        super().__init__(text)
        self.session = session
        self.edits = [e for e in edits if e.count]
        self._applied = True  # pushed after the edit was made

    def redo(self) -> None:
        if self._applied:
            return
        for edit in self.edits:
            edit.apply(self.session.labels.array)
        self._applied = True
        labels_changed_by(self.session, self.edits, +1)

    def undo(self) -> None:
        for edit in reversed(self.edits):
            edit.revert(self.session.labels.array)
        self._applied = False
        labels_changed_by(self.session, self.edits, -1)


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
        from ..core.segmentation import editing  # scipy: not at start-up

        labels = self._ensure_labels()
        if self.label == 0:
            edit = editing.erase(labels, centres, self.radius_mm)
        else:
            edit = editing.paint(labels, centres, self.radius_mm, self.label)
        if edit.count:
            self._edits.append(edit)
            labels_changed_by(self.session, [edit], +1)

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
            record_step(self.session, "brush", {"label": self.label, "radius_mm": self.radius_mm,
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


class ClickTool:
    """Each click calls ``clicked(lps)`` with the clicked point (LPS mm), e.g. to remove an island."""

    def __init__(self, clicked) -> None:
        self.clicked = clicked

    def press(self, state, cxyz) -> None:
        if cxyz is None or state.volume is None:
            return
        self.clicked(np.asarray(state.canonical_to_lps(cxyz), float))

    def move(self, state, cxyz) -> None:
        pass

    def release(self, state) -> None:
        pass
