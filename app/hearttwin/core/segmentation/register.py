"""Fitting the default-anatomy prior (:mod:`.template`) to the scan.

Two stages, both on the scan's own image content (never on its position in
the scanner frame, so the field of view and the patient position may vary):

1. **Translation by exhaustive search**: FFT cross-correlation, at 4 mm, of
   the prior's zero-mean blood-pool indicator with the scan's bright-voxel
   indicator (a rough contrast threshold). Every shift is tried, so there is
   no capture range to fall out of.
2. **Affine refinement** (12 parameters) by Mattes mutual information between
   the prior's noise-free image and the scan, restricted to the prior's heart
   region (so the thorax, whose size varies independently, does not pull),
   multi-resolution (4 mm then 2 mm). Mutual information does not assume the
   scan's HU levels, so the contrast level and the left/right enhancement
   ratio may differ from the prior's. Bone (cortex and the marrow it
   encloses) is painted over with soft tissue in both images first
   (``fixed_bone``; the prior's own bone from its known levels): the
   descending aorta and the atria lie against the spine, and marrow can be
   brighter than the scan's contrast blood, which otherwise lets the
   metric pull the heart region onto the vertebrae and inflate it.
3. **Plausibility**: an affine fit that scales the heart by more than
   ``MAX_SCALE`` (or shears it as much) is rejected, and the translation
   alone is used (:func:`plausible`).

The result maps scan points (fixed) to prior points (moving), which is what
``sitk.Resample`` needs to bring the prior's labels onto the scan's grid.
"""

from __future__ import annotations

import numpy as np
import SimpleITK as sitk
from scipy import ndimage, signal

from .. import jobs
from .template import Template

BLOOD = (1, 2, 3, 4, 6, 7)
#: largest accepted scaling of the prior along any axis (and its inverse)
MAX_SCALE = 1.35


class RegistrationFailed(RuntimeError):
    """The prior could not be fitted (the scan has too little heart-like content)."""


def _on_grid(img: sitk.Image, spacing: float, interp=sitk.sitkLinear, default=-1000.0):
    sp = np.array(img.GetSpacing())
    size = np.maximum(np.round(sp * np.array(img.GetSize()) / spacing).astype(int), 1)
    ref = sitk.Image([int(s) for s in size], sitk.sitkFloat32)
    ref.SetSpacing((spacing,) * 3)
    ref.SetDirection(img.GetDirection())
    ref.SetOrigin(img.GetOrigin())
    return sitk.Resample(img, ref, sitk.Transform(), interp, default, sitk.sitkFloat32)


def initial_translation(scan: sitk.Image, template: Template, threshold: float,
                        step_mm: float = 4.0) -> np.ndarray:
    """Translation (LPS mm, scan -> prior) maximising the blood-pool overlap."""
    s = _on_grid(scan, step_mm)
    sa = sitk.GetArrayFromImage(s)
    scan_ind = ((sa > threshold) & (sa < 3.0 * threshold + 200.0)).astype(np.float32)
    t_lab = template.labels.to_sitk()
    t = _on_grid(sitk.Cast(t_lab, sitk.sitkFloat32), step_mm, sitk.sitkLinear, 0.0)
    ta = sitk.GetArrayFromImage(t)
    lab = np.rint(ta).astype(np.uint8)
    heart = np.isin(lab, BLOOD)
    # crop the prior to the heart itself (the great vessels run to its edges)
    core = ndimage.binary_dilation(np.isin(lab, (1, 2, 3, 4, 5)), iterations=3)
    zz, yy, xx = np.nonzero(core)
    box = (slice(zz.min(), zz.max() + 1), slice(yy.min(), yy.max() + 1),
           slice(xx.min(), xx.max() + 1))
    kern = np.where(heart[box], 1.0, -0.6).astype(np.float32)
    kern -= kern.mean()
    corr = signal.fftconvolve(scan_ind, kern[::-1, ::-1, ::-1], mode="full")
    # only accept shifts that keep most of the prior's box inside the scan
    peak = np.unravel_index(int(np.argmax(corr)), corr.shape)
    # position in the scan array of the kernel box's first voxel
    first = np.array(peak) - (np.array(kern.shape) - 1)
    # physical position of that voxel in scan and prior (x, y, z order)
    p_scan = np.array(s.TransformContinuousIndexToPhysicalPoint([float(v) for v in first[::-1]]))
    start = np.array([box[0].start, box[1].start, box[2].start])
    p_tmpl = np.array(t.TransformContinuousIndexToPhysicalPoint([float(v) for v in start[::-1]]))
    return p_tmpl - p_scan


def _painted(img: sitk.Image, mask: np.ndarray | None, value: float) -> sitk.Image:
    img = sitk.Cast(img, sitk.sitkFloat32)
    if mask is None or not mask.any():
        return img
    a = sitk.GetArrayFromImage(img)
    a[mask] = value
    out = sitk.GetImageFromArray(a)
    out.CopyInformation(img)
    return out


