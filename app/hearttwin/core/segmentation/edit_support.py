"""Shared helpers of the label editing operations: boxes, masks, commit to an Edit."""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from ..errors import InputError
from ..history import History, json_safe, record
from ..imaging.volume import Volume
from .undo import Changes, Edit

Box = tuple[int, int, int, int, int, int]  # z0, z1, y0, y1, x0, x1 (half-open)


def _array(labels: Volume) -> np.ndarray:
    arr = labels.array
    if arr.dtype != np.uint8 or arr.ndim != 3:
        raise InputError(f"A label map must be a 3D uint8 array; got {arr.ndim}D {arr.dtype}.")
    return arr


def _check_label(label, *, allow_zero: bool = False) -> int:
    if isinstance(label, bool) or not isinstance(label, (int, np.integer)):
        raise InputError(f"A label must be a whole number from 1 to 255, not {label!r}.")
    lo = 0 if allow_zero else 1
    if not lo <= int(label) <= 255:
        raise InputError(f"Label {label} is outside the allowed range {lo}..255.")
    return int(label)


def _labels_list(value) -> list[int] | None:
    if value is None:
        return None
    values = [value] if isinstance(value, (int, np.integer)) else list(value)
    return [_check_label(v, allow_zero=True) for v in values]


def _slices(box: Box) -> tuple[slice, slice, slice]:
    return slice(box[0], box[1]), slice(box[2], box[3]), slice(box[4], box[5])


def _pad(box: Box, pad_zyx, shape) -> Box:
    pz, py, px = (int(p) for p in pad_zyx)
    return (max(box[0] - pz, 0), min(box[1] + pz, shape[0]), max(box[2] - py, 0), min(box[3] + py, shape[1]),
            max(box[4] - px, 0), min(box[5] + px, shape[2]))


def _union(a: Box | None, b: Box | None) -> Box | None:
    if a is None:
        return b
    if b is None:
        return a
    return (min(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), max(a[3], b[3]), min(a[4], b[4]), max(a[5], b[5]))


def _mask_box(mask: np.ndarray) -> Box | None:
    """Bounding box of a boolean array's True voxels (None when empty)."""
    zs = np.flatnonzero(mask.any(axis=(1, 2)))
    if zs.size == 0:
        return None
    ys = np.flatnonzero(mask.any(axis=(0, 2)))
    xs = np.flatnonzero(mask.any(axis=(0, 1)))
    return int(zs[0]), int(zs[-1]) + 1, int(ys[0]), int(ys[-1]) + 1, int(xs[0]), int(xs[-1]) + 1


def label_boxes(arr: np.ndarray) -> dict[int, Box]:
    """Bounding box of every label present, in one pass over the map."""
    out = {}
    for value, sl in enumerate(ndimage.find_objects(arr), start=1):
        if sl is not None:
            out[value] = (sl[0].start, sl[0].stop, sl[1].start, sl[1].stop, sl[2].start, sl[2].stop)
    return out


def _spacing_zyx(labels: Volume) -> np.ndarray:
    return np.asarray(labels.spacing[::-1], dtype=float)


def _allowed(sub: np.ndarray, only: list[int] | None) -> np.ndarray | bool:
    return True if only is None else np.isin(sub, only)


def _commit(labels: Volume, box: Box | None, new_sub: np.ndarray | None, name: str, params: dict,
            history: History | None) -> Edit:
    arr = labels.array
    if box is None or new_sub is None:
        changes = Changes.empty(arr.shape)
    else:
        sl = _slices(box)
        changes = Changes.from_arrays(arr.shape, box, arr[sl], new_sub)
        arr[sl] = new_sub
    params = json_safe(dict(params, changed_voxels=changes.count))
    record(history, name, params)
    return Edit(name, params, changes)


def _structure(connectivity: int) -> np.ndarray:
    if connectivity not in (6, 26):
        raise InputError(f"Connectivity must be 6 or 26, not {connectivity}.")
    return ndimage.generate_binary_structure(3, 1 if connectivity == 6 else 3)


def _targets(arr: np.ndarray, label) -> tuple[list[int], dict[int, Box]]:
    boxes = label_boxes(arr)
    if label is None:
        return sorted(boxes), boxes
    return [v for v in _labels_list(label) if v in boxes and v != 0], boxes


# ---------------------------------------------------------------- threshold
