"""Label-map editing operations: threshold, brush, islands, holes, margins, smoothing, split, relabel.

Every operation takes the label map as a :class:`~hearttwin.core.imaging.Volume`
(uint8 array (z, y, x), LPS geometry), changes its array **in place**, and
returns an :class:`~.undo.Edit` that records exactly which voxels changed, so
an :class:`~.undo.UndoStack` can revert and re-apply it bit-exactly. Each
records ``(name, params)`` in ``history`` when one is given. Sizes are in mm
and mL and respect anisotropic voxel spacing; points and normals are LPS.

Work is confined to the bounding box of the label concerned (plus the margin
the operation needs), so an edit on a 512x512x300 map costs what the
structure's size costs. The image border is not treated as a surface: a
structure cut by the field of view is not eroded or smoothed away from it.

``only`` (where offered) lists the labels an operation may overwrite
(``0`` = background); ``None`` means any label. Nothing here imports Qt.
"""

from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np

from .. import jobs
from ..errors import InputError
from ..history import History
from ..imaging.volume import Volume
from .undo import Edit
from .edit_support import _array, _check_label, _labels_list, _slices, _pad, _union, _mask_box, label_boxes, _allowed, _commit, Box
from .morphology import (SMOOTHING_METHODS, fill_holes, grow, keep_largest_island,  # noqa: F401
                         remove_island_at, remove_small_islands, shrink, smooth)


def threshold(labels: Volume, image: Volume, label: int, lo: float, hi: float, *,
              box=None, mask: np.ndarray | None = None, within: int | None = None,
              only: int | Sequence[int] | None = None, history: History | None = None,
              progress=None) -> Edit:
    """Set ``label`` where ``lo <= HU <= hi`` inside a region.

    The region is the intersection of whatever is given: ``box`` as index
    ranges ``((z0, z1), (y0, y1), (x0, x1))`` (half-open), a boolean ``mask``
    of the map's shape, and the voxels currently labelled ``within``. With
    none of them, the whole map.
    """
    arr = _array(labels)
    label = _check_label(label)
    only_list = _labels_list(only)
    if image.array.shape != arr.shape:
        raise InputError(f"The image {image.array.shape} and the label map {arr.shape} have different sizes.")
    if lo > hi:
        raise InputError(f"The threshold range is empty: lower {lo} is above upper {hi}.")
    region: Box | None = (0, arr.shape[0], 0, arr.shape[1], 0, arr.shape[2])
    params = {"label": label, "lo": float(lo), "hi": float(hi), "only": only_list}
    if box is not None:
        (z0, z1), (y0, y1), (x0, x1) = box
        region = _pad((int(z0), int(z1), int(y0), int(y1), int(x0), int(x1)), (0, 0, 0), arr.shape)
        params["box"] = [[int(z0), int(z1)], [int(y0), int(y1)], [int(x0), int(x1)]]
    if mask is not None:
        mask = np.asarray(mask, dtype=bool)
        if mask.shape != arr.shape:
            raise InputError(f"The region mask {mask.shape} and the label map {arr.shape} have different sizes.")
        region = _intersect(region, _mask_box(mask))
        params["mask_voxels"] = int(np.count_nonzero(mask))
    if within is not None:
        within = _check_label(within, allow_zero=True)
        region = _intersect(region, label_boxes(arr).get(within) if within else region)
        params["within"] = within
    jobs.report(progress, 0, 2, "Thresholding")
    if region is None:
        return _commit(labels, None, None, "threshold", params, history)
    sl = _slices(region)
    sub = arr[sl]
    hu = image.array[sl]
    sel = (hu >= lo) & (hu <= hi) & _allowed(sub, only_list)
    if mask is not None:
        sel &= mask[sl]
    if within is not None:
        sel &= sub == within
    new = sub.copy()
    new[sel] = label
    jobs.report(progress, 1, 2, "Thresholding")
    edit = _commit(labels, region, new, "threshold", params, history)
    jobs.report(progress, 2, 2, "Threshold applied")
    return edit


