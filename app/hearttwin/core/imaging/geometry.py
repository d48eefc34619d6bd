"""Slice geometry: sort slices along the normal, derive spacing, detect gaps and tilt.

The slice normal is the cross product of the row and column direction
cosines (ImageOrientationPatient). Slices are ordered by their position
projected on that normal, never by file name or InstanceNumber; the slice
spacing comes from those projected positions, never from SliceThickness.

A gantry-tilted acquisition has slice origins that drift in-plane as the
table moves; we detect a constant drift and describe the per-slice in-plane
shift that puts the slices on a straight (orthogonal) grid; pixels.py applies it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..errors import GeometryError
from .headers import SliceRecord

#: slices closer than this along the normal are at the same position (mm)
SAME_POSITION_MM = 0.01
#: spacing deviations below this are rounding noise (mm and fraction of spacing)
SPACING_NOISE_MM = 0.01
SPACING_NOISE_FRACTION = 0.002
#: spacing deviations up to this fraction load with a warning; more is an error
SPACING_WARN_FRACTION = 0.05
#: in-plane drift below this fraction of a pixel is ignored
TILT_NOISE_PIXELS = 0.05


@dataclass
class Geometry:
    """Where the sorted slices of one phase sit in LPS space."""

    order: list[int]  # indices into the record list, sorted along the normal
    origin: tuple[float, float, float]
    spacing: tuple[float, float, float]  # (x, y, z) mm
    direction: np.ndarray  # 3x3, columns = i, j, k axes (LPS)
    positions: list[float]  # projected positions along the normal (mm), sorted
    #: per sorted slice, in-plane shift (dx, dy) in pixels to undo a gantry tilt (or None)
    shifts: list[tuple[float, float]] | None = None
    tilt_deg: float = 0.0
    warnings: list[str] = field(default_factory=list)

    @property
    def direction_list(self) -> list[float]:
        return [float(v) for v in self.direction.ravel()]


def normal_of(orientation) -> np.ndarray:
    row = np.asarray(orientation[:3], dtype=float)
    col = np.asarray(orientation[3:], dtype=float)
    return np.cross(row, col)


def fmt_pos(value: float, axial: bool) -> str:
    """How a slice position appears in messages: 'z=12.5 mm' for axial series."""
    return f"z={value:.1f} mm" if axial else f"position {value:.1f} mm along the slice normal"


def fmt_between(a: float, b: float, axial: bool) -> str:
    """'between z=10.0 and z=12.5 mm' (the wording of DESIGN.md)."""
    if axial:
        return f"between z={a:.1f} and z={b:.1f} mm"
    return f"between positions {a:.1f} and {b:.1f} mm along the slice normal"


def check_orientation(name: str, orientation) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Row, column, normal unit vectors; raise if the cosines are not a rotation."""
    row = np.asarray(orientation[:3], dtype=float)
    col = np.asarray(orientation[3:], dtype=float)
    nr, nc = np.linalg.norm(row), np.linalg.norm(col)
    if nr < 0.5 or nc < 0.5 or abs(float(np.dot(row, col))) > 0.01 * nr * nc:
        raise GeometryError(
            f"{name} has an invalid image orientation (row and column directions are not "
            "perpendicular unit vectors); the header is damaged. Re-export the series."
        )
    row, col = row / nr, col / nc
    normal = np.cross(row, col)
    return row, col, normal / np.linalg.norm(normal)


