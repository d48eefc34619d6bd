"""Morphological label edits: islands, holes, margins (grow/shrink) and smoothing.

Same contract as :mod:`.editing`: in place, bounding-box confined, returns an
:class:`~.undo.Edit`, records ``(name, params)`` in ``history``.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
from scipy import ndimage

from .. import jobs
from ..errors import InputError
from ..history import History
from ..imaging.volume import Volume
from .undo import Edit
from .edit_support import _array, _check_label, _labels_list, _slices, _pad, _union, label_boxes, _spacing_zyx, _allowed, _commit, _structure, _targets


# ---------------------------------------------------------------- islands

def _island_op(labels: Volume, label, connectivity: int, keep, name: str, params: dict,
               history, progress) -> Edit:
    arr = _array(labels)
    structure = _structure(connectivity)
    targets, boxes = _targets(arr, label)
    total_box, new_full = None, {}
    for n, value in enumerate(targets):
        jobs.report(progress, n, len(targets), f"Islands of label {value}")
        box = boxes[value]
        sub = arr[_slices(box)]
        comp, count = ndimage.label(sub == value, structure)
        if count <= 1 and name == "keep_largest_island":
            continue
        sizes = np.bincount(comp.ravel())
        sizes[0] = 0
        drop = ~keep(sizes)
        drop[0] = False
        if not drop.any():
            continue
        new = sub.copy()
        new[drop[comp]] = 0
        new_full[value] = (box, new)
        total_box = _union(total_box, box)
    jobs.report(progress, len(targets), max(len(targets), 1), "Islands done")
    if total_box is None:
        return _commit(labels, None, None, name, params, history)
    merged = arr[_slices(total_box)].copy()
    for value, (box, new) in new_full.items():
        # each label only removes its own voxels, so the boxes can be merged in any order
        sl = (slice(box[0] - total_box[0], box[1] - total_box[0]), slice(box[2] - total_box[2], box[3] - total_box[2]),
              slice(box[4] - total_box[4], box[5] - total_box[4]))
        region = merged[sl]
        region[(region == value) & (new == 0)] = 0
    return _commit(labels, total_box, merged, name, params, history)


def keep_largest_island(labels: Volume, label: int | Sequence[int] | None = None, *, connectivity: int = 26,
                        history: History | None = None, progress=None) -> Edit:
    """Keep only the largest connected piece of each label (all labels when ``label`` is None)."""
    params = {"label": _labels_list(label), "connectivity": connectivity}
    return _island_op(labels, label, connectivity, lambda sizes: sizes == sizes.max(), "keep_largest_island",
                      params, history, progress)


def remove_small_islands(labels: Volume, min_ml: float, label: int | Sequence[int] | None = None, *,
                         connectivity: int = 26, history: History | None = None, progress=None) -> Edit:
    """Remove connected pieces smaller than ``min_ml`` mL from each label."""
    if min_ml < 0:
        raise InputError(f"The minimum island size must not be negative ({min_ml} mL).")
    min_voxels = min_ml * 1000.0 / labels.voxel_volume_mm3
    params = {"label": _labels_list(label), "min_ml": float(min_ml), "connectivity": connectivity}
    return _island_op(labels, label, connectivity, lambda sizes: sizes >= min_voxels, "remove_small_islands",
                      params, history, progress)


def remove_island_at(labels: Volume, point_lps, *, connectivity: int = 26, history: History | None = None,
                     progress=None) -> Edit:
    """Remove the connected piece of whatever label lies at ``point_lps`` (LPS mm; e.g. a click).

    The voxel nearest the point decides the label; on background nothing
    changes. A point outside the image is an :class:`InputError`.
    """
    arr = _array(labels)
    structure = _structure(connectivity)
    point = np.asarray(point_lps, dtype=float)
    if point.shape != (3,) or not np.all(np.isfinite(point)):
        raise InputError("The island to remove needs one point [x, y, z] in LPS mm.")
    ijk = np.round(labels.lps_to_index(point)).astype(int)
    zyx = (int(ijk[2]), int(ijk[1]), int(ijk[0]))
    if any(not 0 <= c < n for c, n in zip(zyx, arr.shape)):
        raise InputError(f"The point {point.round(1).tolist()} mm is outside the image; click on the structure.")
    value = int(arr[zyx])
    params = {"point_lps": point.round(4), "label": value, "connectivity": connectivity}
    if value == 0:
        return _commit(labels, None, None, "remove_island_at", params, history)
    jobs.report(progress, 0, 2, f"Finding the island of label {value}")
    box = label_boxes(arr)[value]
    sub = arr[_slices(box)]
    comp, _count = ndimage.label(sub == value, structure)
    jobs.check(progress)
    picked = comp[zyx[0] - box[0], zyx[1] - box[2], zyx[2] - box[4]]
    new = sub.copy()
    new[comp == picked] = 0
    jobs.report(progress, 1, 2, "Removing the island")
    edit = _commit(labels, box, new, "remove_island_at", params, history)
    jobs.report(progress, 2, 2, "Island removed")
    return edit


# ---------------------------------------------------------------- holes

def fill_holes(labels: Volume, label: int | Sequence[int] | None = None, *, slice_wise: bool = False,
               axis: int = 0, only: int | Sequence[int] | None = (0,), history: History | None = None,
               progress=None) -> Edit:
    """Fill enclosed cavities of each label (3D, or per slice along array ``axis`` when ``slice_wise``).

    By default only background voxels are filled (``only=(0,)``), so a label
    enclosed by another (the LV blood pool inside the myocardium) is kept.
    """
    arr = _array(labels)
    only_list = _labels_list(only)
    if axis not in (0, 1, 2):
        raise InputError(f"The slice axis must be 0, 1 or 2 (z, y, x), not {axis}.")
    targets, boxes = _targets(arr, label)
    params = {"label": _labels_list(label), "slice_wise": bool(slice_wise), "axis": axis, "only": only_list}
    total = None
    for value in targets:
        total = _union(total, boxes[value])
    if total is None:
        return _commit(labels, None, None, "fill_holes", params, history)
    new = arr[_slices(total)].copy()
    for n, value in enumerate(targets):
        jobs.report(progress, n, len(targets), f"Filling holes of label {value}")
        b = boxes[value]
        sl = (slice(b[0] - total[0], b[1] - total[0]), slice(b[2] - total[2], b[3] - total[2]),
              slice(b[4] - total[4], b[5] - total[4]))
        sub = new[sl]
        mask = sub == value
        if slice_wise:
            filled = np.stack([ndimage.binary_fill_holes(s) for s in np.moveaxis(mask, axis, 0)])
            filled = np.moveaxis(filled, 0, axis)
        else:
            filled = ndimage.binary_fill_holes(mask)
        sub[filled & ~mask & _allowed(sub, only_list)] = value
    jobs.report(progress, len(targets), len(targets), "Holes filled")
    return _commit(labels, total, new, "fill_holes", params, history)


# ---------------------------------------------------------------- margins

def grow(labels: Volume, label: int, margin_mm: float, *, only: int | Sequence[int] | None = (0,),
         history: History | None = None, progress=None) -> Edit:
    """Add every voxel within ``margin_mm`` of ``label`` (Euclidean, in mm).

    Only background is taken by default; pass ``only=None`` to overwrite other labels.
    """
    arr = _array(labels)
    label = _check_label(label)
    only_list = _labels_list(only)
    params = {"label": label, "margin_mm": float(margin_mm), "only": only_list}
    if margin_mm < 0:
        raise InputError(f"The growth margin must not be negative ({margin_mm} mm); use shrink.")
    box = label_boxes(arr).get(label)
    if box is None or margin_mm == 0:
        return _commit(labels, None, None, "grow", params, history)
    spacing = _spacing_zyx(labels)
    box = _pad(box, np.ceil(margin_mm / spacing) + 1, arr.shape)
    jobs.report(progress, 0, 2, "Computing distances")
    sub = arr[_slices(box)]
    mask = sub == label
    dist = ndimage.distance_transform_edt(~mask, sampling=spacing)
    jobs.report(progress, 1, 2, "Growing")
    new = sub.copy()
    new[(dist <= margin_mm + 1e-6) & ~mask & _allowed(sub, only_list)] = label
    edit = _commit(labels, box, new, "grow", params, history)
    jobs.report(progress, 2, 2, "Grown")
    return edit


def shrink(labels: Volume, label: int, margin_mm: float, *, history: History | None = None,
           progress=None) -> Edit:
    """Remove every voxel of ``label`` within ``margin_mm`` of its surface (set to background)."""
    arr = _array(labels)
    label = _check_label(label)
    params = {"label": label, "margin_mm": float(margin_mm)}
    if margin_mm < 0:
        raise InputError(f"The shrink margin must not be negative ({margin_mm} mm); use grow.")
    box = label_boxes(arr).get(label)
    if box is None or margin_mm == 0:
        return _commit(labels, None, None, "shrink", params, history)
    spacing = _spacing_zyx(labels)
    box = _pad(box, (1, 1, 1), arr.shape)
    sub = arr[_slices(box)]
    mask = sub == label
    if mask.all():  # no surface inside the image: nothing to shrink from
        return _commit(labels, None, None, "shrink", params, history)
    jobs.report(progress, 0, 2, "Computing distances")
    dist = ndimage.distance_transform_edt(mask, sampling=spacing)
    jobs.report(progress, 1, 2, "Shrinking")
    new = sub.copy()
    new[mask & (dist <= margin_mm + 1e-6)] = 0
    edit = _commit(labels, box, new, "shrink", params, history)
    jobs.report(progress, 2, 2, "Shrunk")
    return edit


# ---------------------------------------------------------------- smoothing

SMOOTHING_METHODS = ("gaussian", "median", "opening", "closing")


def _ball(radius_mm: float, spacing_zyx: np.ndarray) -> np.ndarray:
    r = np.maximum(np.floor(radius_mm / spacing_zyx), 0).astype(int)
    z, y, x = np.ogrid[-r[0]:r[0] + 1, -r[1]:r[1] + 1, -r[2]:r[2] + 1]
    return (z * spacing_zyx[0]) ** 2 + (y * spacing_zyx[1]) ** 2 + (x * spacing_zyx[2]) ** 2 <= radius_mm ** 2 + 1e-9


def smooth(labels: Volume, label: int, size_mm: float = 1.0, *, method: str = "gaussian",
           only: int | Sequence[int] | None = (0,), history: History | None = None, progress=None) -> Edit:
    """Smooth one label's surface.

    ``gaussian``: blur the binary mask with sigma ``size_mm`` (per-axis in
    voxels from the spacing) and keep where the blur is >= 0.5, which keeps
    the volume of convex shapes close; ``median``, ``opening``, ``closing``:
    with a ball of radius ``size_mm``. Voxels leaving the label become
    background; voxels joining it are taken only from ``only`` (background by
    default).
    """
    arr = _array(labels)
    label = _check_label(label)
    only_list = _labels_list(only)
    if method not in SMOOTHING_METHODS:
        raise InputError(f"Unknown smoothing method {method!r}; use one of {', '.join(SMOOTHING_METHODS)}.")
    if not size_mm > 0:
        raise InputError(f"The smoothing size must be positive, not {size_mm} mm.")
    params = {"label": label, "size_mm": float(size_mm), "method": method, "only": only_list}
    box = label_boxes(arr).get(label)
    if box is None:
        return _commit(labels, None, None, "smooth", params, history)
    spacing = _spacing_zyx(labels)
    reach = (3.0 if method == "gaussian" else 1.0) * size_mm
    pad = np.ceil(reach / spacing).astype(int) + 1
    box = _pad(box, pad, arr.shape)
    jobs.report(progress, 0, 2, f"Smoothing label {label}")
    sub = arr[_slices(box)]
    mask = sub == label
    # pad by replicating edges so the image border does not act as a surface
    padded = np.pad(mask, [(p, p) for p in pad], mode="edge")
    if method == "gaussian":
        blurred = ndimage.gaussian_filter(padded.astype(np.float32), sigma=size_mm / spacing, mode="nearest")
        out = blurred >= 0.5
    else:
        ball = _ball(size_mm, spacing)
        if method == "median":
            out = ndimage.median_filter(padded.astype(np.uint8), footprint=ball, mode="nearest").astype(bool)
        elif method == "opening":
            out = ndimage.binary_opening(padded, structure=ball)
        else:
            out = ndimage.binary_closing(padded, structure=ball)
    out = out[pad[0]:pad[0] + mask.shape[0], pad[1]:pad[1] + mask.shape[1], pad[2]:pad[2] + mask.shape[2]]
    jobs.report(progress, 1, 2, f"Smoothing label {label}")
    new = sub.copy()
    new[mask & ~out] = 0
    new[out & ~mask & _allowed(sub, only_list)] = label
    edit = _commit(labels, box, new, "smooth", params, history)
    jobs.report(progress, 2, 2, "Smoothed")
    return edit


# ---------------------------------------------------------------- split and relabel


__all__ = ["keep_largest_island", "remove_small_islands", "remove_island_at", "fill_holes", "grow", "shrink",
           "smooth", "SMOOTHING_METHODS"]
