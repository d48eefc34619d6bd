"""Tissue classes of the phantom and their Hounsfield units.

The painter writes a tissue code per voxel (uint8) alongside the heart label;
intensities are assigned afterwards from :class:`IntensityParams`, so the
anatomy and the contrast protocol vary independently.
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np

from .params import IntensityParams


class Tissue(IntEnum):
    AIR = 0
    FAT = 1
    MUSCLE = 2
    LUNG = 3
    SOFT = 4          # vessel walls, oesophagus, connective tissue
    LIVER = 5
    CORTICAL = 6
    MARROW = 7
    DISC = 8
    CORD = 9
    MYOCARDIUM = 10
    BLOOD_LEFT = 11   # contrast-enhanced left heart, aorta, coronaries
    BLOOD_RIGHT = 12  # right heart and pulmonary arteries (mixed with unopacified blood)
    CALCIUM = 13
    CAVAL = 14        # caval inflow, little contrast


def hu_table(p: IntensityParams) -> np.ndarray:
    """Lookup table tissue code -> HU (float32, indexed by :class:`Tissue`)."""
    table = np.zeros(len(Tissue), dtype=np.float32)
    table[Tissue.AIR] = -1000.0
    table[Tissue.FAT] = p.fat
    table[Tissue.MUSCLE] = p.muscle
    table[Tissue.LUNG] = p.lung
    table[Tissue.SOFT] = p.soft
    table[Tissue.LIVER] = p.liver
    table[Tissue.CORTICAL] = p.cortical
    table[Tissue.MARROW] = p.marrow
    table[Tissue.DISC] = 0.5 * (p.soft + p.muscle) + 30.0
    table[Tissue.CORD] = 0.5 * p.soft
    table[Tissue.MYOCARDIUM] = p.myocardium
    table[Tissue.BLOOD_LEFT] = p.blood_left
    table[Tissue.BLOOD_RIGHT] = p.blood_left * p.right_mix
    table[Tissue.CALCIUM] = p.calcium
    # unopacified caval blood mixing into the right atrium
    table[Tissue.CAVAL] = 0.5 * (p.blood_left * p.right_mix + 45.0)
    return table
