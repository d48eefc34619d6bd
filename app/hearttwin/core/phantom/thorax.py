"""The thorax around the heart: body wall, lungs, spine, ribs, sternum, upper abdomen.

Everything here is static over the cardiac cycle, so it is painted once and
copied for each phase. Coordinates: LPS mm with the body axis along z, the
body centre at x = 0, y = +5 (a little posterior of the heart anchor).
"""

from __future__ import annotations

import math

import numpy as np

from .painter import Step
from .params import AnatomyParams
from .shapes import Ellipsoid, SuperEllipsoid, Tube, Union
from .tissues import Tissue

T = Tissue
BODY_CENTRE_Y = 5.0


def thorax_steps(anat: AnatomyParams, zrange: tuple[float, float]) -> list[Step]:
    """Painting steps for the thorax, in priority order.

    Parameters
    ----------
    anat : AnatomyParams
        Body size and wall thicknesses.
    zrange : (float, float)
        The z extent (mm) that must be covered (the image, with a margin).
    """
    z0, z1 = zrange
    rx, ry = anat.body_radii
    cy = BODY_CENTRE_Y
    fat, muscle = anat.fat_thickness, anat.muscle_thickness
    crx, cry = rx - fat - muscle, ry - fat - muscle  # the thoracic cavity
    inf = math.inf
    steps = [
        Step("body", SuperEllipsoid((0, cy, 0), (rx, ry, inf), 2.3, zrange), T.FAT),
        Step("chest wall", SuperEllipsoid((0, cy, 0), (rx - fat, ry - fat, inf), 2.3, zrange),
             T.MUSCLE),
        Step("mediastinum", SuperEllipsoid((0, cy, 0), (crx, cry, inf), 2.3, zrange), T.FAT),
    ]
    for side in (-1, 1):
        centre = (side * 0.52 * crx, cy + 0.06 * cry, 0)
        steps.append(Step("lung", SuperEllipsoid(centre, (0.47 * crx, 0.9 * cry, inf), 2.6,
                                                 zrange), T.LUNG))
    # upper abdomen under the diaphragm domes (right higher: the liver)
    steps.append(Step("liver", Ellipsoid((-0.35 * crx, cy, -60 - 0.9 * cry),
                                         (0.75 * crx, 1.0 * cry, 0.9 * cry + 2)), T.LIVER))
    steps.append(Step("left upper abdomen",
                      Ellipsoid((0.45 * crx, cy, -75 - 0.9 * cry), (0.65 * crx, 0.95 * cry, 0.9 * cry)),
                      T.SOFT))
    steps += _spine_steps(cy + ry - fat - 45.0, zrange)
    steps += _rib_steps(crx, cry, cy, zrange)
    sternum_y = cy - cry + 2.0
    steps.append(Step("sternum", SuperEllipsoid((0, sternum_y, 0), (15, 7, inf), 3.0, zrange),
                      T.CORTICAL))
    steps.append(Step("sternum marrow", SuperEllipsoid((0, sternum_y, 0), (13, 5, inf), 3.0, zrange),
                      T.MARROW))
    # oesophagus behind the left atrium, in front of the spine
    steps.append(Step("oesophagus", Tube([(6, 45, z0 - 5), (4, 42, z1 + 5)], 7.0), T.SOFT,
                      over=frozenset({T.FAT, T.LUNG})))
    steps.append(Step("oesophageal air", Tube([(6, 45, z0 - 5), (4, 42, z1 + 5)], 1.5), T.AIR,
                      over=frozenset({T.SOFT})))
    return steps


def _spine_steps(body_y: float, zrange) -> list[Step]:
    """Vertebral bodies (cortex and marrow), discs, posterior arch, cord."""
    z0, z1 = zrange
    inf = math.inf
    canal_y = body_y + 28.0
    steps = [
        Step("paraspinal muscles", Union([
            SuperEllipsoid((s * 32, canal_y + 8, 0), (24, 22, inf), 2.0, zrange) for s in (-1, 1)]),
            T.MUSCLE),
        Step("discs", SuperEllipsoid((0, body_y, 0), (19, 16, inf), 2.2, zrange), T.DISC),
    ]
    period, height = 30.0, 24.0
    first = math.floor(z0 / period) - 1
    for k in range(first, math.ceil(z1 / period) + 1):
        zc = k * period
        zr = (zc - height / 2, zc + height / 2)
        steps.append(Step("vertebra", SuperEllipsoid((0, body_y, 0), (19, 16, inf), 2.2, zr),
                          T.CORTICAL))
        steps.append(Step("vertebra marrow",
                          SuperEllipsoid((0, body_y, 0), (16.5, 13.5, inf), 2.2,
                                         (zr[0] + 1.5, zr[1] - 1.5)), T.MARROW))
        steps.append(Step("vertebral arch", SuperEllipsoid((0, canal_y, 0), (17, 15, inf), 2.0, zr),
                          T.CORTICAL))
        steps.append(Step("spinous process",
                          SuperEllipsoid((0, canal_y + 24, 0), (4, 14, inf), 4.0, zr), T.CORTICAL))
    steps.append(Step("spinal canal", SuperEllipsoid((0, canal_y, 0), (9, 8, inf), 2.0, zrange),
                      T.CORD))
    return steps


def _rib_steps(crx: float, cry: float, cy: float, zrange) -> list[Step]:
    """Ribs: tubes along the cavity wall, sloping down towards the front."""
    z0, z1 = zrange
    steps = []
    period = 27.0
    for k in range(math.floor(z0 / period) - 1, math.ceil(z1 / period) + 2):
        z_back = k * period + 10.0
        for side in (-1, 1):
            ang = np.linspace(np.deg2rad(112), np.deg2rad(-62), 40)  # posterior -> anterior
            x = side * (crx + 4.0) * np.abs(np.cos(ang)) ** (2 / 2.3)
            y = cy + (cry + 4.0) * np.sign(np.sin(ang)) * np.abs(np.sin(ang)) ** (2 / 2.3)
            x = np.where(np.abs(x) < 22, side * 22, x)  # start beside the spine
            z = z_back - 32.0 * (1 - (ang - ang[-1]) / (ang[0] - ang[-1]))
            pts = np.column_stack([x, y, z])
            if pts[:, 2].max() < z0 - 10 or pts[:, 2].min() > z1 + 10:
                continue
            steps.append(Step("rib", Tube(pts, 5.0), T.CORTICAL))
            steps.append(Step("rib marrow", Tube(pts, 3.3), T.MARROW))
    return steps
