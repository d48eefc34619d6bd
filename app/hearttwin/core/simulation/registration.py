"""Heart motion from several CT phases by deformable registration (SimpleITK demons).

When a case has several reconstructed phases of the cardiac cycle, the motion
need not be modelled: each phase is registered to the reference phase (the
one the label map was segmented on) and the resulting displacement fields
become the :class:`~.motion.HeartMotion` of the case, on the same coarse grid
as the model-based motion, so everything downstream (device fit per phase,
warped label maps, Jacobian checks) is the same.

Registration: diffeomorphic demons (SimpleITK filter object API, so progress
and cancel work) on intensity-windowed, lightly smoothed images resampled
onto the motion grid, at two resolutions (twice the grid spacing, then the
grid spacing). Demons with fixed = reference and moving = phase ``p`` give the
displacement ``D`` with ``moving(x + D(x)) ~ reference(x)``: ``x + D(x)`` is
where the reference point ``x`` is at phase ``p`` -- the forward map.
"""

from __future__ import annotations

import numpy as np
import SimpleITK as sitk

from .. import jobs
from ..errors import InputError
from ..imaging.volume import Volume
from .deform import Grid
from .motion import HEART_LABELS, HeartMotion, grid_around_heart

#: HU window the demons forces see: blood pools against myocardium and fat
WINDOW_HU = (-200.0, 600.0)


def _prepared(image: Volume, smooth_mm: float) -> sitk.Image:
    """The image windowed and smoothed (once, for every resolution level)."""
    img = sitk.Cast(image.to_sitk(), sitk.sitkFloat32)
    img = sitk.Clamp(img, sitk.sitkFloat32, *WINDOW_HU)
    if smooth_mm > 0:
        img = sitk.SmoothingRecursiveGaussian(img, smooth_mm)
    return img


def _on_grid(img: sitk.Image, grid: Grid, spacing: float) -> sitk.Image:
    """A prepared image resampled on ``grid``'s box at ``spacing``."""
    extent = (np.array(grid.shape[::-1]) - 1) * grid.spacing
    size = [int(n) for n in np.maximum(np.round(extent / spacing).astype(int) + 1, 2)]
    ref = sitk.Image(size, sitk.sitkFloat32)
    ref.SetSpacing([float(spacing)] * 3)
    ref.SetOrigin([float(v) for v in grid.origin])
    ref.SetDirection([float(v) for v in grid.direction.ravel()])
    return sitk.Resample(img, ref, sitk.Transform(), sitk.sitkLinear, WINDOW_HU[0],
                         sitk.sitkFloat32)


def _demons(fixed, moving, iterations, sigma_vox, initial, progress, message):
    demons = sitk.DiffeomorphicDemonsRegistrationFilter()
    demons.SetNumberOfIterations(int(iterations))
    demons.SetStandardDeviations(float(sigma_vox))
    demons.SetSmoothDisplacementField(True)
    jobs.sitk_observe(demons, progress, message)
    if initial is None:
        field = demons.Execute(fixed, moving)
    else:
        field = demons.Execute(fixed, moving, initial)
    jobs.check(progress)  # Abort() does not raise
    return field


def register_phases(images: list, labels: Volume, phases=None, *, reference: int = 0,
                    grid_mm: float = 3.0, pad_mm: float = 20.0, iterations=(30, 20),
                    sigma_vox: float = 1.5, smooth_mm: float = 1.5,
                    progress=None) -> HeartMotion:
    """Motion of the reference anatomy from CT images of several phases.

    Parameters
    ----------
    images : list of Volume
        CT images (HU) of the phases, same patient position.
    labels : Volume
        Label map segmented on ``images[reference]``.
    phases : array_like, optional
        Cardiac phase of each image in [0, 1); default ``i / len(images)``.
    reference : int
        Index of the phase the label map belongs to.
    grid_mm, pad_mm : float
        Motion grid spacing and margin around the heart labels (mm).
    iterations : (int, int)
        Demons iterations at twice the grid spacing, then at the grid spacing.
    sigma_vox : float
        Smoothing of the displacement field between iterations (grid voxels).
    smooth_mm : float
        Gaussian smoothing of the images before resampling (noise).
    progress : jobs.Progress, optional

    Returns
    -------
    HeartMotion
        With ``method == "registration"``; the reference phase does not move;
        ``fitted_ml`` holds the chamber volumes the registered maps give
        (:meth:`HeartMotion.chamber_volumes_ml`).

    Raises
    ------
    InputError
        Fewer than two images, phases and images of different counts, or a
        label map without heart labels.
    """
    if len(images) < 2:
        raise InputError("Registration needs at least two CT phases.")
    n = len(images)
    phases = np.arange(n) / n if phases is None else np.asarray(phases, float).ravel()
    if len(phases) != n:
        raise InputError(f"{len(phases)} phases given for {n} images.")
    if not 0 <= reference < n:
        raise InputError(f"Reference phase {reference} is out of range (0-{n - 1}).")
    arr = np.asarray(labels.array)
    if not np.any((arr >= min(HEART_LABELS)) & (arr <= max(HEART_LABELS))):
        raise InputError("The label map holds no heart structure (labels 1-7).")
    grid = grid_around_heart(labels, grid_mm, pad_mm)

    levels = (2.0 * grid_mm, grid_mm)
    ref_img = _prepared(images[reference], smooth_mm)
    fixed = [_on_grid(ref_img, grid, sp) for sp in levels]
    fields = np.zeros((n, 3) + grid.shape, np.float32)
    others = [p for p in range(n) if p != reference]
    for done, p in enumerate(others):
        span = jobs.SubProgress(progress, done, done + 1, len(others))
        jobs.report(progress, done, len(others), f"Registering phase {p + 1}/{n}")
        field = None
        img = _prepared(images[p], smooth_mm)
        for level, sp in enumerate(levels):
            moving = _on_grid(img, grid, sp)
            if field is not None:  # upsample the coarse field as the starting point
                field = sitk.Resample(field, fixed[level], sitk.Transform(), sitk.sitkLinear,
                                      0.0, sitk.sitkVectorFloat64)
            sub = jobs.SubProgress(span, level / 2, (level + 1) / 2, 1.0)
            field = _demons(fixed[level], moving, iterations[level], sigma_vox, field, sub,
                            f"Registering phase {p + 1}/{n}")
        disp = sitk.GetArrayFromImage(field)  # (nz, ny, nx, 3), LPS mm
        fields[p] = np.moveaxis(disp, -1, 0)[:, :grid.shape[0], :grid.shape[1], :grid.shape[2]]
    jobs.report(progress, len(others), len(others), "Phases registered")
    motion = HeartMotion(labels=labels, grid=grid, fields=fields, phases=phases,
                         method="registration")
    motion.fitted_ml = motion.chamber_volumes_ml()
    return motion