def restrict_to_range(labels: Volume, image: Volume, label: int, lo: float, hi: float, *,
                      history: History | None = None, progress=None) -> Edit:
    """Keep ``label`` only where ``lo <= HU <= hi``; its voxels outside the range become background.

    The counterpart of :func:`threshold` for cleaning a structure that leaks
    into tissue of another density (a blood pool into myocardium or fat).
    """
    arr = _array(labels)
    label = _check_label(label)
    if image.array.shape != arr.shape:
        raise InputError(f"The image {image.array.shape} and the label map {arr.shape} have different sizes.")
    if lo > hi:
        raise InputError(f"The threshold range is empty: lower {lo} is above upper {hi}.")
    params = {"label": label, "lo": float(lo), "hi": float(hi)}
    box = label_boxes(arr).get(label)
    jobs.report(progress, 0, 2, "Restricting to the range")
    if box is None:
        return _commit(labels, None, None, "restrict_to_range", params, history)
    sl = _slices(box)
    sub = arr[sl]
    hu = image.array[sl]
    new = sub.copy()
    new[(sub == label) & ((hu < lo) | (hu > hi))] = 0
    jobs.report(progress, 1, 2, "Restricting to the range")
    edit = _commit(labels, box, new, "restrict_to_range", params, history)
    jobs.report(progress, 2, 2, "Restricted to the range")
    return edit


def _intersect(a: Box | None, b: Box | None) -> Box | None:
    if a is None or b is None:
        return None
    box = (max(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), min(a[3], b[3]), max(a[4], b[4]), min(a[5], b[5]))
    return box if box[0] < box[1] and box[2] < box[3] and box[4] < box[5] else None


# ---------------------------------------------------------------- brush

def sphere_mask(labels: Volume, centres_lps, radius_mm: float) -> tuple[Box | None, np.ndarray | None]:
    """Box and mask of the voxels whose centres lie within ``radius_mm`` of any centre (LPS mm)."""
    if not radius_mm > 0:
        raise InputError(f"The brush radius must be positive, not {radius_mm} mm.")
    shape = labels.array.shape
    centres = np.atleast_2d(np.asarray(centres_lps, dtype=float))
    # index offset (i, j, k) -> LPS offset; exact for any (even non-orthogonal) direction
    m = labels.direction * np.asarray(labels.spacing)[None, :]
    half_ijk = radius_mm * np.linalg.norm(np.linalg.inv(m), axis=1)
    centres_ijk = labels.lps_to_index(centres)
    pieces = []
    box: Box | None = None
    for c in centres_ijk:
        lo = np.maximum(np.floor(c - half_ijk), 0).astype(int)
        hi = np.minimum(np.ceil(c + half_ijk), np.array(shape[::-1]) - 1).astype(int)
        if np.any(hi < lo):
            continue
        b = (lo[2], hi[2] + 1, lo[1], hi[1] + 1, lo[0], hi[0] + 1)
        k, j, i = np.ogrid[b[0]:b[1], b[2]:b[3], b[4]:b[5]]
        d = [m[a, 0] * (i - c[0]) + m[a, 1] * (j - c[1]) + m[a, 2] * (k - c[2]) for a in range(3)]
        inside = d[0] ** 2 + d[1] ** 2 + d[2] ** 2 <= radius_mm ** 2
        pieces.append((b, inside))
        box = _union(box, b)
    if box is None:
        return None, None
    out = np.zeros((box[1] - box[0], box[3] - box[2], box[5] - box[4]), bool)
    for b, inside in pieces:
        out[b[0] - box[0]:b[1] - box[0], b[2] - box[2]:b[3] - box[2], b[4] - box[4]:b[5] - box[4]] |= inside
    return box, out


def paint(labels: Volume, centre_lps, radius_mm: float, label: int, *,
          only: int | Sequence[int] | None = None, history: History | None = None) -> Edit:
    """Paint ``label`` in a sphere of ``radius_mm`` (LPS centre, or an (n, 3) stroke of centres)."""
    arr = _array(labels)
    label = _check_label(label)
    only_list = _labels_list(only)
    box, inside = sphere_mask(labels, centre_lps, radius_mm)
    params = {"centre_lps": np.asarray(centre_lps, float).round(4), "radius_mm": float(radius_mm),
              "label": label, "only": only_list}
    if box is None:
        return _commit(labels, None, None, "paint", params, history)
    sub = arr[_slices(box)]
    new = sub.copy()
    new[inside & _allowed(sub, only_list)] = label
    return _commit(labels, box, new, "paint", params, history)


