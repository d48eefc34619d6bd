"""Run the Segment step's editing operations off the GUI thread, undoably, with a threshold preview.

An operation (a core function such as ``morphology.grow``) runs in a worker
on a private copy of the label map, so the views keep drawing the real map
and nothing half-done is ever shown. Its :class:`Edit` comes back to the GUI
thread, is applied to the real map (cost proportional to the changed voxels),
pushed on the session's ``QUndoStack`` and recorded in the case history. If
the map was changed meanwhile (a brush stroke, an undo), the result is
dropped and the user asked to apply again.
"""

from __future__ import annotations

import numpy as np

from ..core.imaging.volume import Volume
from .edit_tools import LabelEditCommand, labels_changed_by, record_step


def run_on_copy(fn, labels: Volume, *args, progress=None, **kwargs):
    """In the worker: ``fn(copy_of_labels, *args, progress=progress, **kwargs)``; returns its Edit."""
    work = Volume(labels.array.copy(), labels.spacing, labels.origin, labels.direction, meta=dict(labels.meta))
    return fn(work, *args, progress=progress, **kwargs)


class EditRunner:
    """Starts operations through ``window.run_job`` and applies their results."""

    def __init__(self, window) -> None:
        self.window = window
        self._generation = 0  # bumped by every label change
        window.session.labels_changed.connect(self._bump)
        #: the last applied Edit (tests, diagnostics)
        self.last_edit = None

    def _bump(self) -> None:
        self._generation += 1

    def _status(self, text: str) -> None:
        self.window.statusBar().showMessage(text, 6000)

    def run(self, text: str, fn, *args, **kwargs):
        """Run ``fn(labels, *args, **kwargs)`` in a worker; ``text`` names it in the job bar and Undo menu.

        Returns the job, or None when there are no labels or another job runs.
        """
        session = self.window.session
        labels = session.labels
        if labels is None:
            self._status(f"{text}: there are no labels yet; segment or paint first.")
            return None
        start = self._generation
        return self.window.run_job(text, run_on_copy, fn, labels, *args,
                                   on_done=lambda edit: self._finish(text, labels, start, edit), **kwargs)

    def _finish(self, text: str, labels: Volume, start: int, edit) -> None:
        session = self.window.session
        if session.labels is not labels or self._generation != start:
            self._status(f"{text}: the labels changed while it ran, so nothing was changed; apply it again.")
            return
        if not edit.count:
            self._status(f"{text}: nothing to change.")
            return
        edit.apply(labels.array)
        self.last_edit = edit
        full = f"{text} ({edit.count} voxels)"
        session.undo_stack.push(LabelEditCommand(session, [edit], full))
        labels_changed_by(session, [edit], +1)
        record_step(session, edit.name, edit.params)
        self._status(f"{full}. Ctrl+Z undoes it.")


class ThresholdPreview:
    """A read-only stand-in for the canonical label image showing a threshold's result.

    Indexing it (as the slice views do, one plane at a time) returns the
    labels of that plane with the threshold applied: ``mode="paint"`` sets
    ``label`` where ``lo <= HU <= hi`` (over background only unless
    ``overwrite``), ``mode="restrict"`` removes ``label`` outside the range.
    Only the drawn plane is computed, so moving the range is instant.
    """

    def __init__(self, image: np.ndarray, labels: np.ndarray | None, label: int, lo: float, hi: float,
                 mode: str = "paint", overwrite: bool = False) -> None:
        if mode not in ("paint", "restrict"):
            raise ValueError(mode)
        self.image, self.labels = image, labels
        self.label, self.lo, self.hi, self.mode, self.overwrite = int(label), float(lo), float(hi), mode, overwrite
        self.shape, self.ndim, self.dtype = image.shape, image.ndim, np.dtype(np.uint8)

    def __getitem__(self, key) -> np.ndarray:
        hu = np.asarray(self.image[key])
        lab = np.zeros(hu.shape, np.uint8) if self.labels is None else np.array(self.labels[key], np.uint8)
        inside = (hu >= self.lo) & (hu <= self.hi)
        if self.mode == "paint":
            lab[inside if self.overwrite else inside & (lab == 0)] = self.label
        else:
            lab[(lab == self.label) & ~inside] = 0
        return lab

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        out = self[...]
        return out if dtype is None else out.astype(dtype)


class PreviewController:
    """Shows a :class:`ThresholdPreview` on the slice views while active, re-installing it after data changes."""

    def __init__(self, state) -> None:
        self.state = state
        self.params: dict | None = None
        self.preview: ThresholdPreview | None = None
        state.data_changed.connect(self._reinstall)

    @property
    def active(self) -> bool:
        return self.params is not None

    def show(self, **params) -> None:
        """Preview ``ThresholdPreview(image, labels, **params)`` (replaces any current preview)."""
        self.params = dict(params)
        self._install(self._base())

    def hide(self) -> None:
        if self.params is None:
            return
        base = self._base()
        self.params = self.preview = None
        if self.state.image is not None:
            self.state.label_image = base
            self.state.display_changed.emit()

    def _base(self):
        img = self.state.label_image
        return img.labels if isinstance(img, ThresholdPreview) else img

    def _install(self, base) -> None:
        st = self.state
        if st.image is None or self.params is None:
            self.preview = None
            return
        self.preview = ThresholdPreview(st.image, base, **self.params)
        st.label_image = self.preview
        st.display_changed.emit()

    def _reinstall(self) -> None:
        # the views read label_image when they paint (later), so replacing it here shows no flicker
        if self.params is not None and self.state.label_image is not self.preview:
            self._install(self.state.label_image)
