"""Implicit shapes: approximate signed distance functions on a :class:`Box`.

Every shape knows its LPS bounding box (``lo``, ``hi``) and evaluates an
approximate signed distance in mm (negative inside) on the voxels of a box,
as a float32 array. Shapes are only ever evaluated inside their own bounds,
which keeps the phantom fast: a vessel segment touches a few thousand voxels,
not the whole volume.
"""

from __future__ import annotations

import numpy as np

from .grid import Box

#: "far outside" value for voxels a shape does not reach
FAR = np.float32(1e4)


class Shape:
    """Base class: bounds plus a signed distance evaluated on a box."""

    lo: np.ndarray
    hi: np.ndarray

    def sdf(self, box: Box) -> np.ndarray:  # pragma: no cover - interface
        raise NotImplementedError

    def evaluate(self, box: Box) -> np.ndarray:
        """Signed distance on ``box``: FAR where the shape's bounds do not reach."""
        out = np.full(box.shape, FAR, dtype=np.float32)
        sub = box.sub(self.lo, self.hi)
        if sub is not None:
            out[sub.within(box)] = self.sdf(sub)
        return out


def _local(box: Box, centre, axes) -> list[np.ndarray]:
    """Coordinates along the columns of ``axes`` (3x3, LPS unit vectors)."""
    dx, dy, dz = box.centred(centre)
    a = np.asarray(axes, dtype=np.float32)
    return [dx * a[0, k] + dy * a[1, k] + dz * a[2, k] for k in range(3)]


def _rotated_half_extent(axes, radii) -> np.ndarray:
    a = np.asarray(axes, dtype=float)
    return np.sqrt(((a * np.asarray(radii, dtype=float)) ** 2).sum(axis=1))


class Ellipsoid(Shape):
    """An ellipsoid, optionally cut by half-spaces.

    Parameters
    ----------
    centre : array_like
        LPS centre (mm).
    radii : array_like
        Semi-axes (mm) along the columns of ``axes``.
    axes : array_like, optional
        3x3 matrix whose columns are the (orthonormal) LPS directions of the
        semi-axes; identity by default.
    cuts : list of (point, normal), optional
        Keep only where ``(p - point) . normal <= 0``.
    """

    def __init__(self, centre, radii, axes=None, cuts=()) -> None:
        self.centre = np.asarray(centre, dtype=float)
        self.radii = np.asarray(radii, dtype=float)
        self.axes = np.eye(3) if axes is None else np.asarray(axes, dtype=float)
        self.cuts = [(np.asarray(p, float), np.asarray(n, float) / np.linalg.norm(n))
                     for p, n in cuts]
        ext = _rotated_half_extent(self.axes, self.radii)
        self.lo, self.hi = self.centre - ext, self.centre + ext

    def sdf(self, box: Box) -> np.ndarray:
        u = _local(box, self.centre, self.axes)
        r = self.radii.astype(np.float32)
        k0 = np.sqrt((u[0] / r[0]) ** 2 + (u[1] / r[1]) ** 2 + (u[2] / r[2]) ** 2)
        k1 = np.sqrt((u[0] / r[0] ** 2) ** 2 + (u[1] / r[1] ** 2) ** 2 + (u[2] / r[2] ** 2) ** 2)
        # gradient-normalised distance estimate (exact on the axes, good near the surface)
        d = k0 * (k0 - 1.0) / np.maximum(k1, 1e-6)
        for p, n in self.cuts:
            dx, dy, dz = box.centred(p)
            d = np.maximum(d, dx * n[0] + dy * n[1] + dz * n[2])
        return d.astype(np.float32, copy=False)


class SuperEllipsoid(Shape):
    """An axis-aligned superellipsoid ``sum |u_i / r_i|^p = 1`` (p = 2: ellipsoid).

    A radius of ``inf`` along z gives an infinite prism (a body cross-section).
    """

    def __init__(self, centre, radii, power: float = 2.0, zrange=None) -> None:
        self.centre = np.asarray(centre, dtype=float)
        self.radii = np.asarray(radii, dtype=float)
        self.power = float(power)
        ext = np.where(np.isfinite(self.radii), self.radii, 1e5)
        self.lo, self.hi = self.centre - ext, self.centre + ext
        if zrange is not None:
            self.lo[2], self.hi[2] = max(self.lo[2], zrange[0]), min(self.hi[2], zrange[1])

    def sdf(self, box: Box) -> np.ndarray:
        p = self.power
        dx, dy, dz = box.centred(self.centre)
        terms = [np.abs(d / np.float32(r)) ** p for d, r in zip((dx, dy, dz), self.radii)
                 if np.isfinite(r)]
        f = sum(terms[1:], terms[0]) ** (1.0 / p)
        rmin = np.float32(np.min(self.radii[np.isfinite(self.radii)]))
        d = (f - 1.0) * rmin
        return np.broadcast_to(d, box.shape).astype(np.float32)


