"""Automatic 7-label heart segmentation of a contrast-enhanced cardiac CT.

Pipeline (parameters in :class:`AutoParams`; every step reports progress and
can be cancelled):

1. **Working grid** (:mod:`.resample`): block-average + linear resampling to
   an isotropic ``working_mm`` grid, then Gaussian smoothing
   (``smooth_mm``) against noise.
2. **Prior fit** (:mod:`.register`, :mod:`.template`): the generator's
   *default-parameter* heart (never the case itself) is placed by an
   exhaustive FFT translation search on a rough Otsu blood indicator, then
   refined by an affine mutual-information registration on the heart region
   with bone painted over as soft tissue (bone found with provisional levels
   sampled where the translated prior lies: marrow can be brighter than a
   low-contrast scan's blood and would otherwise pull the fit onto the
   spine); an implausibly scaled fit is rejected for the translation alone.
3. **Contrast levels** (:mod:`.contrast`): left-blood, right-blood,
   myocardium and fat levels sampled from the scan where the fitted prior
   puts each class; blood thresholds are midpoints, per side.
4. **Blood mask** (:mod:`.partition`): smoothed image between the side's
   blood threshold and the calcium/bone limit, minus bone: cortex, the
   marrow inside closed cortical rings, and bright voxels walled in by
   cortex in most directions (marrow whose ring is open where a vessel or
   the atrium lies against the vertebra); components the prior does not
   explain (spine, ribs, sternum marrow, calcium) are dropped.
5. **Partition**: marker-based watershed over the gradient magnitude from
   the cores of the fitted prior labels; fronts meet at walls, narrowings and
   valve planes.
6. **LV myocardium**: tissue-class voxels (between fat and blood) within
   ``max_wall_mm`` of the LV blood pool near the prior's wall.
7. **Input grid** (:mod:`.refine`): labels resampled with nearest neighbour
   and cut to the full-resolution blood / tissue classes (atria and vessels,
   whose thin walls have fat or lung behind, with a lower blood cut than
   the ventricles; never grown back into marrow).
8. **Checks**: a structure whose found volume is tiny compared with what the
   fitted prior expects inside the field of view is reported as missing,
   with the reason (outside the field of view, or no contrast-filled region
   where it should be); the other labels are still returned. When no blood
   structure is found at all, the first warning says the heart was not found.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass

import numpy as np
import SimpleITK as sitk

from .. import jobs
from ..errors import InputError
from ..imaging.volume import Volume
from . import contrast, partition, refine, register, resample
from .result import SegmentationResult
from .template import default_template

NAMES = {1: ("LV", "Left ventricle"), 2: ("RV", "Right ventricle"), 3: ("LA", "Left atrium"),
         4: ("RA", "Right atrium"), 5: ("MYO", "LV myocardium"), 6: ("AO", "Aorta"),
         7: ("PA", "Pulmonary artery")}


@dataclass
class AutoParams:
    """Tunable parameters of the automatic pipeline (tuned on phantom seeds 100-119)."""

    working_mm: float = 1.6          # isotropic working grid
    smooth_mm: float = 1.0           # Gaussian sigma on the working grid
    registration_iterations: int = 60
    marker_erosion: int = 2          # working voxels peeled off prior labels for markers
    distance_weight: float = 0.0     # watershed: weight of the blood-pool distance map
    max_wall_mm: float = 13.0        # LV myocardium: farthest tissue from the LV blood
    prior_margin_mm: float = 5.0     # ... and from the prior's wall
    grow_voxels: int = 2             # working voxels a blood label may grow at full res
    fine_smooth_mm: float = 0.7      # Gaussian sigma on the input grid
    atrial_cut: float = 0.65         # LA/RA edge: share of the way from blood down to myocardium
    vessel_cut: float = 0.7          # aorta/PA edge (thin soft-tissue wall), same measure
    min_found_fraction: float = 0.15  # of the prior's expected volume in view
    marrow_enclosure: float = 0.5    # bright voxels walled in by cortex in this share of directions
    marrow_reach_mm: float = 20.0    # ... within this distance (about a vertebral body's size)


def _check_input(volume: Volume) -> None:
    if volume.array.ndim != 3 or min(volume.array.shape) < 8:
        raise InputError(f"Segmentation needs a 3D image of at least 8 voxels per side, "
                         f"got shape {volume.array.shape}.")
    if not np.issubdtype(volume.array.dtype, np.number):
        raise InputError("Segmentation needs a numeric (HU) image.")


def segment_heart(volume: Volume, *, progress=None, params: AutoParams | None = None
                  ) -> SegmentationResult:
    """Segment the 7 heart structures of a contrast-enhanced cardiac CT.

    Parameters
    ----------
    volume : Volume
        The CT in Hounsfield units (any spacing 0.3-2 mm, any field of view
        containing the heart).
    progress : jobs.Progress, optional
        Receives updates; cancelling raises ``CancelledError`` at the next step.
    params : AutoParams, optional
        Pipeline parameters (defaults are the tuned values).

    Returns
    -------
    SegmentationResult
        Labels on the input grid, warnings and the missing structures' keys.
    """
    p = params or AutoParams()
    _check_input(volume)
    t0 = time.perf_counter()
    total = 10
    image, smoothed, s, raw = resample.prepare(volume, p.working_mm, p.smooth_mm, progress, total)

    jobs.report(progress, 2, total, "Placing the heart model")
    template = default_template()
    rough = contrast.rough_threshold(s)
    shift = register.initial_translation(smoothed, template, rough)
    jobs.report(progress, 3, total, "Fitting the heart model")
    # provisional levels where the translated prior lies: enough to find the
    # bone (cortex and the marrow it rings), which the affine fit must ignore
    tx0 = register.translation_transform(shift)
    prior0 = sitk.GetArrayFromImage(register.warp_labels(template, tx0, smoothed))
    levels0 = contrast.estimate_levels(s, prior0)
    fit = "affine"
    if levels0 is None:
        fixed_bone, soft = None, 100.0
    else:
        fixed_bone = partition.bone_mask(raw, levels0, p.working_mm)
        soft = levels0.myocardium
    try:
        tx = register.affine(smoothed, template, shift, jobs.SubProgress(progress, 3, 4, total),
                             iterations=p.registration_iterations, fixed_bone=fixed_bone,
                             soft_hu=soft)
        if not register.plausible(tx):
            # an implausibly scaled or sheared heart: keep the translation
            tx, fit = tx0, "translation (affine fit rejected as implausible)"
        prior = (prior0 if tx is tx0 else
                 sitk.GetArrayFromImage(register.warp_labels(template, tx, smoothed)))
    except register.RegistrationFailed:
        tx, prior, fit = sitk.AffineTransform(3), np.zeros(s.shape, np.uint8), "failed"
    del prior0, fixed_bone

    jobs.report(progress, 4, total, "Estimating contrast levels")
    levels = contrast.estimate_levels(s, prior)
    provenance = {"auto_params": dataclasses.asdict(p), "rough_threshold_hu": rough,
                  "prior": "phantom generator default parameters (noise-free, 2 mm)",
                  "prior_fit": fit,
                  "prior_transform": {"matrix": list(tx.GetMatrix()),
                                      "translation": list(tx.GetTranslation()),
                                      "center": list(tx.GetCenter())}}
    if levels is None or levels.left <= levels.myocardium + 30.0:
        out = np.zeros(volume.array.shape, np.uint8)
        keys = [NAMES[k][0] for k in range(1, 8)]
        msg = ("Heart not found: no contrast-filled left ventricle and aorta could be located; "
               "check that this is a contrast-enhanced cardiac CT, or use seeded segmentation.")
        return SegmentationResult(Volume(out, volume.spacing, volume.origin, volume.direction),
                                  [msg], keys, time.perf_counter() - t0, "auto", provenance)
    provenance["levels"] = levels.as_dict()

    jobs.report(progress, 5, total, "Finding the blood pool")
    thresholds, bright, bone, marrow = partition.bright_regions(
        s, raw, levels, prior, p.working_mm, p.marrow_enclosure, p.marrow_reach_mm)
    blood = partition.blood_mask(s, thresholds, levels, prior, bone | marrow)
    del thresholds, raw, bright

    jobs.report(progress, 6, total, "Separating chambers and vessels")
    labels = partition.partition(smoothed, blood, prior, p.marker_erosion, p.distance_weight)
    jobs.report(progress, 7, total, "Finding the LV myocardium")
    myo = partition.myocardium(s, labels, levels, prior, p.working_mm, p.max_wall_mm,
                               p.prior_margin_mm)
    labels[myo] = 5

    jobs.report(progress, 8, total, "Refining at full resolution")
    full = refine.to_input_grid(labels, smoothed, image, levels, grow_voxels=p.grow_voxels,
                                smooth_mm=p.fine_smooth_mm, exclude=marrow,
                                atrial_cut=p.atrial_cut, vessel_cut=p.vessel_cut,
                                progress=jobs.SubProgress(progress, 8, 9, total))
    del image
    jobs.report(progress, 9, total, "Checking the structures")
    warnings, missing = _check_structures(full, volume, prior, p)
    for k in missing:
        label = next(lab for lab, (key, _) in NAMES.items() if key == k)
        full[full == label] = 0
    jobs.report(progress, total, total, "Segmentation done")
    return SegmentationResult(
        labels=Volume(full, volume.spacing, volume.origin, volume.direction,
                      meta={"kind": "labels"}),
        warnings=warnings, missing=missing, seconds=time.perf_counter() - t0,
        method="auto", params=provenance)


def _check_structures(full: np.ndarray, volume: Volume, prior: np.ndarray, p: AutoParams):
    """Warnings and missing keys: compare found volumes with the prior's expectation."""
    template = default_template()
    t_counts = np.bincount(template.labels.array.ravel(), minlength=8)
    t_ml = t_counts * np.prod(template.labels.spacing) / 1000.0
    p_counts = np.bincount(prior.ravel(), minlength=8)
    p_ml = p_counts * p.working_mm ** 3 / 1000.0
    f_counts = np.bincount(full.ravel(), minlength=8)
    f_ml = f_counts * volume.voxel_volume_mm3 / 1000.0
    warnings, missing = [], []
    for k in range(1, 8):
        key, name = NAMES[k]
        expected = p_ml[k]
        if f_ml[k] >= max(p.min_found_fraction * expected, 1.0):
            if expected < 0.5 * t_ml[k] and key in ("AO", "PA", "RA", "LA"):
                pass  # vessels and atria are often cut by the field of view
            elif expected < 0.5 * t_ml[k]:
                warnings.append(f"{name} is only partly inside the field of view.")
            continue
        missing.append(key)
        if expected < 0.1 * t_ml[k]:
            why = "it lies outside the field of view"
        elif key == "MYO":
            why = "no wall of myocardial density surrounds the left-ventricular blood pool"
        else:
            side = "left" if k in (1, 3, 6) else "right"
            why = (f"no contrast-filled region where it is expected (the {side} heart may be "
                   f"poorly opacified)")
        warnings.append(f"{name} not found: {why}.")
    if all(NAMES[k][0] in missing for k in (1, 2, 3, 4, 6, 7)):
        warnings.insert(0, "Heart not found: none of the contrast-filled chambers and vessels "
                           "could be located where the fitted heart model puts them; check that "
                           "this is a contrast-enhanced cardiac CT, or use seeded segmentation.")
    return warnings, missing
