"""Moving between the input grid and the coarse isotropic working grid.

The heavy steps (registration, masks, component analysis, blood-pool
partition) run on an isotropic grid of ``working_mm`` (1.6 mm by default):
the input is first block-averaged by integer factors (``BinShrink``: cheap,
and it averages the noise down) and then resampled linearly. Labels come
back to the input grid with nearest-neighbour interpolation and are refined
there against full-resolution intensity classes (:mod:`.refine`).
"""

from __future__ import annotations

import numpy as np
import SimpleITK as sitk

from .. import jobs


def execute(sitk_filter, image: sitk.Image, progress=None, message: str = "") -> sitk.Image:
    """Run a SimpleITK filter with progress and cancellation.

    An aborted filter may raise ``RuntimeError`` (ITK's abort exception) or
    return normally; either way a cancelled job raises ``CancelledError``.
    """
    jobs.sitk_observe(sitk_filter, progress, message)
    try:
        out = sitk_filter.Execute(image)
    except RuntimeError:
        jobs.check(progress)
        raise
    jobs.check(progress)
    return out


def working_grid(image: sitk.Image, working_mm: float) -> sitk.Image:
    """An empty isotropic reference image covering ``image``'s extent."""
    spacing = np.array(image.GetSpacing())
    size = np.array(image.GetSize())
    extent = spacing * size
    new_size = np.maximum(np.round(extent / working_mm).astype(int), 1)
    ref = sitk.Image([int(s) for s in new_size], sitk.sitkUInt8)
    ref.SetSpacing((working_mm,) * 3)
    ref.SetDirection(image.GetDirection())
    # keep the outer faces of the field of view aligned
    start = np.array(image.TransformContinuousIndexToPhysicalPoint([-0.5] * 3))
    d = np.array(image.GetDirection()).reshape(3, 3)
    ref.SetOrigin(tuple(start + d @ (0.5 * np.full(3, working_mm))))
    return ref


def to_working(image: sitk.Image, working_mm: float, progress=None) -> sitk.Image:
    """Block-average then linearly resample ``image`` (float32) to the working grid."""
    spacing = np.array(image.GetSpacing())
    factors = np.maximum(np.floor(working_mm / spacing + 1e-6).astype(int), 1)
    img = sitk.Cast(image, sitk.sitkFloat32)
    if np.any(factors > 1):
        shrink = sitk.BinShrinkImageFilter()
        shrink.SetShrinkFactors([int(f) for f in factors])
        img = execute(shrink, img, progress, "Downsampling the scan")
    ref = working_grid(image, working_mm)
    return sitk.Resample(img, ref, sitk.Transform(), sitk.sitkLinear, -1000.0, sitk.sitkFloat32)


def smooth(image: sitk.Image, sigma_mm: float, progress=None, message: str = "Smoothing") -> sitk.Image:
    """Recursive Gaussian smoothing (object API: reports progress, can abort)."""
    if sigma_mm <= 0:
        return image
    f = sitk.SmoothingRecursiveGaussianImageFilter()
    f.SetSigma(float(sigma_mm))
    return execute(f, image, progress, message)


def labels_to_grid(labels: sitk.Image, reference: sitk.Image) -> sitk.Image:
    """Nearest-neighbour resampling of a label image onto ``reference``'s grid."""
    return sitk.Resample(labels, reference, sitk.Transform(), sitk.sitkNearestNeighbor, 0,
                         sitk.sitkUInt8)


def like(arr: np.ndarray, ref: sitk.Image) -> sitk.Image:
    out = sitk.GetImageFromArray(np.ascontiguousarray(arr))
    out.CopyInformation(ref)
    return out


def prepare(volume, working_mm: float, smooth_mm: float, progress, total: int):
    """Steps 0-1 of both pipelines: the scan on the working grid, smoothed.

    Returns ``(input image, smoothed working image, smoothed array,
    unsmoothed array)``; reports progress steps 0 and 1 of ``total``.
    """
    jobs.report(progress, 0, total, "Preparing the scan")
    image = volume.to_sitk()
    working = to_working(image, working_mm, jobs.SubProgress(progress, 0, 1, total))
    jobs.report(progress, 1, total, "Smoothing")
    smoothed = smooth(working, smooth_mm, jobs.SubProgress(progress, 1, 2, total))
    return image, smoothed, sitk.GetArrayFromImage(smoothed), sitk.GetArrayFromImage(working)