def translation_transform(translation: np.ndarray) -> sitk.AffineTransform:
    """The translation-only placement as an affine transform (scan -> prior)."""
    tx = sitk.AffineTransform(3)
    tx.SetTranslation([float(v) for v in translation])
    return tx


def plausible(transform: sitk.Transform, max_scale: float = MAX_SCALE) -> bool:
    """Whether an affine fit keeps the prior's size within a heart's range."""
    m = np.array(transform.GetMatrix(), float).reshape(3, 3)
    if not np.all(np.isfinite(m)):
        return False
    sv = np.linalg.svd(m, compute_uv=False)
    return bool(sv.max() <= max_scale and sv.min() >= 1.0 / max_scale)


def affine(scan: sitk.Image, template: Template, translation: np.ndarray, progress=None,
           iterations: int = 60, fixed_bone: np.ndarray | None = None,
           soft_hu: float = 100.0) -> sitk.Transform:
    """Affine transform (scan -> prior) refined by mutual information.

    ``fixed_bone`` (array on ``scan``'s grid) marks the scan's bone; it and
    the prior's bone are set to ``soft_hu`` (the scan's tissue level) before
    the fit.
    """
    fixed = sitk.Clamp(_painted(scan, fixed_bone, soft_hu), sitk.sitkFloat32, -300.0, 800.0)
    moving_img = template.image.to_sitk()
    if fixed_bone is not None:
        moving_img = _painted(moving_img, template_bone(template), template_soft_hu())
    moving = sitk.Clamp(moving_img, sitk.sitkFloat32, -300.0, 800.0)
    lab = template.labels.to_sitk()
    heart = sitk.BinaryThreshold(lab, 1, 7, 1, 0)
    mask = sitk.BinaryDilate(heart, [5, 5, 5])
    tx = sitk.AffineTransform(3)
    tx.SetTranslation([float(v) for v in translation])
    # rotate / scale about the heart centre of the prior
    stats = sitk.LabelShapeStatisticsImageFilter()
    stats.Execute(heart)
    tx.SetCenter(stats.GetCentroid(1))
    tx.SetTranslation([float(v) for v in translation])

    reg = sitk.ImageRegistrationMethod()
    reg.SetMetricAsMattesMutualInformation(numberOfHistogramBins=32)
    reg.SetMetricMovingMask(mask)
    reg.SetMetricSamplingStrategy(reg.RANDOM)
    reg.SetMetricSamplingPercentage(0.25, seed=1)
    reg.SetInterpolator(sitk.sitkLinear)
    reg.SetOptimizerAsRegularStepGradientDescent(learningRate=4.0, minStep=0.05,
                                                 numberOfIterations=iterations,
                                                 relaxationFactor=0.6)
    reg.SetOptimizerScalesFromPhysicalShift()
    reg.SetShrinkFactorsPerLevel([2, 1])
    reg.SetSmoothingSigmasPerLevel([2.0, 0.0])
    reg.SmoothingSigmasAreSpecifiedInPhysicalUnitsOn()
    reg.SetInitialTransform(tx, inPlace=True)
    if progress is not None:
        def on_iter():
            if progress.cancelled:
                reg.StopRegistration()  # checked (and raised) after Execute
        reg.AddCommand(sitk.sitkIterationEvent, on_iter)
    try:
        reg.Execute(fixed, moving)
    except RuntimeError as err:
        jobs.check(progress)
        # e.g. too few samples in the heart region: nothing heart-like in view
        raise RegistrationFailed(str(err)) from err
    jobs.check(progress)
    return tx


def template_soft_hu() -> float:
    from ..phantom.params import IntensityParams

    return float(IntensityParams().myocardium)


def template_bone(template: Template) -> np.ndarray:
    """The prior's bone (cortex and enclosed marrow), from its known default levels."""
    key = id(template)
    if key not in _TEMPLATE_BONE:
        from ..phantom.params import IntensityParams
        from .contrast import Levels
        from .partition import bone_mask

        ip = IntensityParams()
        right = ip.right_mix * ip.blood_left
        levels = Levels(left=ip.blood_left, right=right, myocardium=ip.myocardium, fat=ip.fat)
        _TEMPLATE_BONE.clear()
        _TEMPLATE_BONE[key] = (template, bone_mask(template.image.array, levels,
                                                   float(template.image.spacing[0])))
    return _TEMPLATE_BONE[key][1]


_TEMPLATE_BONE: dict = {}


def warp_labels(template: Template, transform: sitk.Transform, reference: sitk.Image) -> sitk.Image:
    """The prior's labels on ``reference``'s grid (nearest neighbour)."""
    return sitk.Resample(template.labels.to_sitk(), reference, transform,
                         sitk.sitkNearestNeighbor, 0, sitk.sitkUInt8)