def erase(labels: Volume, centre_lps, radius_mm: float, *, only: int | Sequence[int] | None = None,
          history: History | None = None) -> Edit:
    """Set background in a sphere; ``only`` limits which labels are erased (default: all)."""
    arr = _array(labels)
    only_list = _labels_list(only)
    box, inside = sphere_mask(labels, centre_lps, radius_mm)
    params = {"centre_lps": np.asarray(centre_lps, float).round(4), "radius_mm": float(radius_mm),
              "only": only_list}
    if box is None:
        return _commit(labels, None, None, "erase", params, history)
    sub = arr[_slices(box)]
    new = sub.copy()
    new[inside & _allowed(sub, only_list)] = 0
    return _commit(labels, box, new, "erase", params, history)


def split_plane(labels: Volume, label: int, point_lps, normal_lps, new_label: int, *,
                history: History | None = None) -> Edit:
    """Give ``new_label`` to the voxels of ``label`` strictly on the side the normal points to."""
    arr = _array(labels)
    label, new_label = _check_label(label), _check_label(new_label)
    if new_label == label:
        raise InputError("The new label of a split must differ from the label being split.")
    normal = np.asarray(normal_lps, dtype=float)
    point = np.asarray(point_lps, dtype=float)
    if normal.shape != (3,) or point.shape != (3,) or not np.linalg.norm(normal) > 0:
        raise InputError("A split plane needs a point and a non-zero normal, each [x, y, z] in LPS mm.")
    normal = normal / np.linalg.norm(normal)
    params = {"label": label, "point_lps": point.round(4), "normal_lps": normal.round(6), "new_label": new_label}
    box = label_boxes(arr).get(label)
    if box is None:
        return _commit(labels, None, None, "split_plane", params, history)
    # signed distance = (origin - p).n + i*(d_i.n) sx + j*(d_j.n) sy + k*(d_k.n) sz
    steps = (labels.direction.T @ normal) * np.asarray(labels.spacing)
    offset = float((np.asarray(labels.origin) - point) @ normal)
    k, j, i = np.ogrid[box[0]:box[1], box[2]:box[3], box[4]:box[5]]
    signed = offset + i * steps[0] + j * steps[1] + k * steps[2]
    sub = arr[_slices(box)]
    new = sub.copy()
    new[(sub == label) & (signed > 0)] = new_label
    return _commit(labels, box, new, "split_plane", params, history)


def relabel(labels: Volume, source: int | Iterable[int], target: int, *,
            history: History | None = None) -> Edit:
    """Give ``target`` to every voxel of ``source`` (one label, or several to merge; target 0 deletes)."""
    arr = _array(labels)
    sources = _labels_list(source)
    target = _check_label(target, allow_zero=True)
    if 0 in sources:
        raise InputError("Background (0) cannot be relabelled; paint or threshold it instead.")
    params = {"source": sources, "target": target}
    boxes = label_boxes(arr)
    box = None
    for s in sources:
        box = _union(box, boxes.get(s))
    if box is None:
        return _commit(labels, None, None, "relabel", params, history)
    sub = arr[_slices(box)]
    new = sub.copy()
    new[np.isin(sub, sources)] = target
    return _commit(labels, box, new, "relabel", params, history)


def volume_ml(labels: Volume, label: int) -> float:
    """Volume of one label in mL."""
    return float(np.count_nonzero(labels.array == label)) * labels.voxel_volume_mm3 / 1000.0


__all__ = ["threshold", "restrict_to_range", "paint", "erase", "keep_largest_island", "remove_small_islands",
           "remove_island_at", "fill_holes", "grow", "shrink", "smooth", "split_plane", "relabel", "sphere_mask",
           "label_boxes", "volume_ml", "SMOOTHING_METHODS"]
