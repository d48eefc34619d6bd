"""The heart at one phase as an ordered list of painting steps, plus landmarks.

Priority (later wins): epicardial fat, chamber and vessel walls, RA, LA, RV,
PA, LV myocardium, mitral opening, LV blood, aorta, coronaries (only over
unlabelled fat and walls), calcium. The LV myocardium is painted after the
RV, so the septum belongs to label 5 and the RV wraps around it; the LV blood
and the aorta meet exactly on the annulus plane.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import vessels
from .aortic_root import RootShape
from .chambers import Chambers, Layout, chambers
from .painter import Separation, Step
from ..segmentation.labels import structures
from .params import AnatomyParams
from .shapes import Ellipsoid, Offset, Tube, Union
from .tissues import Tissue

T = Tissue
#: structure key -> label number, from the shared label table (resources/labels.json)
LABELS = {s.key: s.label for s in structures()}


@dataclass
class HeartModel:
    steps: list[Step]
    chambers: Chambers
    landmarks: dict
    calcium: list[dict]


def calcium_nodules(lay: Layout, seed: int, count: int) -> list[dict]:
    """Calcium nodules on the annulus wall (centre, radius), drawn from ``seed``."""
    rng = np.random.default_rng([int(seed), 1013])
    root = lay.root
    out = []
    for _ in range(count):
        theta = float(rng.uniform(-np.pi, np.pi))
        h = float(rng.uniform(0.5, 3.0))
        radius = float(rng.uniform(1.2, 2.2))
        centre = root.surface_point(h, theta) + 1.0 * root.direction(theta)
        out.append({"centre_lps": [float(v) for v in centre], "radius_mm": radius,
                    "height_mm": h})
    return out


#: (yielding label, other label): blood pools that touch only through a wall;
#: mostly the structure painted earlier yields; the PA yields to the LA so that the
#: appendage, whose ostium is ground truth, keeps its analytic shape
NON_COMMUNICATING = ((2, 1), (2, 6), (3, 6), (7, 3), (3, 2), (3, 4), (4, 1), (4, 6),
                     (7, 6), (7, 1), (4, 7))


def build_heart(anat: AnatomyParams, lay: Layout, phase: float, zrange, *, calcium: bool,
                seed: int) -> HeartModel:
    """Painting steps and landmarks of the heart at ``phase``.

    Parameters
    ----------
    anat : AnatomyParams
        Sampled anatomy.
    lay : Layout
        Phase-independent placement (:func:`chambers.layout`).
    phase : float
        Cardiac phase in [0, 1).
    zrange : (float, float)
        z extent of the image (vessels run to its edges).
    calcium : bool
        Add annular calcium nodules.
    seed : int
        Seed for the nodule positions.
    """
    ch = chambers(anat, lay, phase)
    root = lay.root
    z0, z1 = zrange[0] - 10.0, zrange[1] + 10.0
    u = lay.u

    aorta_tube = vessels.aorta(anat, lay, z0)
    aorta = Union([RootShape(root, 0.0, root.h_stj + 3.0), aorta_tube])
    lvot = RootShape(root, -10.0, 0.0)
    lvot_inlet = Tube([root.centre - 9.0 * root.normal, ch.lv_blood.centre - 0.3 * (
        ch.lv_blood.centre - lay.base)], 0.8 * root.b)
    lv_blood = Union([ch.lv_blood, lvot, lvot_inlet])
    lv_myo = Union([ch.lv_outer, Offset(lvot, 3.5)])
    mitral = Tube([lay.mitral, lay.mitral - (ch.myo_cap + 6.0) * u,
                   lay.mitral - (ch.myo_cap + 12.0) * u + 0.4 * (lay.la_centre - lay.mitral)],
                  13.0, flat_start=True)

    rvot, trunk, lpa, rpa, pv = vessels.pulmonary_arteries(anat, lay)
    tv_in = lay.tricuspid + 6.0 * (lay.ra_centre - lay.tricuspid) / np.linalg.norm(
        lay.ra_centre - lay.tricuspid)
    tricuspid = Tube([ch.rv.centre, lay.tricuspid, tv_in], 14.0)
    rv = Union([ch.rv, rvot, tricuspid], blend=4.0)
    pa = Union([trunk, lpa, rpa], blend=3.0)
    svc, ivc = vessels.caval_veins(lay, ch, z1, z0)
    ra = Union([ch.ra, svc, ivc], blend=4.0)
    laa, laa_truth = vessels.left_appendage(anat, lay, ch)
    la = Union([ch.la, laa, *vessels.pulmonary_veins(lay, ch)], blend=3.0)
    coronary_tubes, ostia = vessels.coronaries(anat, lay, ch)

    heart_core = Union([ch.lv_outer, ch.rv, ch.la, ch.ra,
                        RootShape(root, 0.0, root.h_stj + 3.0), trunk])
    around = frozenset({T.LUNG, T.FAT, T.MUSCLE, T.SOFT})
    steps = [
        Step("epicardial fat", Offset(heart_core, 7.0), T.FAT, over=frozenset({T.LUNG, T.FAT})),
        Step("great-vessel fat", Offset(Union([aorta_tube, pa, svc]), 4.0), T.FAT,
             over=frozenset({T.LUNG})),
        Step("atrial walls", Offset(Union([ch.ra, ch.la]), 2.0), T.MYOCARDIUM, over=around),
        Step("RV wall", Offset(Union([ch.rv, rvot]), 3.5), T.MYOCARDIUM, over=around),
        Step("vessel walls", Offset(Union([aorta, pa, svc, ivc]), 2.0), T.SOFT, over=around),
        Step("pulmonary-vein walls", Offset(la, 1.5), T.SOFT, over=frozenset({T.LUNG, T.FAT})),
        Step("right atrium", ra, T.BLOOD_RIGHT, 4),
        Step("left atrium", la, T.BLOOD_LEFT, 3),
        Step("right ventricle", rv, T.BLOOD_RIGHT, 2),
        Step("pulmonary artery", pa, T.BLOOD_RIGHT, 7),
        Step("LV myocardium", lv_myo, T.MYOCARDIUM, 5),
        Step("mitral opening", mitral, T.BLOOD_LEFT, 3),
        Step("LV blood pool", lv_blood, T.BLOOD_LEFT, 1),
        Step("aorta", aorta, T.BLOOD_LEFT, 6),
        # blood pools meet only at the valves (LV-LA, LV-AO, RA-RV, RV-PA)
        Separation("walls between blood pools", NON_COMMUNICATING, 2.0, T.SOFT),
        Step("coronary arteries", Union(coronary_tubes), T.BLOOD_LEFT, 0,
             over=frozenset({T.FAT, T.SOFT, T.MYOCARDIUM, T.LUNG}), unlabelled_only=True),
    ]
    nodules = calcium_nodules(lay, seed, anat.calcium_nodules) if calcium else []
    for nod in nodules:
        steps.append(Step("calcium", Ellipsoid(nod["centre_lps"], [nod["radius_mm"]] * 3),
                          T.CALCIUM, 0))
    landmarks = {
        "lv_base_lps": lay.base.tolist(),
        "lv_apex_lps": ch.apex.tolist(),
        "lv_long_axis_lps": u.tolist(),
        "mitral_centre_lps": lay.mitral.tolist(),
        "pulmonary_valve_lps": np.asarray(pv).tolist(),
        "coronary_ostia": ostia,
        "laa_ostium": laa_truth,
    }
    return HeartModel(steps=steps, chambers=ch, landmarks=landmarks, calcium=nodules)
