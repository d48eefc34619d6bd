"""Chamber volumes and LV myocardial mass, with their one-voxel ranges.

Volumes are voxel counts times the voxel volume (the DESIGN.md convention
shared with ``hearttwin segment``); the range is the volume of the
structure eroded and dilated by one voxel.
"""

from __future__ import annotations

import numpy as np

from ..segmentation.labels import MYOCARDIUM_DENSITY_G_ML, structures
from . import uncertainty


def measure_chambers(labels) -> tuple[dict, list[str]]:
    """``{"LV": {"label", "volume_ml", "volume_ml_range"}, ..., "myocardial_mass_g"}``."""
    arr = np.asarray(labels.array)
    voxel_ml = labels.voxel_volume_mm3 / 1000.0
    out: dict = {}
    warnings = []
    for s in structures():
        mask = arr == s.label
        if not mask.any():
            warnings.append(f"{s.name} ({s.key}, label {s.label}) is not in the label map.")
            out[s.key] = {"label": s.label, "volume_ml": 0.0}
            continue
        entry = {"label": s.label}
        uncertainty.put(entry, "volume_ml", [c * voxel_ml for c in uncertainty.voxel_counts(mask)])
        out[s.key] = entry
    myo = out["MYO"]
    mass = {"myocardial_mass_g": round(myo["volume_ml"] * MYOCARDIUM_DENSITY_G_ML, 1)}
    if "volume_ml_range" in myo:
        mass["myocardial_mass_g_range"] = [round(v * MYOCARDIUM_DENSITY_G_ML, 1)
                                           for v in myo["volume_ml_range"]]
    out.update(mass)
    return out, warnings
