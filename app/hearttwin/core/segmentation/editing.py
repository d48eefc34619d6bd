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
from scipy import ndimage

from .. import jobs
from ..errors import InputError
from ..history import History, json_safe, record
from ..imaging.volume import Volume
from .undo import Changes, Edit

Box = tuple[int, int, int, int, int, int]  # z0, z1, y0, y1, x0, x1 (half-open)


# ---------------------------------------------------------------- helpers

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


__all__ = ["threshold", "paint", "erase", "keep_largest_island", "remove_small_islands", "fill_holes",
           "grow", "shrink", "smooth", "split_plane", "relabel", "sphere_mask", "label_boxes", "volume_ml",
           "SMOOTHING_METHODS"]