class Tube(Shape):
    """A swept tube: round cones along a polyline, radius varying per point.

    Parameters
    ----------
    points : (N, 3) array_like
        Centreline in LPS mm (N >= 2).
    radii : float or (N,) array_like
        Radius at each centreline point.
    flat_start, flat_end : bool
        Cut the tube flat (perpendicular to the centreline) at its ends
        instead of rounding it: vessels that start at a valve plane.
    squash : (direction, factor), optional
        Flatten the cross-section along ``direction`` by ``factor`` (< 1):
        an elliptic tube with semi-axes ``r`` and ``factor * r`` where the
        centreline is perpendicular to ``direction``.
    """

    def __init__(self, points, radii, flat_start=False, flat_end=False, squash=None) -> None:
        self.points = np.asarray(points, dtype=float)
        self.radii = np.broadcast_to(np.asarray(radii, dtype=float), (len(self.points),)).copy()
        self.flat_start, self.flat_end = flat_start, flat_end
        self.squash = None
        if squash is not None:
            n = np.asarray(squash[0], float)
            self.squash = (n / np.linalg.norm(n), float(squash[1]))
        r = self.radii.max()
        self.lo = self.points.min(axis=0) - r
        self.hi = self.points.max(axis=0) + r

    def _to_space(self, x, y, z):
        """Map coordinates into the space where the cross-section is circular."""
        if self.squash is None:
            return x, y, z
        n, k = self.squash
        s = (x * n[0] + y * n[1] + z * n[2]) * np.float32(1.0 / k - 1.0)
        return x + s * n[0], y + s * n[1], z + s * n[2]

    def sdf(self, box: Box) -> np.ndarray:
        out = np.full(box.shape, FAR, dtype=np.float32)
        pts = self.points
        tp = np.array([self._to_space(*p) for p in pts]) if self.squash else pts
        for a, b, ra, rb, pa, pb in zip(tp[:-1], tp[1:], self.radii[:-1], self.radii[1:],
                                        pts[:-1], pts[1:]):
            r = max(ra, rb)
            lo = np.minimum(pa, pb) - r / (self.squash[1] if self.squash else 1.0)
            hi = np.maximum(pa, pb) + r / (self.squash[1] if self.squash else 1.0)
            sub = box.sub(lo, hi)
            if sub is None:
                continue
            x, y, z = self._to_space(sub.x, sub.y, sub.z)
            ab = (b - a).astype(np.float32)
            length2 = max(float(ab @ ab), 1e-9)
            px, py, pz = x - np.float32(a[0]), y - np.float32(a[1]), z - np.float32(a[2])
            t = np.clip((px * ab[0] + py * ab[1] + pz * ab[2]) / np.float32(length2), 0.0, 1.0)
            qx, qy, qz = px - t * ab[0], py - t * ab[1], pz - t * ab[2]
            d = np.sqrt(qx * qx + qy * qy + qz * qz) - (np.float32(ra) + t * np.float32(rb - ra))
            view = out[sub.within(box)]
            np.minimum(view, d, out=view)
        if self.flat_start:
            self._cap(box, out, 0, 1)
        if self.flat_end:
            self._cap(box, out, -1, -2)
        return out

    def _cap(self, box: Box, out: np.ndarray, i_end: int, i_next: int) -> None:
        """Cut everything behind the end plane, near that end."""
        p = self.points[i_end]
        t = self.points[i_end] - self.points[i_next]
        t /= np.linalg.norm(t)
        reach = 2.5 * self.radii[i_end] / (self.squash[1] if self.squash else 1.0)
        sub = box.sub(p - reach, p + reach)
        if sub is None:
            return
        dx, dy, dz = sub.centred(p)
        behind = dx * t[0] + dy * t[1] + dz * t[2]  # > 0 beyond the end plane
        near = dx * dx + dy * dy + dz * dz < np.float32(reach * reach)
        view = out[sub.within(box)]
        np.copyto(view, np.maximum(view, behind), where=near)


class Offset(Shape):
    """A shape grown (``distance`` > 0) or shrunk by a distance in mm."""

    def __init__(self, shape: Shape, distance: float) -> None:
        self.shape, self.distance = shape, float(distance)
        self.lo = shape.lo - max(self.distance, 0.0)
        self.hi = shape.hi + max(self.distance, 0.0)

    def sdf(self, box: Box) -> np.ndarray:
        return self.shape.evaluate(box) - np.float32(self.distance)


class Union(Shape):
    """Union of shapes, blended over ``blend`` mm (0: plain minimum)."""

    def __init__(self, shapes, blend: float = 0.0) -> None:
        self.shapes = [s for s in shapes if s is not None]
        self.blend = float(blend)
        self.lo = np.min([s.lo for s in self.shapes], axis=0) - self.blend
        self.hi = np.max([s.hi for s in self.shapes], axis=0) + self.blend

    def sdf(self, box: Box) -> np.ndarray:
        out = np.full(box.shape, FAR, dtype=np.float32)
        k = np.float32(self.blend)
        for s in self.shapes:
            sub = box.sub(s.lo - self.blend, s.hi + self.blend)
            if sub is None:
                continue
            view = out[sub.within(box)]
            d = s.evaluate(sub)
            if k > 0:
                # polynomial smooth minimum: a fillet of radius ~k where shapes meet
                h = np.clip(0.5 + 0.5 * (view - d) / k, 0.0, 1.0)
                view[...] = view + (d - view) * h - k * h * (1.0 - h)
            else:
                np.minimum(view, d, out=view)
        return out


class Subtract(Shape):
    """``base`` with ``cutter`` removed."""

    def __init__(self, base: Shape, cutter: Shape) -> None:
        self.base, self.cutter = base, cutter
        self.lo, self.hi = base.lo, base.hi

    def sdf(self, box: Box) -> np.ndarray:
        return np.maximum(self.base.sdf(box), -self.cutter.evaluate(box))
