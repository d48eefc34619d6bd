"""The heart label table (numbers, keys, names, colours) and label-map statistics."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ..resources import load_json

#: myocardial tissue density used for mass (g/mL)
MYOCARDIUM_DENSITY_G_ML = 1.05


@dataclass(frozen=True)
class Structure:
    label: int
    key: str  # short name used in JSON outputs: LV, RV, LA, RA, MYO, AO, PA
    name: str
    colour: tuple[int, int, int]


@lru_cache(maxsize=None)
def structures() -> tuple[Structure, ...]:
    """The 7 heart structures of DESIGN.md, in label order."""
    data = load_json("labels.json")
    return tuple(
        Structure(int(e["label"]), e["key"], e["name"], tuple(int(c) for c in e["colour"]))
        for e in sorted(data["labels"], key=lambda e: e["label"])
    )


def by_key(key: str) -> Structure:
    for s in structures():
        if s.key == key:
            return s
    raise KeyError(key)


def by_label(label: int) -> Structure:
    for s in structures():
        if s.label == label:
            return s
    raise KeyError(label)


def label_volumes_ml(labels: np.ndarray, spacing) -> dict[str, dict]:
    """``{"LV": {"label": 1, "volume_ml": ...}, ...}`` for the 7 structures."""
    counts = np.bincount(labels.ravel(), minlength=256)
    voxel_ml = float(np.prod(spacing)) / 1000.0
    return {s.key: {"label": s.label, "volume_ml": float(counts[s.label]) * voxel_ml} for s in structures()}


def myocardial_mass_g(labels: np.ndarray, spacing) -> float:
    return label_volumes_ml(labels, spacing)["MYO"]["volume_ml"] * MYOCARDIUM_DENSITY_G_ML
