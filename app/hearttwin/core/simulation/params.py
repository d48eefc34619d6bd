"""Parameters of the 0D closed-loop circulation, with normal-adult defaults.

Eight compartments sit on one loop, in this order (the index is the row of
every state array)::

    0 LV -> 1 SA (systemic arteries) -> 2 SV (systemic veins) -> 3 RA
    -> 4 RV -> 5 PA (pulmonary arteries) -> 6 PV (pulmonary veins) -> 7 LA -> 0

Edge ``k`` carries flow from compartment ``k`` to ``k + 1`` (mod 8): edges
0, 3, 4, 7 are the aortic, tricuspid, pulmonary and mitral valves; 1, 2, 5, 6
are the systemic, venous-return, pulmonary and pulmonary-venous resistances.
An optional ninth edge, the atrial shunt, joins LA and RA.

Every field may be a float or an array of shape ``(n,)``: the integrator runs
``n`` parameter sets at once (:meth:`CirculationParams.size`). Units: mL,
mmHg, s, mmHg/mL (elastance), mL/mmHg (compliance), mmHg s/mL (resistance),
cm2 (orifice areas).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from ..errors import InputError

COMPARTMENTS = ("lv", "sa", "sv", "ra", "rv", "pa", "pv", "la")
LV, SA, SV, RA, RV, PA, PV, LA = range(8)
EDGES = ("aortic", "systemic", "venous", "tricuspid", "pulmonary", "lung", "pulmonary_venous",
         "mitral")
VALVE_EDGES = {"aortic": 0, "tricuspid": 3, "pulmonary": 4, "mitral": 7}
#: blood density (kg/m3); with it rho/2 (Q/A)^2 in mmHg is the clinical 4 v^2 rule
BLOOD_DENSITY = 1060.0
MMHG_PA = 133.322


def bernoulli_coefficient(area_cm2) -> np.ndarray:
    """``B`` in ``dp = B Q|Q|`` (mmHg per (mL/s)^2) for an orifice of ``area_cm2``.

    ``dp = rho/2 (Q/A)^2`` (the clinical 4 v^2 rule); ``inf`` area gives
    ``B = 0`` (no orifice drop), 0 gives ``inf``.
    """
    a = np.asarray(area_cm2, dtype=float) * 1e-4  # m2
    a2 = a * a
    out = np.full(a2.shape, np.inf)
    np.divide(BLOOD_DENSITY / 2.0 * 1e-12 / MMHG_PA, a2, out=out, where=a2 > 0)
    return out if out.ndim else out[()]


@dataclass
class CirculationParams:
    """Everything the circulation needs; defaults are a normal resting adult.

    Chambers follow a time-varying elastance ``E(t) = Emin + (Emax - Emin) a(t)``
    with ``P = E(t) (V - V0)``; vessels are linear compliances. Valves pass
    forward flow through a viscous resistance plus an orifice of effective
    area ``*_eoa_cm2`` (``dp = R Q + B Q|Q|``) and backward flow only through
    a regurgitant orifice ``*_regurgitant_area_cm2`` (0: competent).
    ``lvot_area_cm2`` adds an obstruction orifice in series with the aortic
    valve (``inf``: none); ``aortic_impedance`` and ``pulmonary_impedance``
    are the characteristic impedances of the great arteries (in series with
    their valves; the ``sa``/``pa`` compartments are distal to them);
    ``asd_area_cm2`` opens an atrial shunt (0: none).
    Activation times are for a 75 bpm beat (RR 0.8 s) and scale with
    ``sqrt(RR / 0.8)``.
    """

    heart_rate_bpm: float = 70.0
    blood_volume_ml: float = 5000.0
    # chambers: end-systolic (Emax) and diastolic (Emin) elastance, unstressed volume
    lv_emax: float = 3.0
    lv_emin: float = 0.065
    lv_v0: float = 10.0
    rv_emax: float = 0.6
    rv_emin: float = 0.033
    rv_v0: float = 15.0
    la_emax: float = 0.28
    la_emin: float = 0.16
    la_v0: float = 15.0
    ra_emax: float = 0.22
    ra_emin: float = 0.11
    ra_v0: float = 15.0
    # vessels: compliance and unstressed volume
    sa_compliance: float = 1.35
    sa_v0: float = 650.0
    sv_compliance: float = 70.0
    sv_v0: float = 2850.0
    pa_compliance: float = 3.0
    pa_v0: float = 110.0
    pv_compliance: float = 16.0
    pv_v0: float = 280.0
    # resistances
    r_systemic: float = 1.0
    r_venous: float = 0.03
    r_pulmonary: float = 0.075
    r_pulmonary_venous: float = 0.012
    valve_resistance: float = 0.003
    aortic_impedance: float = 0.05
    pulmonary_impedance: float = 0.015
    closed_valve_resistance: float = 1.0e5
    # valve orifices (cm2)
    aortic_eoa_cm2: float = 3.5
    mitral_eoa_cm2: float = 5.0
    tricuspid_eoa_cm2: float = 6.0
    pulmonary_eoa_cm2: float = 3.5
    aortic_regurgitant_area_cm2: float = 0.0
    mitral_regurgitant_area_cm2: float = 0.0
    tricuspid_regurgitant_area_cm2: float = 0.0
    pulmonary_regurgitant_area_cm2: float = 0.0
    lvot_area_cm2: float = np.inf
    asd_area_cm2: float = 0.0
    shunt_resistance: float = 0.005
    # activation (s at RR = 0.8 s): ventricular rise/fall, atrial onset before R, rise/fall
    ventricular_rise_s: float = 0.32
    ventricular_fall_s: float = 0.14
    atrial_lead_s: float = 0.17
    atrial_rise_s: float = 0.09
    atrial_fall_s: float = 0.09

    # ------------------------------------------------------------------ shape
    def size(self) -> int:
        """Number of parameter sets (1 when every field is a scalar)."""
        n = 1
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, (int, float)):
                continue
            shape = np.shape(value)
            if len(shape) > 1:
                raise InputError(f"Parameter {f.name} must be a number or a 1-D array.")
            if shape and shape[0] != 1:
                if n not in (1, shape[0]):
                    raise InputError(f"Parameter {f.name} has {shape[0]} values; others have {n}.")
                n = shape[0]
        return n

    def array(self, name: str, n: int | None = None) -> np.ndarray:
        """Field ``name`` as a float array of shape ``(n,)``."""
        n = self.size() if n is None else n
        value = getattr(self, name)
        if isinstance(value, (int, float)) or np.ndim(value) == 0:
            return np.full(n, float(value))
        return np.broadcast_to(np.asarray(value, dtype=float), (n,)).copy()

    def replace(self, **changes) -> "CirculationParams":
        """A copy with some fields changed (like :func:`dataclasses.replace`)."""
        return dataclasses.replace(self, **changes)

    def take(self, index) -> "CirculationParams":
        """The parameter set(s) at ``index`` of a vectorised set."""
        n = self.size()
        return self.replace(**{f.name: self.array(f.name, n)[index]
                               for f in dataclasses.fields(self)})

    @staticmethod
    def stack(sets: list["CirculationParams"]) -> "CirculationParams":
        """One vectorised set from a list of scalar sets (the cohort runner's input)."""
        if not sets:
            raise InputError("No parameter sets to simulate.")
        names = [f.name for f in dataclasses.fields(CirculationParams)]
        return CirculationParams(**{k: np.concatenate([np.atleast_1d(np.asarray(getattr(s, k), float))
                                                       for s in sets]) for k in names})

    def validate(self) -> int:
        """Raise :class:`InputError` naming the first implausible value; return :meth:`size`."""
        n = self.size()
        hr = self.array("heart_rate_bpm", n)
        if np.any(~np.isfinite(hr)) or np.any((hr < 20) | (hr > 220)):
            raise InputError("Heart rate must be between 20 and 220 beats per minute.")
        for name in ("lv_emax", "lv_emin", "rv_emax", "rv_emin", "la_emax", "la_emin", "ra_emax",
                     "ra_emin", "sa_compliance", "sv_compliance", "pa_compliance", "pv_compliance",
                     "r_systemic", "r_venous", "r_pulmonary", "r_pulmonary_venous",
                     "valve_resistance", "aortic_impedance",
                     "pulmonary_impedance", "aortic_eoa_cm2", "mitral_eoa_cm2", "tricuspid_eoa_cm2",
                     "pulmonary_eoa_cm2", "lvot_area_cm2", "blood_volume_ml", "shunt_resistance"):
            v = self.array(name, n)
            if np.any(~(v > 0)):
                raise InputError(f"Parameter {name} must be positive (got {v.min():g}).")
        for ch in ("lv", "rv", "la", "ra"):
            if np.any(self.array(f"{ch}_emax", n) < self.array(f"{ch}_emin", n)):
                raise InputError(f"{ch.upper()}: end-systolic elastance must not be below the "
                                 "diastolic one.")
        for name in ("asd_area_cm2",) + tuple(f"{v}_regurgitant_area_cm2" for v in VALVE_EDGES):
            if np.any(self.array(name, n) < 0):
                raise InputError(f"Parameter {name} must be 0 or more.")
        unstressed = sum(self.array(f"{c}_v0", n) for c in COMPARTMENTS)
        if np.any(self.array("blood_volume_ml", n) <= unstressed):
            raise InputError("Blood volume must exceed the sum of the unstressed volumes "
                             f"({unstressed.min():.0f} mL).")
        return n

    # ---------------------------------------------------- arrays for the model
    def elastances(self, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(emin, emax, v0)`` of the 8 compartments, each of shape ``(8, n)``."""
        emin = np.empty((8, n))
        emax = np.empty((8, n))
        v0 = np.empty((8, n))
        for i, c in enumerate(COMPARTMENTS):
            v0[i] = self.array(f"{c}_v0", n)
            if c in ("lv", "rv", "la", "ra"):
                emin[i] = self.array(f"{c}_emin", n)
                emax[i] = self.array(f"{c}_emax", n)
            else:
                emin[i] = emax[i] = 1.0 / self.array(f"{c}_compliance", n)
        return emin, emax, v0

    def edge_laws(self, n: int) -> dict[str, np.ndarray]:
        """Per-edge flow-law coefficients, each ``(9, n)`` (edge 8 is the shunt).

        ``r_fwd, b_fwd`` apply when pressure falls along the edge, ``r_back,
        b_back`` when it rises; linear edges have ``b = 0`` and equal ``r``.
        """
        r_fwd = np.empty((9, n))
        r_back = np.empty((9, n))
        b_fwd = np.zeros((9, n))
        b_back = np.zeros((9, n))
        for k, name in ((1, "r_systemic"), (2, "r_venous"), (5, "r_pulmonary"),
                        (6, "r_pulmonary_venous")):
            r_fwd[k] = r_back[k] = self.array(name, n)
        rv = self.array("valve_resistance", n)
        closed = self.array("closed_valve_resistance", n)
        for valve, k in VALVE_EDGES.items():
            r_fwd[k] = rv
            b_fwd[k] = bernoulli_coefficient(self.array(f"{valve}_eoa_cm2", n))
            reg = self.array(f"{valve}_regurgitant_area_cm2", n)
            leaky = reg > 0
            r_back[k] = np.where(leaky, rv, closed)
            b_back[k] = np.where(leaky, bernoulli_coefficient(np.where(leaky, reg, 1.0)), 0.0)
        # characteristic impedance of the proximal aorta / pulmonary trunk, in series
        for k, name in ((0, "aortic_impedance"), (4, "pulmonary_impedance")):
            z = self.array(name, n)
            r_fwd[k] += z
            r_back[k] += z
        b_fwd[0] += bernoulli_coefficient(self.array("lvot_area_cm2", n))
        asd = self.array("asd_area_cm2", n)
        open_ = asd > 0
        r_fwd[8] = r_back[8] = np.where(open_, self.array("shunt_resistance", n), np.inf)
        b_fwd[8] = b_back[8] = np.where(open_, bernoulli_coefficient(np.where(open_, asd, 1.0)), 0.0)
        return {"r_fwd": r_fwd, "b_fwd": b_fwd, "r_back": r_back, "b_back": b_back}

    def has_shunt(self, n: int | None = None) -> bool:
        """Whether any parameter set has an atrial shunt."""
        return bool(np.any(self.array("asd_area_cm2", n) > 0))
