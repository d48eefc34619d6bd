"""Beat-by-beat integration to the periodic steady state, vectorised over parameter sets.

:func:`simulate` runs whole beats of the splitting step of
:class:`~.circulation.Model` until every parameter set is periodic (the
beat-to-beat change of its end-diastolic and end-systolic volumes and of its
arterial pressure extremes is below ``tol``, 0.5 % by default) and returns
the last beat: volumes, pressures and flows at every step.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from .. import jobs
from ..errors import InputError, ProcessingError
from .circulation import Model
from .params import CirculationParams
from .scalar import ScalarBeat
from .stepper import Stepper

#: default time step (s); the number of steps per beat is RR / this, at least 64
DEFAULT_DT = 0.01


@dataclass
class SimulationResult:
    """The last (periodic) beat of ``n`` parameter sets.

    Arrays: ``phase`` (N+1,), ``time`` (N+1, n) s since the R wave,
    ``volumes`` and ``pressures`` (N+1, 8, n) at the step boundaries,
    ``flows`` (N, 9, n) the mean flow of each edge over each step (mL/s; edge
    8 is the atrial shunt), ``beats`` (n,) beats until the steady state
    (``converged`` False where ``max_beats`` was reached first).
    """

    params: CirculationParams
    model: Model
    phase: np.ndarray
    time: np.ndarray
    volumes: np.ndarray
    pressures: np.ndarray
    flows: np.ndarray
    beats: np.ndarray
    converged: np.ndarray
    beats_run: int
    seconds: float

    @property
    def n(self) -> int:
        return self.model.n

    @property
    def heart_rate_bpm(self) -> np.ndarray:
        return 60.0 / self.model.rr


def steps_for(rr, dt: float = DEFAULT_DT) -> int:
    """Steps per beat for time step ``dt`` at the longest RR interval (even, at least 64).

    Even, so that every beat is made of whole symmetric pairs of steps.
    """
    n = max(64, int(np.ceil(float(np.max(rr)) / dt)))
    return n + n % 2


def beat_signature(volumes: np.ndarray, v0: np.ndarray) -> np.ndarray:
    """What must repeat for a beat to count as periodic: (8, n).

    End-diastolic and end-systolic volumes of both ventricles, and the
    extremes of the systemic and pulmonary arterial stressed volumes (their
    pressures times a constant compliance).
    """
    lv, rv = volumes[:, 0], volumes[:, 4]
    sa, pa = volumes[:, 1] - v0[1], volumes[:, 5] - v0[5]
    return np.stack([lv.max(0), lv.min(0), rv.max(0), rv.min(0),
                     sa.max(0), sa.min(0), pa.max(0), pa.min(0)])


def simulate(params: CirculationParams, *, steps_per_beat: int | None = None,
             max_beats: int = 100, min_beats: int = 3, tol: float = 0.005,
             initial: np.ndarray | None = None, progress=None) -> SimulationResult:
    """Simulate ``params`` (one or many sets) to the periodic steady state.

    Parameters
    ----------
    params : CirculationParams
        Scalar fields for one patient, ``(n,)`` arrays for ``n`` at once.
    steps_per_beat : int, optional
        Fixed steps per beat (default: 10 ms steps, at least 64).
    max_beats, min_beats : int
        Bounds on the number of beats simulated.
    tol : float
        Relative beat-to-beat change counted as steady (0.005 = 0.5 %).
    initial : ndarray, optional
        Start volumes (8, n) (default :meth:`Model.initial_state`).
    progress : Progress, optional
        Reports per beat; cancellable between beats.

    Returns
    -------
    SimulationResult
        The last beat of every set.
    """
    t_start = time.perf_counter()
    model = Model(params)
    n = model.n
    steps = int(steps_per_beat) if steps_per_beat else steps_for(model.rr)
    if steps < 8:
        raise InputError("At least 8 time steps per beat are needed.")
    if max_beats < 1 or min_beats > max_beats:
        raise InputError("max_beats must be at least 1 and at least min_beats.")
    v = model.initial_state() if initial is None else np.array(initial, dtype=float)
    if v.shape != (8, n):
        raise InputError(f"Initial volumes must have shape (8, {n}), got {v.shape}.")
    volumes = np.empty((steps + 1, 8, n))
    moved = np.zeros((steps, 9, n))
    t_grid = np.arange(steps + 1)[:, None] * (model.rr / steps)
    e_grid = model.elastance_series(t_grid)
    stepper = Stepper(model, steps)
    if n == 1:  # same arithmetic on Python floats: ~20x faster for one set
        stepper = ScalarBeat(stepper)
    beats = np.full(n, max_beats)
    converged = np.zeros(n, dtype=bool)
    previous = None
    beat = 0
    for beat in range(1, max_beats + 1):
        jobs.report(progress, beat - 1, max_beats, f"beat {beat}")
        moved.fill(0.0)
        stepper.beat(v, volumes, moved)
        if not np.all(np.isfinite(v)):
            bad = np.flatnonzero(~np.isfinite(v).all(axis=0))
            raise ProcessingError(f"The circulation became numerically invalid in beat {beat} for "
                                  f"parameter set(s) {bad[:5].tolist()}: check their values.")
        signature = beat_signature(volumes, model.v0)
        if previous is not None:
            change = np.max(np.abs(signature - previous) / np.maximum(np.abs(previous), 1e-9), axis=0)
            newly = (change < tol) & ~converged
            beats[newly] = beat
            converged |= newly
        previous = signature
        if beat >= min_beats and converged.all():
            break
    jobs.report(progress, max_beats, max_beats, f"steady state after {beat} beats")
    return SimulationResult(
        params=params, model=model, phase=np.arange(steps + 1) / steps, time=t_grid * np.ones(n),
        volumes=volumes, pressures=e_grid * (volumes - model.v0), flows=moved / (model.rr / steps),
        beats=beats, converged=converged, beats_run=beat,
        seconds=time.perf_counter() - t_start)


def simulate_many(params: CirculationParams, *, chunk: int = 2000, progress=None,
                  **kwargs) -> list[SimulationResult]:
    """:func:`simulate` in chunks of ``chunk`` sets (bounded memory for large cohorts)."""
    n = params.size()
    out = []
    starts = list(range(0, n, chunk))
    for i, s in enumerate(starts):
        jobs.report(progress, i, len(starts), f"parameter sets {s + 1}-{min(n, s + chunk)} of {n}")
        idx = np.arange(s, min(n, s + chunk))
        out.append(simulate(params.take(idx) if n > 1 else params, **kwargs))
    jobs.report(progress, len(starts), len(starts), "done")
    return out