def compute_geometry(name: str, records: list[SliceRecord]) -> Geometry:
    """Sort one phase's slices and derive its regular grid, or raise GeometryError.

    ``name`` identifies the series in messages (e.g. "Series 3 (CTA 0.6)").
    """
    if not records:
        raise GeometryError(f"{name} has no slices.")
    missing = [k for k, r in enumerate(records) if r.position is None or r.orientation is None]
    if missing:
        what = "position/orientation (ImagePositionPatient/ImageOrientationPatient)"
        raise GeometryError(
            f"{name}: {len(missing)} of {len(records)} slices have no {what}, so the slices "
            "cannot be placed in 3D. Export the original series from the scanner or PACS "
            "(not a screen capture or a derived copy)."
        )
    spacings = [r.pixel_spacing for r in records]
    if any(s is None for s in spacings):
        raise GeometryError(
            f"{name} has no pixel spacing (PixelSpacing) on {sum(s is None for s in spacings)} "
            "slices, so sizes in mm are unknown. Export the original series from the scanner or PACS."
        )
    row, col, normal = check_orientation(name, records[0].orientation)
    axial = abs(normal[2]) > 0.9
    ref = np.asarray(records[0].orientation, dtype=float)
    for r in records[1:]:
        if np.max(np.abs(np.asarray(r.orientation) - ref)) > 1e-3:
            raise GeometryError(
                f"{name} mixes slices with different orientations (slice at "
                f"{fmt_pos(float(np.dot(r.position, normal)), axial)}); it is not one 3D volume."
            )
    sy, sx = spacings[0]
    if sx <= 0 or sy <= 0:
        raise GeometryError(f"{name} has a non-positive pixel spacing ({sx} x {sy} mm); the header is damaged.")
    for r in records[1:]:
        if max(abs(r.pixel_spacing[0] - sy), abs(r.pixel_spacing[1] - sx)) > 1e-3 * max(sx, sy):
            raise GeometryError(
                f"{name} mixes slices with different pixel spacings ({sx:g} and "
                f"{r.pixel_spacing[1]:g} mm); it is not one 3D volume."
            )

    pos = np.array([r.position for r in records], dtype=float)
    proj = pos @ normal
    order = [int(i) for i in np.argsort(proj, kind="stable")]
    proj_sorted = proj[order]
    direction = np.column_stack([row, col, normal])
    warnings: list[str] = []
    n = len(order)
    if n == 1:
        sz = records[0].slice_thickness or 1.0
        warnings.append(f"{name} has a single slice; its thickness ({sz:g} mm) is used as slice spacing.")
        return Geometry(order, tuple(pos[order[0]]), (sx, sy, float(sz)), direction,
                        [float(proj_sorted[0])], warnings=warnings)

    gaps = np.diff(proj_sorted)
    dup = np.nonzero(gaps < SAME_POSITION_MM)[0]
    if dup.size:
        k = int(dup[0])
        raise GeometryError(
            f"{name} has more than one slice at {fmt_pos(proj_sorted[k], axial)}; "
            "it is not one 3D volume."
        )
    # nominal step: the typical gap among the small ones (missing slices make big gaps)
    step = _typical_step(gaps)
    _check_spacing(name, gaps, step, proj_sorted, axial, warnings)
    sz = float(proj_sorted[-1] - proj_sorted[0]) / (n - 1)

    # In-plane drift of slice origins: zero for a normal series, linear in the
    # projected position for a gantry tilt, anything else is not a volume.
    rel = pos[order] - pos[order[0]]
    inplane = rel - np.outer(rel @ normal, normal)
    drift_px = np.hypot(inplane @ row / sx, inplane @ col / sy)
    shifts = None
    tilt = 0.0
    if float(drift_px.max()) > TILT_NOISE_PIXELS:
        t = proj_sorted - proj_sorted[0]
        slope_vec = (inplane * t[:, None]).sum(axis=0) / float((t * t).sum())
        resid = inplane - np.outer(t, slope_vec)
        resid_px = np.hypot(resid @ row / sx, resid @ col / sy)
        if float(resid_px.max()) > 0.25:
            k = int(np.argmax(resid_px))
            raise GeometryError(
                f"{name} has slices shifted sideways in an irregular way (slice at "
                f"{fmt_pos(proj_sorted[k], axial)} is off by {float(resid_px[k]):.1f} pixels); "
                "it is not one 3D volume. Re-export the original series."
            )
        tilt = math.degrees(math.atan(float(np.linalg.norm(slope_vec))))
        shifts = [(float(v @ row / sx), float(v @ col / sy)) for v in inplane]
        warnings.append(
            f"{name} was acquired with a gantry tilt of {tilt:.1f} degrees; the slices were "
            "resampled onto a straight grid (interpolated in-plane)."
        )
    return Geometry(order, tuple(float(v) for v in pos[order[0]]), (float(sx), float(sy), sz),
                    direction, [float(v) for v in proj_sorted], shifts, tilt, warnings)


def _typical_step(gaps: np.ndarray) -> float:
    """The most common gap (within 5%; ties go to the smallest), robust to missing slices."""
    close = np.abs(gaps[None, :] - gaps[:, None]) <= 0.05 * gaps[:, None]
    counts = close.sum(axis=1)
    best = np.flatnonzero(counts == counts.max())
    k = best[np.argmin(gaps[best])]
    return float(np.mean(gaps[close[k]]))


def _check_spacing(name, gaps, step, proj, axial, warnings) -> None:
    noise = max(SPACING_NOISE_MM, SPACING_NOISE_FRACTION * step)
    dev = np.abs(gaps - step)
    if float(dev.max()) <= noise:
        return
    for k in np.nonzero(dev > noise)[0]:
        ratio = gaps[k] / step
        if ratio > 1.5 and abs(ratio - round(ratio)) < 0.2:
            missing = int(round(ratio)) - 1
            what = "a missing slice" if missing == 1 else f"{missing} missing slices"
            raise GeometryError(
                f"{name} has {what} {fmt_between(proj[k], proj[k + 1], axial)} (slices are {step:.2f} mm apart elsewhere). "
                "Re-export the complete series from the scanner or PACS."
            )
    if float(dev.max()) <= SPACING_WARN_FRACTION * step:
        warnings.append(
            f"{name} has slightly irregular slice spacing ({gaps.min():.3f} to {gaps.max():.3f} mm); "
            "the average spacing is used (error below 5%)."
        )
        return
    k = int(np.argmax(dev))
    raise GeometryError(
        f"{name} has irregular slice spacing: {gaps[k]:.2f} mm {fmt_between(proj[k], proj[k + 1], axial)}, while most slices are {step:.2f} mm apart. "
        "It cannot be loaded as a regular volume; re-export the original series."
    )
