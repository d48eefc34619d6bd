"""A device's fit over the cardiac cycle on a virtual patient (reduced motion model).

Motion model (stated, reduced): the aortic root and annulus scale radially
with the proximal aortic pressure of the patient's native 0D beat. At phase
``t`` the in-plane scale factors of the patient are multiplied by::

    lambda(t) = sqrt(1 + strain * (P(t) - P(0)) / (P_max - P_min))

where ``strain`` is the patient's annulus area strain over one pulse
pressure (:data:`~.distributions.ANATOMY`), ``P(0)`` the pressure at the CT
phase (end-diastole, phase 0). The field is the base field seen through the
scaling (:class:`~.scaled.ScaledField`), so a phase costs one static fit
(a few ms), never a field rebuild. The device pose stays where automatic
placement put it at phase 0; the annulus it is sized against is the
phase's scaled annulus. The penetration is not split into myocardium and
other wall (:data:`LABEL_METRICS`): the tissue-label queries cost 40 % of a
fit and the catalogue's rules do not use the split.

Worst phase: for a metric with a fit rule, the phase with the smallest
margin to the rule's pass range (negative when outside it), i.e. the worst
verdict and, among equal verdicts, the value nearest the next worse one;
for a metric without a rule, :data:`WORSE` says whether high or low is worse.
"""

from __future__ import annotations

import numpy as np

from ..core.devices.fit import static_fit
from ..core.devices.placement import auto_place
from ..core.devices.plan import applicable
from ..core.devices.sizing import recommend_size
from .scaled import ScaledField, anchor_frame, scale_ostia, scale_ring, scale_sizing

#: phases per cycle of the cohort's fit (0, 0.1, ..., 0.9)
DEFAULT_PHASES = 10
#: rays around the device per sealing level and ring (the plan's default resolution)
DEFAULT_AROUND = 72
#: penetration split by tissue label: not computed by the cohort (see ScaledField labels)
LABEL_METRICS = ("max_penetration_myocardium_mm", "max_penetration_wall_mm")
#: metrics without a rule: +1 higher is worse, -1 lower is worse
WORSE = {"max_gap_mm": 1, "gap_area_mm2": 1, "max_penetration_mm": 1,
         "max_penetration_myocardium_mm": 1, "max_penetration_wall_mm": 1,
         "compression_percent": 1, "eccentricity_device": 1, "apposition_percent": -1,
         "apposition_mean_level_percent": -1, "apposition_worst_level_percent": -1,
         "expansion_percent": -1, "coronary_distance_left_mm": -1,
         "coronary_distance_right_mm": -1, "oversizing_area_percent": -1,
         "oversizing_perimeter_percent": -1, "implant_depth_mm": 1}


def cycle_phases(n: int = DEFAULT_PHASES) -> np.ndarray:
    return np.arange(int(n)) / float(n)


def radial_scales(aortic_mmhg, strain: float) -> np.ndarray:
    """lambda(t) of the module docstring for pressures ``aortic_mmhg`` at the phases."""
    p = np.asarray(aortic_mmhg, float)
    pulse = max(float(p.max() - p.min()), 1e-6)
    return np.sqrt(np.maximum(1.0 + float(strain) * (p - p[0]) / pulse, 0.25))


class PatientAnatomy:
    """One virtual patient on one base entry (anchor + field): scaled views per phase."""

    def __init__(self, entry, patient):
        a = entry.anchor
        self.entry = entry
        self.patient = patient
        self.centre = np.asarray(a.centre, float)
        self.frame = anchor_frame(a.axis, a.ring.get("major_axis_lps", a.reference))
        self.scales = patient.scales

    def phase_scales(self, lam: float) -> np.ndarray:
        return self.scales * np.array([lam, lam, 1.0])

    def ring(self, lam: float = 1.0) -> dict:
        return scale_ring(self.entry.anchor.ring, self.phase_scales(lam))

    def sizing(self, lam: float = 1.0) -> dict:
        return scale_sizing(self.entry.anchor.sizing, self.entry.anchor.ring, self.phase_scales(lam))

    def field(self, lam: float = 1.0, labels: bool = False) -> ScaledField:
        return ScaledField(self.entry.field, self.centre, self.frame, self.phase_scales(lam), labels)


def recommended(family, anatomy: PatientAnatomy, lams) -> tuple:
    """Chart size for the patient, sized on its largest annulus over the cycle (systole)."""
    rec = recommend_size(family, anatomy.sizing(float(np.max(lams))))
    return rec.size, rec


def fit_over_cycle(family, size, anatomy: PatientAnatomy, ostia: dict | None, phases, lams,
                   n_around: int = DEFAULT_AROUND) -> list[tuple[float, dict]]:
    """Fit metrics of ``family`` at ``size`` at every phase: ``[(phase, metrics), ...]``."""
    from ..core.devices.geometry import profile

    entry = family.size(size)
    pose = auto_place(family, size, anatomy.entry.anchor)
    prof = profile(family, size)
    zone = tuple(family.placement.get("sealing_zone_mm", (0.0, 5.0)))
    stiffness = float(family.mechanics.get("radial_stiffness", 0.5))
    use_ostia = ostia if family.position in ("aortic", "pulmonary") else None
    out = []
    for t, lam in zip(phases, lams):
        fld = anatomy.field(float(lam))
        moved = scale_ostia(use_ostia, fld, anatomy.scales[2])
        fit = static_fit(prof, pose, fld, sealing_zone=zone, nominal_diameter_mm=entry.nominal_diameter_mm,
                         radial_stiffness=stiffness, annulus=anatomy.ring(float(lam)), ostia=moved,
                         n_around=n_around)
        metrics = applicable(fit.metrics, family.position)
        for k in LABEL_METRICS:  # not computed: the field answers no labels (speed)
            metrics.pop(k, None)
        out.append((float(t), metrics))
    return out


def margin(rule, value: float) -> float:
    """Distance of ``value`` inside the rule's pass range (negative outside)."""
    lo = rule.caution_below if rule.caution_below is not None else rule.fail_below
    hi = rule.caution_above if rule.caution_above is not None else rule.fail_above
    m = np.inf
    if lo is not None:
        m = min(m, value - lo)
    if hi is not None:
        m = min(m, hi - value)
    return float(m)


def badness(rule, name: str, value: float) -> float:
    """How bad ``value`` of metric ``name`` is: higher is worse (module docstring)."""
    if rule is not None:
        return -margin(rule, value)
    return WORSE.get(name, 1) * float(value)


def worst_over_phases(family, per_phase: list[tuple[float, dict]]) -> dict:
    """``{metric: (phase, value)}``: each metric at its worst phase (module docstring)."""
    names = list(dict.fromkeys(k for _, m in per_phase for k in m))
    out = {}
    for name in names:
        rule = family.rule(name)
        scored = [(badness(rule, name, m[name]), t, m[name]) for t, m in per_phase
                  if m.get(name) is not None]
        # the first phase wins a tie (max keeps the first maximum)
        out[name] = max(scored, key=lambda s: s[0])[1:] if scored else (None, None)
    return out
