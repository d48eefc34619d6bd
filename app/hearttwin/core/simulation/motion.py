"""Heart motion over the cardiac cycle from one CT phase (or from several).

:meth:`HeartMotion.fit` deforms the reference anatomy (the label map of the
CT phase) so that the LV, RV, LA and RA blood pools follow given volume
curves (mL, e.g. from the 0D circulation) and the aortic annulus and root
dilate with aortic pressure. The motion of phase ``p`` is the unit-time flow
of the velocity field

    v_p(x) = sum_k A[p, k] * B_k(x)

with fixed basis fields ``B_k`` on a coarse grid (:mod:`.motion_basis`: one
potential-flow contraction per chamber, one root dilation), so it is smooth
and invertible. The chamber coefficients are solved per phase (a
Broyden iteration on the log volumes) so that each chamber's volume, the
integral of the Jacobian determinant over its reference voxels (midpoint
rule), meets the curve within ``MotionSettings.tolerance``.
:meth:`HeartMotion.label_volumes_ml` counts the voxels of the warped label
map instead, which is the independent check.

Each phase's displacement is kept on the grid, so evaluating a point set at
every phase is one trilinear interpolation (:meth:`HeartMotion.displacements`).
:func:`hearttwin.core.simulation.registration.register_phases` builds the same
object from several CT phases by image registration.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from .. import jobs
from ..errors import InputError, ProcessingError
from ..imaging.volume import Volume
from . import deform, label_warp
from .deform import Grid
from .motion_basis import (VolumeSolver, chamber_basis, find_annulus, fit_phase, freeze_in_root,
                           label_points, mask_box, root_fields)

#: chamber key -> label (DESIGN.md)
CHAMBERS = {"LV": 1, "RV": 2, "LA": 3, "RA": 4}
HEART_LABELS = (1, 2, 3, 4, 5, 6, 7)


@dataclass
class MotionSettings:
    """Options of the model-based motion.

    Attributes
    ----------
    grid_mm : float
        Spacing of the displacement grid (mm).
    pad_mm : float
        Margin of the grid around the heart labels (mm).
    smoothing_mm : float
        Extra Gaussian smoothing of the chamber sources (mm).
    core_power : float
        Chamber sources are weighted by ``(depth / max depth) ** core_power``:
        the walls then move in through a region of little source, so the
        myocardium keeps more of its volume (at ``1``, about -14 % at an EF of
        60 % instead of -30 % with uniform sources, 0) while the blood core is
        compressed more. If that folds, the fit falls back to 0.
    root_compliance : float
        Aortic root (and annulus) area change per mmHg, as a fraction of the
        area at the CT phase's pressure: 0.001 gives +4 % over a 40 mmHg pulse
        pressure.
    ct_phase : float
        Cardiac phase of the CT (0 = end-diastole); the root is at its
        reference size at the aortic pressure of this phase.
    targets : {"absolute", "relative"}
        "absolute": the chambers follow the curves in mL; "relative": they
        follow ``V_ct * curve(phase) / curve(ct_phase)``.
    max_samples : int
        Voxels per chamber used to integrate volumes (a regular subsample
        beyond that; weights keep the exact voxel volume).
    basis_points : int
        Voxels per chamber splatted onto the grid to build its motion field (a
        regular subsample beyond that; a coarse grid needs few).
    tolerance : float
        Largest relative error of the fitted (Jacobian-integral) volumes.
    """

    grid_mm: float = 4.0
    pad_mm: float = 20.0
    smoothing_mm: float = 0.0
    core_power: float = 1.0
    root_compliance: float = 0.001
    ct_phase: float = 0.0
    targets: str = "absolute"
    max_samples: int = 40_000
    basis_points: int = 2_000_000
    tolerance: float = 0.005


def grid_around_heart(labels: Volume, grid_mm: float, pad_mm: float) -> Grid | None:
    """The displacement grid over the bounding box of the heart labels (else of all labels).

    None when the label map is empty.
    """
    arr = np.asarray(labels.array)
    heart = (arr >= min(HEART_LABELS)) & (arr <= max(HEART_LABELS))
    box = mask_box(heart) or mask_box(arr > 0)
    if box is None:
        return None
    lo = labels.index_to_lps(np.array([b.start for b in box[::-1]], float))
    hi = labels.index_to_lps(np.array([b.stop - 1 for b in box[::-1]], float))
    return Grid.around(labels, lo, hi, grid_mm, pad_mm)


@dataclass
class HeartMotion:
    """Displacement of the reference anatomy at each phase (see module doc)."""

    labels: Volume
    grid: Grid
    fields: np.ndarray           # (P, 3, nz, ny, nx) float32 forward displacement, LPS mm
    phases: np.ndarray           # (P,)
    basis: np.ndarray | None = None    # (K, 3, nz, ny, nx) velocity basis (model)
    coeffs: np.ndarray | None = None   # (P, K) velocity coefficients (model)
    basis_names: list[str] = field(default_factory=list)
    method: str = "model"
    targets_ml: dict = field(default_factory=dict)
    fitted_ml: dict = field(default_factory=dict)
    annulus: dict | None = None
    root_scale: np.ndarray | None = None   # (P,) cross-section linear scale (1 + e)
    warnings: list[str] = field(default_factory=list)
    _inverse: dict = field(default_factory=dict, repr=False)
    _rows: np.ndarray | None = field(default=None, repr=False)

    # ------------------------------------------------------------------ fitting
    @classmethod
    def fit(cls, labels: Volume, volume_curves: dict, aortic_pressure=None, phases=None, *,
            settings: MotionSettings | None = None, progress=None) -> "HeartMotion":
        """Fit the model-based motion to chamber volume curves.

        Parameters
        ----------
        labels : Volume
            Label map of the CT phase (DESIGN.md labels).
        volume_curves : dict
            ``{"LV": array(P), "RV": ..., "LA": ..., "RA": ...}`` in mL at
            ``phases``; chambers left out move only passively.
        aortic_pressure : array_like (P,), optional
            Aortic pressure (mmHg) at ``phases``; without it the root keeps
            its size.
        phases : array_like (P,), optional
            Phases in [0, 1); default ``i / P``.
        settings : MotionSettings, optional
        progress : jobs.Progress, optional

        Returns
        -------
        HeartMotion

        Raises
        ------
        InputError
            Curves of different lengths, non-positive volumes, a curve for a
            chamber the label map lacks.
        ProcessingError
            No motion reaches the volumes without folding.
        """
        s = settings or MotionSettings()
        if s.targets not in ("absolute", "relative"):
            raise InputError(f"Volume targets must be 'absolute' or 'relative', not {s.targets!r}.")
        names = [k for k in CHAMBERS if k in volume_curves]
        unknown = set(volume_curves) - set(CHAMBERS)
        if unknown:
            raise InputError(f"Unknown chamber(s) {sorted(unknown)} in the volume curves; "
                             f"use {', '.join(CHAMBERS)}.")
        if not names:
            raise InputError("Give at least one chamber volume curve (LV, RV, LA or RA).")
        curves = {k: np.asarray(volume_curves[k], float).ravel() for k in names}
        n = len(curves[names[0]])
        if any(len(c) != n for c in curves.values()) or n < 1:
            raise InputError("All chamber volume curves need the same number of phases.")
        if any(np.any(~np.isfinite(c)) or np.any(c <= 0) for c in curves.values()):
            raise InputError("Chamber volumes must be positive numbers (mL).")
        phases = np.arange(n) / n if phases is None else np.asarray(phases, float).ravel()
        if len(phases) != n:
            raise InputError(f"{len(phases)} phases given for volume curves of {n} values.")
        arr = np.asarray(labels.array)
        counts = {k: int(np.count_nonzero(arr == CHAMBERS[k])) for k in names}
        missing = [k for k in names if counts[k] == 0]
        if missing:
            raise InputError(f"The label map has no {', '.join(missing)}: segment it or drop "
                             "its volume curve.")
        jobs.report(progress, 0, 10, "Building the heart motion model")
        grid = grid_around_heart(labels, s.grid_mm, s.pad_mm)

        bases = []
        for i, k in enumerate(names):
            jobs.report(progress, 1 + i, 10, f"Motion field of the {k}")
            bases.append(chamber_basis(labels, CHAMBERS[k], grid, s.smoothing_mm,
                                       s.core_power, max_points=s.basis_points))
        annulus = find_annulus(labels)
        warnings = []
        if annulus is not None:
            weight, dil = root_fields(grid, annulus)
            bases = [freeze_in_root(b, grid, weight, annulus["centre_lps"]) for b in bases]
            bases.append(dil)
        elif aortic_pressure is not None:
            warnings.append("No LV-aorta contact in the label map: the aortic root does not "
                            "dilate with pressure.")
        basis = np.stack(bases)
        names_k = names + (["root"] if annulus is not None else [])

        root_e = np.zeros(n)
        if annulus is not None and aortic_pressure is not None:
            pressure = np.asarray(aortic_pressure, float).ravel()
            if len(pressure) != n:
                raise InputError(f"The aortic pressure has {len(pressure)} values for {n} "
                                 "phases.")
            p_ref = float(np.interp(s.ct_phase, phases, pressure, period=1.0))
            area = 1.0 + s.root_compliance * (pressure - p_ref)
            if np.any(area <= 0.5):
                raise InputError("The root compliance makes the aortic root area collapse; "
                                 "use a value of a few tenths of a percent per mmHg.")
            root_e = np.sqrt(area) - 1.0

        targets = {}
        for k in names:
            v_ct = counts[k] * labels.voxel_volume_mm3 / 1000.0
            c = curves[k]
            at_ct = float(np.interp(s.ct_phase, phases, c, period=1.0))
            if s.targets == "relative":
                targets[k] = v_ct * c / at_ct
            else:
                targets[k] = c
                if abs(at_ct / v_ct - 1.0) > 0.2:
                    warnings.append(f"The {k} volume curve gives {at_ct:.0f} mL at the CT phase "
                                    f"but the segmentation holds {v_ct:.0f} mL.")
        jobs.report(progress, 6, 10, "Fitting the chamber volumes")
        regions = [label_points(labels, CHAMBERS[k], s.max_samples) for k in names]
        samples = deform.RegionVolumes(grid, regions, fov=labels)
        v_ct = np.array([w.sum() for _, w in regions])
        coeffs = np.zeros((n, len(names_k)))
        fields = np.zeros((n, 3) + grid.shape, np.float32)
        fitted = {k: np.zeros(n) for k in names}
        if annulus is not None:
            coeffs[:, -1] = np.log1p(root_e)  # the flow of e * radial scales by exp(e)
        log_target = np.log(np.array([targets[k] for k in names]).T * 1000.0 / v_ct)  # (P, K)
        solver = VolumeSolver(len(names))
        # mild phases first: later ones then interpolate rather than extrapolate
        try:
            for done, p in enumerate(np.argsort(np.abs(log_target).max(axis=1))):
                jobs.report(progress, 6 + 4 * done / n, 10, f"Fitting phase {done + 1}/{n}")
                fields[p], vols = fit_phase(basis, grid, samples, v_ct, log_target[p],
                                            coeffs[p], solver, s.tolerance, progress)
                for i, k in enumerate(names):
                    fitted[k][p] = vols[i] / 1000.0
            if min(deform.jacobian_min(f, grid) for f in fields) <= 0.0:
                raise ProcessingError("The heart motion folds at some phase; check that the "
                                      "volume curves are plausible for this anatomy.")
        except ProcessingError:
            if s.core_power <= 0:
                raise
            # a source spread evenly over the chambers compresses their core less
            motion = cls.fit(labels, volume_curves, aortic_pressure, phases,
                             settings=replace(s, core_power=0.0), progress=progress)
            motion.warnings.append("The chamber cores could not take the contraction: the "
                                   "motion uses uniform chamber sources (thinner walls).")
            return motion
        motion = cls(labels=labels, grid=grid, fields=fields, phases=phases, basis=basis,
                     coeffs=coeffs, basis_names=names_k, targets_ml=targets, fitted_ml=fitted,
                     annulus=annulus, root_scale=1.0 + root_e, warnings=warnings)
        jobs.report(progress, 10, 10, "Heart motion ready")
        return motion

    @classmethod
    def from_phases(cls, images: list, labels: Volume, phases=None, **kwargs) -> "HeartMotion":
        """Motion from several CT phases by registration (see :mod:`.registration`)."""
        from .registration import register_phases

        return register_phases(images, labels, phases, **kwargs)

    # --------------------------------------------------------------- evaluation
    @property
    def n_phases(self) -> int:
        return len(self.phases)

    def phase_field(self, phase_index: int) -> np.ndarray:
        """Forward displacement of a phase on the grid, (3, nz, ny, nx) LPS mm."""
        return self.fields[int(phase_index)]

    def inverse_field(self, phase_index: int) -> np.ndarray:
        """Inverse displacement of a phase on the grid (flow of -v, or fixed point)."""
        key = int(phase_index)
        if key not in self._inverse:
            if self.coeffs is not None:
                v = np.tensordot(self.coeffs[key].astype(np.float32), self.basis, axes=1)
                self._inverse[key] = deform.exponentiate(-v, self.grid)
            else:
                self._inverse[key] = deform.invert(self.fields[key], self.grid)
        return self._inverse[key]

    def sampler(self, points_lps) -> deform.PointSampler:
        """Interpolation weights of a point set, reusable across calls and phases."""
        return deform.PointSampler(self.grid, np.asarray(points_lps, float).reshape(-1, 3))

    def displacements(self, points_lps) -> np.ndarray:
        """Displacement (mm) of reference points at every phase, (P, N, 3).

        ``points_lps`` may also be a :meth:`sampler` made earlier for the
        same points.
        """
        if self._rows is None:  # (nodes, P * 3): all phases in one sparse product
            self._rows = deform.field_rows(self.fields.reshape(-1, *self.grid.shape))
        s = points_lps if isinstance(points_lps, deform.PointSampler) else self.sampler(points_lps)
        u = s.values(self._rows)
        return u.reshape(-1, self.n_phases, 3).transpose(1, 0, 2)

    def displacement(self, points_lps, phase_index: int) -> np.ndarray:
        """Displacement (mm) of reference points at one phase, (N, 3) (or a :meth:`sampler`)."""
        self._check_phase(phase_index)
        s = points_lps if isinstance(points_lps, deform.PointSampler) else self.sampler(points_lps)
        return s.values(deform.field_rows(self.phase_field(phase_index)))

    def warp_points(self, points_lps, phase_index: int) -> np.ndarray:
        """Reference points moved to ``phase_index``."""
        pts = np.asarray(points_lps, float).reshape(-1, 3)
        return pts + self.displacement(pts, phase_index)

    def jacobian_min(self, phase_index: int) -> float:
        """Smallest Jacobian determinant of the phase's map over the grid."""
        self._check_phase(phase_index)
        return deform.jacobian_min(self.phase_field(phase_index), self.grid)

    def warp_labels(self, phase_index: int, progress=None) -> Volume:
        """The reference label map deformed to ``phase_index`` (see :mod:`.label_warp`)."""
        self._check_phase(phase_index)
        out = label_warp.warp_labels(self.labels, self.phase_field(phase_index),
                                     self.inverse_field(phase_index), self.grid, progress)
        out.meta["phase"] = float(self.phases[int(phase_index)])
        return out

    def chamber_volumes_ml(self, max_samples: int = 20_000) -> dict:
        """Chamber volumes (mL) at every phase, ``{"LV": (P,), ...}``, from the map's Jacobian.

        The integral of ``det(I + grad u)`` over each chamber's reference voxels
        (points carried out of the image do not count), as the model fit
        measures them; for any motion, e.g. one from registration.
        """
        arr = np.asarray(self.labels.array)
        names = [k for k, lab in CHAMBERS.items() if np.any(arr == lab)]
        if not names:
            return {}
        regions = [label_points(self.labels, CHAMBERS[k], max_samples) for k in names]
        sampler = deform.RegionVolumes(self.grid, regions, fov=self.labels)
        vols = np.array([sampler.volumes(f) for f in self.fields]) / 1000.0  # (P, K)
        return {k: vols[:, i] for i, k in enumerate(names)}

    def label_volumes_ml(self, phase_index: int, warped: Volume | None = None) -> dict:
        """Volumes (mL) of the 7 structures in the warped label map (voxel counts)."""
        warped = warped if warped is not None else self.warp_labels(phase_index)
        counts = np.bincount(np.asarray(warped.array).ravel().astype(np.intp), minlength=8)
        keys = {"LV": 1, "RV": 2, "LA": 3, "RA": 4, "MYO": 5, "AO": 6, "PA": 7}
        return {k: float(counts[v] * warped.voxel_volume_mm3 / 1000.0) for k, v in keys.items()}

    def _check_phase(self, phase_index: int) -> None:
        if not 0 <= int(phase_index) < self.n_phases:
            raise InputError(f"Phase index {phase_index} is out of range (0-{self.n_phases - 1}).")
