"""Colours of the 3D scene: heart labels from resources/labels.json, device contact map.

Label colours are the shared table in ``resources/labels.json`` (read through
:mod:`hearttwin.core.resources`), so the GUI, the printed models and the
report show a structure in the same colour. User labels (10 and up) without
an entry get a stable colour from a small palette.

A placed device is coloured per vertex by how deep that point of its
envelope lies in the wall (its penetration, mm): the device colour where it
sits in the lumen, shading to red at :data:`PENETRATION_FULL_MM` and beyond.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from ..core.resources import load_json

#: device colour where it does not touch the wall (0-255 RGB)
DEVICE_RGB = (205, 208, 214)
#: colour of the deepest penetration (0-255 RGB)
PENETRATION_RGB = (220, 30, 30)
#: penetration (mm) shown in full red; deeper points stay red
PENETRATION_FULL_MM = 3.0
#: colours of labels with no entry in labels.json (user segments)
_SPARE = ((128, 174, 128), (241, 214, 145), (177, 122, 101), (111, 184, 210), (216, 101, 79),
          (183, 156, 220), (144, 238, 144), (220, 220, 120))


@lru_cache(maxsize=1)
def label_table() -> dict[int, dict]:
    """``{label: {"key", "name", "colour": (r, g, b)}}`` from resources/labels.json."""
    data = load_json("labels.json")
    return {int(e["label"]): {"key": e["key"], "name": e["name"],
                              "colour": tuple(int(c) for c in e["colour"])}
            for e in data["labels"]}


def label_rgb(label: int) -> tuple[int, int, int]:
    """0-255 RGB colour of ``label`` (a stable spare colour for labels not in the table)."""
    entry = label_table().get(int(label))
    if entry is not None:
        return entry["colour"]
    return _SPARE[int(label) % len(_SPARE)]


def label_name(label: int) -> str:
    """Readable name of ``label`` ("Segment 12" for a user label without a name)."""
    entry = label_table().get(int(label))
    return entry["name"] if entry is not None else f"Segment {int(label)}"


def penetration_rgb(penetration_mm, full_mm: float = PENETRATION_FULL_MM) -> np.ndarray:
    """Per-vertex 0-255 RGB (N, 3) uint8 for penetration depths (mm, N).

    0 mm (or less, or NaN) gives :data:`DEVICE_RGB`; ``full_mm`` and deeper
    give :data:`PENETRATION_RGB`; linear in between.
    """
    if full_mm <= 0:
        raise ValueError("full_mm must be positive")
    p = np.nan_to_num(np.asarray(penetration_mm, float).ravel(), nan=0.0)
    t = np.clip(p / full_mm, 0.0, 1.0)[:, None]
    rgb = (1.0 - t) * np.asarray(DEVICE_RGB, float) + t * np.asarray(PENETRATION_RGB, float)
    return np.rint(rgb).astype(np.uint8)


def unit_rgb(rgb) -> tuple[float, float, float]:
    """0-255 RGB -> VTK's 0-1 floats."""
    return tuple(float(c) / 255.0 for c in rgb)
