"""Size limits checked against *declared* image sizes before any pixel memory is allocated.

A damaged or hostile header can declare a 65535 x 65535 image with 10^6
frames; allocating that first and failing later would take the machine down
(or hang it in swap). Every loader in this package asks :func:`check_volume`
before it allocates the output array.

The memory limit defaults to 8 GiB of output voxels and can be changed with
the ``HEARTTWIN_MAX_VOLUME_MB`` environment variable or by passing a
:class:`Limits` to the loaders.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from ..errors import CorruptDataError, UnsupportedDataError

_MIB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """Hard limits on what a loader accepts."""

    #: largest plausible Rows or Columns of one CT image
    max_dim: int = 4096
    #: largest plausible number of slices/frames in one series
    max_slices: int = 20000
    #: largest output volume, in bytes
    max_volume_bytes: int = 8 * 1024 * _MIB

    @classmethod
    def from_env(cls) -> "Limits":
        value = os.environ.get("HEARTTWIN_MAX_VOLUME_MB", "").strip()
        if value:
            try:
                mb = float(value)
            except ValueError:
                mb = 0
            if mb > 0:
                return cls(max_volume_bytes=int(mb * _MIB))
        return cls()


def check_image_dims(where: str, rows: int, cols: int, frames: int, limits: Limits) -> None:
    """Reject implausible declared image dimensions (``where`` names the series)."""
    if rows <= 0 or cols <= 0:
        raise CorruptDataError(
            f"{where} declares an empty image ({rows} rows x {cols} columns); "
            "the file header is damaged. Re-export the series."
        )
    if rows > limits.max_dim or cols > limits.max_dim:
        raise CorruptDataError(
            f"{where} declares an implausible image size of {cols} x {rows} pixels "
            f"(limit {limits.max_dim} x {limits.max_dim}); the header is probably damaged. "
            "Re-export the series."
        )
    if frames <= 0 or frames > limits.max_slices:
        raise CorruptDataError(
            f"{where} declares an implausible number of frames ({frames}); "
            "the header is probably damaged. Re-export the series."
        )


def check_volume(where: str, shape_zyx: tuple[int, int, int], itemsize: int, limits: Limits) -> None:
    """Raise before allocating a volume larger than the configured memory limit."""
    nz, ny, nx = (int(v) for v in shape_zyx)
    check_image_dims(where, ny, nx, max(nz, 1), limits)
    needed = nz * ny * nx * itemsize
    if needed > limits.max_volume_bytes:
        raise UnsupportedDataError(
            f"{where} would need {needed / _MIB:,.0f} MiB of memory ({nx} x {ny} x {nz} voxels), "
            f"more than the limit of {limits.max_volume_bytes / _MIB:,.0f} MiB. Choose a smaller "
            "series or raise the limit with HEARTTWIN_MAX_VOLUME_MB."
        )
