"""0D closed-loop circulation: time-varying elastance chambers, valves, shunt, PV loops.

Typical use::

    from hearttwin.core.simulation import CirculationParams, simulate, summarise
    result = simulate(CirculationParams(heart_rate_bpm=80))
    summarise(result)["lv"]["ef_percent"]

``CirculationParams`` fields may be ``(n,)`` arrays: ``simulate`` then runs
``n`` patients at once (the cohort runner's path). See :mod:`.circulation`
for the model, :mod:`.stepper` for the integrator, :mod:`.personalise` for
fitting to a patient and :mod:`.haemodynamics` for device effects.
"""

from .circulation import Model
from .haemodynamics import apply_device, before_after, bernoulli_gradient, orifice_flow
from .integrate import SimulationResult, simulate, simulate_many
from .outputs import pv_loop, summarise, to_json
from .params import COMPARTMENTS, EDGES, CirculationParams
from .personalise import fit

__all__ = ["CirculationParams", "Model", "SimulationResult", "simulate", "simulate_many",
           "summarise", "to_json", "pv_loop", "fit", "apply_device", "before_after",
           "bernoulli_gradient", "orifice_flow", "COMPARTMENTS", "EDGES"]
