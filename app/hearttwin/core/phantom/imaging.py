"""From a tissue map to a CT image: Hounsfield units, scanner blur, noise.

The point-spread function is a Gaussian given by its FWHM in millimetres
(converted to voxels per axis, so anisotropic voxels blur correctly); noise
is white Gaussian noise of a given standard deviation in HU, added after the
blur as in a reconstructed image, and drawn from the phantom's seed.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from .params import IntensityParams
from .tissues import hu_table

FWHM_TO_SIGMA = 1.0 / (2.0 * np.sqrt(2.0 * np.log(2.0)))


def tissue_to_hu(tissue: np.ndarray, intensity: IntensityParams) -> np.ndarray:
    """Noise-free HU image (float32) from a tissue-code array."""
    return hu_table(intensity)[tissue]


def blur(image: np.ndarray, spacing, fwhm_mm: float) -> np.ndarray:
    """Gaussian PSF of ``fwhm_mm`` (mm) on an array (z, y, x) with ``spacing`` (x, y, z)."""
    if fwhm_mm <= 0:
        return image
    sigma_mm = fwhm_mm * FWHM_TO_SIGMA
    sigma_vox = [sigma_mm / spacing[2], sigma_mm / spacing[1], sigma_mm / spacing[0]]
    return ndimage.gaussian_filter(image, sigma_vox, mode="nearest", truncate=3.0)


def add_noise(image: np.ndarray, std: float, rng: np.random.Generator) -> np.ndarray:
    """Add white Gaussian noise of ``std`` HU in place (float32) and return the image."""
    if std > 0:
        noise = rng.standard_normal(image.shape, dtype=np.float32)
        noise *= np.float32(std)
        image += noise
    return image


def synthesize(tissue: np.ndarray, spacing, intensity: IntensityParams,
               rng: np.random.Generator) -> np.ndarray:
    """Tissue map -> CT-like HU image (int16, rounded)."""
    hu = blur(tissue_to_hu(tissue, intensity), spacing, intensity.psf_fwhm_mm)
    hu = add_noise(np.asarray(hu, dtype=np.float32), intensity.noise_std, rng)
    np.rint(hu, out=hu)
    return np.clip(hu, -1024, 3071).astype(np.int16)
