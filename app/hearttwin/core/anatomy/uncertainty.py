"""Measurement uncertainty: the range spanned when the boundary moves by one voxel.

Every measurement is repeated on the structure's mask eroded and dilated by
one voxel (6-connected structuring element, so the boundary moves by exactly
one voxel along each grid axis); the range is ``[min, max]`` over the
nominal, eroded and dilated values. Results go in JSON next to the value as
``<key>_range`` (DESIGN.md).
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

_CROSS = ndimage.generate_binary_structure(3, 1)

#: the three boundary positions measured, in order
VARIANTS = ("nominal", "eroded", "dilated")


def shifted(mask: np.ndarray, variant: str) -> np.ndarray:
    """``mask`` with its boundary moved by one voxel (``variant`` from :data:`VARIANTS`)."""
    if variant == "nominal":
        return mask
    idx = np.argwhere(mask)
    if len(idx) == 0:
        return mask
    # work on the bounding box (+2 voxels): cheap even on 512^3 images
    lo = np.maximum(idx.min(axis=0) - 2, 0)
    hi = np.minimum(idx.max(axis=0) + 3, mask.shape)
    box = tuple(slice(a, b) for a, b in zip(lo, hi))
    out = np.zeros_like(mask, dtype=bool)
    op = ndimage.binary_erosion if variant == "eroded" else ndimage.binary_dilation
    out[box] = op(mask[box], structure=_CROSS)
    return out


def value_range(values) -> list[float] | None:
    """``[low, high]`` of the finite values, or None when none is finite."""
    vals = [float(v) for v in values if v is not None and np.isfinite(v)]
    if not vals:
        return None
    return [min(vals), max(vals)]


def put(out: dict, key: str, values, digits: int = 2) -> None:
    """``out[key] = values[0]`` and ``out[key + "_range"]`` from all values.

    ``values`` is the nominal value followed by the eroded/dilated ones.
    """
    nominal = values[0]
    out[key] = None if nominal is None else round(float(nominal), digits)
    rng = value_range(values)
    if rng is not None and nominal is not None:
        out[key + "_range"] = [round(rng[0], digits), round(rng[1], digits)]


def voxel_counts(mask: np.ndarray) -> list[int]:
    """Voxel counts of the nominal, eroded and dilated mask."""
    return [int(np.count_nonzero(shifted(mask, v))) for v in VARIANTS]
