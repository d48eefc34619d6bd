"""Exact, compact records of label-map edits and the undo/redo stack built on them.

An :class:`Edit` stores only what changed: the bounding box of the changed
voxels, which voxels inside it changed (as flat indices, or as a bit-packed
mask when that is smaller), and their old and new values. ``revert`` and
``apply`` then restore either state bit-exactly, at a cost proportional to
the box, not to the whole 512x512x300 map.

:class:`UndoStack` keeps applied edits in order with an ``index`` (the number
of edits currently applied) that a GUI ``QUndoStack`` can mirror, and drops
the oldest edits when their total size passes a memory cap. Nothing here
imports Qt.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import InputError

#: default memory cap for the undo stack (bytes)
DEFAULT_MAX_BYTES = 512 * 2**20


@dataclass(frozen=True)
class Changes:
    """Which voxels of a (z, y, x) array changed, and from what to what."""

    shape: tuple[int, int, int]  # of the whole label map, to refuse a mismatched map
    box: tuple[int, int, int, int, int, int]  # z0, z1, y0, y1, x0, x1 (half-open)
    where: np.ndarray  # flat indices in the box (uint16/uint32/int64) or packed bits (uint8)
    packed: bool  # True: ``where`` is np.packbits of the box mask
    old: np.ndarray
    new: np.ndarray

    @classmethod
    def empty(cls, shape, dtype=np.uint8) -> "Changes":
        return cls(tuple(shape), (0, 0, 0, 0, 0, 0), np.zeros(0, np.uint16), False,
                   np.zeros(0, dtype), np.zeros(0, dtype))

    @classmethod
    def from_arrays(cls, shape, box, before: np.ndarray, after: np.ndarray) -> "Changes":
        """The difference between ``before`` and ``after``, two views of ``box`` of a map of ``shape``."""
        if before.shape != after.shape:
            raise ValueError("before and after must have the same shape")
        diff = before != after
        if not diff.any():
            return cls.empty(shape, before.dtype)
        # shrink the box to the changed voxels
        z0, y0, x0 = box[0], box[2], box[4]
        nz = np.flatnonzero(diff.any(axis=(1, 2)))
        ny = np.flatnonzero(diff.any(axis=(0, 2)))
        nx = np.flatnonzero(diff.any(axis=(0, 1)))
        sub = (slice(nz[0], nz[-1] + 1), slice(ny[0], ny[-1] + 1), slice(nx[0], nx[-1] + 1))
        diff, before, after = diff[sub], before[sub], after[sub]
        tight = (z0 + int(nz[0]), z0 + int(nz[-1]) + 1, y0 + int(ny[0]), y0 + int(ny[-1]) + 1,
                 x0 + int(nx[0]), x0 + int(nx[-1]) + 1)
        flat = np.flatnonzero(diff)
        index_dtype = (np.uint16 if diff.size <= 2**16 else np.uint32 if diff.size <= 2**32 else np.int64)
        as_index = flat.astype(index_dtype)
        as_bits = np.packbits(diff.ravel())
        packed = as_bits.nbytes < as_index.nbytes
        return cls(tuple(int(s) for s in shape), tight, as_bits if packed else as_index, packed,
                   before[diff].copy(), after[diff].copy())

    @property
    def count(self) -> int:
        """Number of changed voxels."""
        return int(self.old.size)

    @property
    def nbytes(self) -> int:
        return int(self.where.nbytes + self.old.nbytes + self.new.nbytes) + 64

    def _slices(self) -> tuple[slice, slice, slice]:
        z0, z1, y0, y1, x0, x1 = self.box
        return slice(z0, z1), slice(y0, y1), slice(x0, x1)

    def _write(self, labels: np.ndarray, values: np.ndarray) -> None:
        if self.count == 0:
            return
        if tuple(labels.shape) != self.shape:
            raise InputError(
                f"This edit was made on a label map of shape {self.shape} and cannot be applied "
                f"to one of shape {tuple(labels.shape)}."
            )
        view = labels[self._slices()]
        if self.packed:
            mask = np.unpackbits(self.where, count=view.size).view(bool).reshape(view.shape)
            view[mask] = values
        else:
            idx = np.unravel_index(self.where.astype(np.int64), view.shape)
            view[idx] = values


@dataclass
class Edit:
    """One label-map operation: its name, parameters and exact changes."""

    name: str
    params: dict
    changes: Changes
    #: free text for menus ("Paint LV (r=5 mm)"); defaults to the name
    text: str = field(default="")

    def apply(self, labels: np.ndarray) -> None:
        """Write the new values (redo). ``labels`` is modified in place."""
        self.changes._write(_array(labels), self.changes.new)

    def revert(self, labels: np.ndarray) -> None:
        """Write the old values back (undo). ``labels`` is modified in place."""
        self.changes._write(_array(labels), self.changes.old)

    @property
    def nbytes(self) -> int:
        return self.changes.nbytes

    @property
    def count(self) -> int:
        """Number of voxels this edit changed."""
        return self.changes.count

    def __repr__(self) -> str:
        return f"Edit({self.name!r}, {self.count} voxels, {self.nbytes} bytes)"


def _array(labels) -> np.ndarray:
    # accept a Volume or a bare array
    return labels.array if hasattr(labels, "array") else labels


class UndoStack:
    """Applied edits in order; ``index`` edits are currently applied.

    Like ``QUndoStack``: ``push`` appends an edit that was *already applied*
    and discards anything that could have been redone; ``undo``/``redo`` move
    ``index``. When the edits' total size passes ``max_bytes`` the oldest are
    dropped (``dropped`` counts them so a mirror can follow); the newest edit
    is always kept even if it alone is larger than the cap.
    """

    def __init__(self, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.max_bytes = int(max_bytes)
        self._edits: list[Edit] = []
        self._index = 0
        self.dropped = 0

    @property
    def index(self) -> int:
        return self._index

    @property
    def edits(self) -> tuple[Edit, ...]:
        return tuple(self._edits)

    def __len__(self) -> int:
        return len(self._edits)

    @property
    def nbytes(self) -> int:
        return sum(e.nbytes for e in self._edits)

    def can_undo(self) -> bool:
        return self._index > 0

    def can_redo(self) -> bool:
        return self._index < len(self._edits)

    def undo_text(self) -> str:
        return (self._edits[self._index - 1].text or self._edits[self._index - 1].name) if self.can_undo() else ""

    def redo_text(self) -> str:
        return (self._edits[self._index].text or self._edits[self._index].name) if self.can_redo() else ""

    def push(self, edit: Edit) -> None:
        """Record an edit that has already been applied to the label map."""
        del self._edits[self._index:]
        self._edits.append(edit)
        self._index = len(self._edits)
        self._enforce_cap()

    def undo(self, labels) -> Edit:
        if not self.can_undo():
            raise InputError("There is nothing to undo.")
        edit = self._edits[self._index - 1]
        edit.revert(labels)
        self._index -= 1
        return edit

    def redo(self, labels) -> Edit:
        if not self.can_redo():
            raise InputError("There is nothing to redo.")
        edit = self._edits[self._index]
        edit.apply(labels)
        self._index += 1
        return edit

    def clear(self) -> None:
        self._edits.clear()
        self._index = 0

    def _enforce_cap(self) -> None:
        total = self.nbytes
        while total > self.max_bytes and len(self._edits) > 1:
            oldest = self._edits.pop(0)
            total -= oldest.nbytes
            self._index -= 1
            self.dropped += 1
