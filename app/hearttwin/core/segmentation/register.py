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
   ratio may differ from the prior's.

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


def affine(scan: sitk.Image, template: Template, translation: np.ndarray, progress=None,
           iterations: int = 60) -> sitk.Transform:
    """Affine transform (scan -> prior) refined by mutual information."""
    fixed = sitk.Clamp(sitk.Cast(scan, sitk.sitkFloat32), sitk.sitkFloat32, -300.0, 800.0)
    moving = sitk.Clamp(template.image.to_sitk(), sitk.sitkFloat32, -300.0, 800.0)
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


def warp_labels(template: Template, transform: sitk.Transform, reference: sitk.Image) -> sitk.Image:
    """The prior's labels on ``reference``'s grid (nearest neighbour)."""
    return sitk.Resample(template.labels.to_sitk(), reference, transform,
                         sitk.sitkNearestNeighbor, 0, sitk.sitkUInt8)
