"""Estimating the scan's own contrast levels and the blood-pool mask.

No Hounsfield threshold is hard-coded for the blood: the levels come from the
scan. Before the prior is fitted, a rough threshold (Otsu between soft tissue
and bright voxels) is enough to place it; afterwards the prior tells where
to sample each class, and medians of the smoothed image give:

- ``left``: the left-heart blood level (LV and aorta cores),
- ``right``: the right-heart level (RV and pulmonary artery cores), which is
  usually lower (contrast mixed with unopacified venous blood),
- ``myocardium``: the LV wall, ``fat``: epicardial / mediastinal fat.

The blood threshold is the midpoint between the blood level of the nearest
side (left or right heart, by nearest prior structure) and the myocardium;
the upper limit (calcium, bone cortex) sits well above the left level.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

LEFT = (1, 3, 5, 6)
RIGHT = (2, 4, 7)


@dataclass
class Levels:
    left: float
    right: float
    myocardium: float
    fat: float

    @property
    def upper(self) -> float:
        """Above this a voxel is calcium or bone, not contrast blood."""
        return self.left + max(200.0, 0.8 * (self.left - self.myocardium))

    def as_dict(self) -> dict:
        return {"left_hu": self.left, "right_hu": self.right, "myocardium_hu": self.myocardium,
                "fat_hu": self.fat, "upper_hu": self.upper}


def rough_threshold(smoothed: np.ndarray) -> float:
    """Otsu threshold between soft tissue and contrast blood / bone (prior placement only)."""
    v = smoothed[(smoothed > -50.0) & (smoothed < 650.0)]
    if v.size < 100:
        return 200.0
    v = v[:: max(1, v.size // 200_000)]
    hist, edges = np.histogram(v, bins=256)
    centres = 0.5 * (edges[1:] + edges[:-1])
    w0 = np.cumsum(hist)
    w1 = w0[-1] - w0
    m0 = np.cumsum(hist * centres)
    mu0 = m0 / np.maximum(w0, 1)
    mu1 = (m0[-1] - m0) / np.maximum(w1, 1)
    between = w0 * w1 * (mu0 - mu1) ** 2
    return float(centres[int(np.argmax(between))])


def _core(mask: np.ndarray, iterations: int) -> np.ndarray:
    core = ndimage.binary_erosion(mask, iterations=iterations)
    return core if core.sum() >= 20 else mask


def estimate_levels(smoothed: np.ndarray, prior: np.ndarray) -> Levels | None:
    """Contrast levels sampled where the fitted prior puts each class.

    Returns None when the prior does not overlap enough of the scan to
    sample the left heart (nothing sensible can follow).
    """
    left_core = _core(np.isin(prior, (1, 6)), 2)
    if left_core.sum() < 20:
        return None
    left = float(np.median(smoothed[left_core]))
    right_core = _core(np.isin(prior, (2, 7)), 2)
    right = float(np.median(smoothed[right_core])) if right_core.sum() >= 20 else left
    # the prior's wall is roughly right; the median of the voxels that are
    # darker than the blood and brighter than fat is the myocardium
    wall = prior == 5
    vals = smoothed[wall]
    lo_blood = min(left, right)
    vals = vals[(vals > -60.0) & (vals < lo_blood - 0.15 * (lo_blood + 60.0))]
    myo = float(np.median(vals)) if vals.size >= 20 else 0.3 * lo_blood
    shell = ndimage.binary_dilation(prior > 0, iterations=5) & ~ndimage.binary_dilation(
        prior > 0, iterations=2)
    fv = smoothed[shell & (smoothed < myo - 60.0) & (smoothed > -400.0)]
    fat = float(np.median(fv)) if fv.size >= 20 else myo - 200.0
    right = max(right, myo + 20.0)
    return Levels(left=left, right=right, myocardium=myo, fat=fat)
