"""Generate a phantom: params -> per-phase CT image, label map and landmarks.

The thorax is painted once; for each phase the heart is painted over a copy,
then the tissue map becomes a CT image (HU, blur, noise). Everything is a
deterministic function of :class:`PhantomParams` (noise is drawn from the
params' seed and the phase index).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import numpy as np

from .. import jobs
from ..imaging.volume import Volume
from .chambers import Layout, layout
from .cycle import phase_list
from .grid import Grid
from .heart import build_heart
from .imaging import synthesize
from .painter import Canvas, paint_all
from .params import PhantomParams
from .thorax import thorax_steps


@dataclass
class PhaseResult:
    """One cardiac phase: the CT image (int16 HU), the label map and landmarks."""

    index: int
    phase: float
    image: Volume
    labels: Volume
    landmarks: dict
    calcium: list


@dataclass
class Phantom:
    params: PhantomParams
    grid: Grid
    layout: Layout
    phases: list[PhaseResult]


def make_grid(params: PhantomParams, lay: Layout) -> Grid:
    """The image grid: the preset's matrix centred near the heart."""
    g = params.geometry
    centre = lay.anchor + np.asarray(g.fov_offset, dtype=float)
    return Grid.centred(g.size, g.spacing, centre)


def _volume(array: np.ndarray, grid: Grid, meta: dict) -> Volume:
    return Volume(array=array, spacing=grid.spacing, origin=grid.origin, direction=np.eye(3),
                  meta=meta)


def iter_phases(params: PhantomParams, progress=None) -> Iterator[PhaseResult]:
    """Yield the phases of the phantom one at a time (keeps memory flat).

    Parameters
    ----------
    params : PhantomParams
        What to generate.
    progress : jobs.Progress, optional
        Receives updates between painting steps; cancelling raises
        :class:`~hearttwin.core.errors.CancelledError`.
    """
    params.validate()
    lay = layout(params.anatomy)
    grid = make_grid(params, lay)
    zrange = (grid.lower[2] - 5.0, grid.upper[2] + 5.0)
    phases = phase_list(int(params.phases))
    thorax = thorax_steps(params.anatomy, zrange)
    heart_count = 20
    total = len(thorax) + len(phases) * (heart_count + 2)
    done = 0

    def step_cb(offset, what):
        def cb(i, n, name):
            jobs.report(progress, offset + i, total, f"Painting {what}")
        return cb

    base = Canvas(grid)
    paint_all(base, thorax, step_cb(0, "thorax"))
    done = len(thorax)
    for index, phase in enumerate(phases):
        heart = build_heart(params.anatomy, lay, phase, zrange, calcium=params.calcium,
                            seed=params.seed)
        canvas = base.copy()
        paint_all(canvas, heart.steps,
                  step_cb(done, f"heart, phase {index + 1}/{len(phases)}"))
        done += heart_count
        jobs.report(progress, done, total, f"Simulating CT image, phase {index + 1}/{len(phases)}")
        rng = np.random.default_rng([int(params.seed), 2, index])
        image = synthesize(canvas.tissue, grid.spacing, params.intensity, rng)
        done += 2
        meta = {"modality": "CT", "phase": phase, "synthetic": True}
        yield PhaseResult(index=index, phase=phase, image=_volume(image, grid, meta),
                          labels=_volume(canvas.label, grid, dict(meta)),
                          landmarks=heart.landmarks, calcium=heart.calcium)
    jobs.report(progress, total, total, "Phantom generated")


def generate_phantom(params: PhantomParams, progress=None) -> Phantom:
    """Generate all phases in memory (use :func:`iter_phases` for large phantoms)."""
    phases = list(iter_phases(params, progress))
    lay = layout(params.anatomy)
    return Phantom(params=params, grid=make_grid(params, lay), layout=lay, phases=phases)
