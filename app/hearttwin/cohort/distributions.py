"""Virtual patients: the stated distributions they are drawn from, seeded and reproducible.

A virtual patient is a base anatomy (a phantom or a real case, see
:mod:`.base`) changed by a sampled anatomical scaling, plus a sampled
circulation (:class:`~hearttwin.core.simulation.CirculationParams`) and a
sampled aortic-root compliance for the motion over the cycle.

Patient ``i`` of a study with seed ``seed`` is drawn from its own generator
``numpy.random.default_rng([seed, i])``: the same patient comes out whatever
the number of patients, the batching or the worker that draws it, so a
resumed or enlarged study adds patients without changing the earlier ones.

Every distribution is a :class:`Dist` (normal, log-normal or uniform,
truncated to ``[low, high]`` by rejection so no mass piles up on a bound);
:data:`ANATOMY` and :data:`HAEMODYNAMICS` are the defaults, written out in
the summary report by :func:`describe`. They describe an elderly population
with severe aortic stenosis, the usual transcatheter aortic valve candidates.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from ..core.errors import InputError

#: rejection sampling gives up after this many draws (a bound far in a tail)
MAX_DRAWS = 1000


@dataclass(frozen=True)
class Dist:
    """A truncated distribution of one parameter.

    Attributes
    ----------
    kind : {"normal", "lognormal", "uniform"}
        ``normal``: mean ``loc``, sd ``scale``; ``lognormal``: median ``loc``,
        sd of the logarithm ``scale``; ``uniform``: on ``[low, high]``.
    loc, scale : float
    low, high : float
        Truncation bounds (inclusive).
    unit : str
    """

    kind: str
    loc: float
    scale: float
    low: float
    high: float
    unit: str = ""

    def sample(self, rng: np.random.Generator) -> float:
        """One draw within ``[low, high]``."""
        if self.kind == "uniform":
            return float(rng.uniform(self.low, self.high))
        for _ in range(MAX_DRAWS):
            if self.kind == "normal":
                v = rng.normal(self.loc, self.scale)
            elif self.kind == "lognormal":
                v = self.loc * np.exp(rng.normal(0.0, self.scale))
            else:
                raise InputError(f"Unknown distribution kind {self.kind!r}.")
            if self.low <= v <= self.high:
                return float(v)
        raise InputError(f"Cannot draw from {self.text()}: the bounds are too far in the tail.")

    def text(self) -> str:
        """How the summary report states it."""
        unit = f" {self.unit}" if self.unit else ""
        if self.kind == "uniform":
            return f"uniform on [{self.low:g}, {self.high:g}]{unit}"
        what = (f"normal(mean {self.loc:g}, sd {self.scale:g})" if self.kind == "normal"
                else f"log-normal(median {self.loc:g}, sd of log {self.scale:g})")
        return f"{what}{unit}, truncated to [{self.low:g}, {self.high:g}]"


#: anatomical scaling about the annulus centre (see :mod:`.scaled`)
ANATOMY = {
    # overall size: annulus diameters x scale (area x scale^2)
    "scale": Dist("lognormal", 1.0, 0.08, 0.8, 1.25),
    # in-plane anisotropy: major diameter x a, minor / a (area kept)
    "anisotropy": Dist("normal", 1.0, 0.04, 0.9, 1.1),
    # along the root axis, relative to the overall size (coronary heights)
    "axial_ratio": Dist("lognormal", 1.0, 0.05, 0.85, 1.15),
    # annulus area strain over one pulse pressure (root compliance)
    "root_area_strain": Dist("normal", 0.05, 0.015, 0.01, 0.10, "of area"),
}

#: circulation parameters (CirculationParams field -> distribution)
HAEMODYNAMICS = {
    "heart_rate_bpm": Dist("normal", 72.0, 10.0, 50.0, 110.0, "bpm"),
    # total volume: only the ~1 L above the unstressed volumes (3.9 L) fills the circulation,
    # so a sd of 100 mL is a sd of 10 % of the stressed volume
    "blood_volume_ml": Dist("normal", 5000.0, 100.0, 4750.0, 5250.0, "mL"),
    "r_systemic": Dist("lognormal", 1.0, 0.15, 0.6, 1.7, "mmHg s/mL"),
    "sa_compliance": Dist("lognormal", 1.1, 0.2, 0.6, 2.0, "mL/mmHg"),
    "lv_emax": Dist("lognormal", 2.5, 0.2, 1.2, 4.5, "mmHg/mL"),
    # native severe aortic stenosis
    "aortic_eoa_cm2": Dist("uniform", 0.8, 0.0, 0.6, 1.0, "cm2"),
}


@dataclass(frozen=True)
class VirtualPatient:
    """One virtual patient: which base anatomy, how it is scaled, its circulation.

    Attributes
    ----------
    patient_id : str
        ``P00000`` ...; the row key of the results with device and size.
    index : int
    base : str
        Key of the base anatomy (:attr:`.base.BaseSpec.key`).
    scale, anisotropy, axial_ratio, root_area_strain : float
        Anatomy draws (:data:`ANATOMY`).
    haemodynamics : dict
        CirculationParams overrides (:data:`HAEMODYNAMICS`).
    """

    patient_id: str
    index: int
    base: str
    scale: float
    anisotropy: float
    axial_ratio: float
    root_area_strain: float
    haemodynamics: dict

    @property
    def scales(self) -> np.ndarray:
        """(major, minor, axial) scale factors of the anatomy at the CT phase."""
        return np.array([self.scale * self.anisotropy, self.scale / self.anisotropy,
                         self.scale * self.axial_ratio])

    def to_row(self) -> dict:
        d = asdict(self)
        d.pop("haemodynamics")
        d.pop("index")
        d.update({k: round(v, 4) for k, v in self.haemodynamics.items()})
        return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in d.items()}


def patient_id(index: int) -> str:
    return f"P{index:05d}"


def sample_patient(seed: int, index: int, bases: list[str], anatomy: dict | None = None,
                   haemodynamics: dict | None = None) -> VirtualPatient:
    """Patient ``index`` of the study with ``seed`` (independent of every other patient).

    Parameters
    ----------
    seed : int
        Study seed.
    index : int
        Patient number (0-based).
    bases : list of str
        Base anatomy keys; the patient's is drawn uniformly.
    anatomy, haemodynamics : dict of Dist, optional
        Distributions; default :data:`ANATOMY` and :data:`HAEMODYNAMICS`.
    """
    if not bases:
        raise InputError("A cohort needs at least one base anatomy.")
    anatomy = ANATOMY if anatomy is None else anatomy
    haemodynamics = HAEMODYNAMICS if haemodynamics is None else haemodynamics
    rng = np.random.default_rng([int(seed), int(index)])
    base = bases[int(rng.integers(len(bases)))]
    a = {k: d.sample(rng) for k, d in anatomy.items()}
    h = {k: d.sample(rng) for k, d in haemodynamics.items()}
    return VirtualPatient(patient_id(index), int(index), base, a["scale"], a["anisotropy"],
                          a["axial_ratio"], a["root_area_strain"], h)


def sample_patients(n: int, seed: int, bases: list[str]) -> list[VirtualPatient]:
    """Patients ``0 .. n-1`` of the study with ``seed`` (default distributions)."""
    if n < 1:
        raise InputError(f"A cohort needs at least one patient, got {n}.")
    return [sample_patient(seed, i, bases) for i in range(n)]


def describe(anatomy: dict | None = None, haemodynamics: dict | None = None) -> dict:
    """``{"anatomy": {name: text}, "haemodynamics": {...}}`` for the summary report."""
    anatomy = ANATOMY if anatomy is None else anatomy
    haemodynamics = HAEMODYNAMICS if haemodynamics is None else haemodynamics
    return {"anatomy": {k: d.text() for k, d in anatomy.items()},
            "haemodynamics": {k: d.text() for k, d in haemodynamics.items()}}
