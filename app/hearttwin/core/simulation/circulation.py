"""The closed-loop model: elastance activation, pressures and flow laws.

State: the volumes of the 8 compartments of :mod:`.params` (rows) for ``n``
parameter sets (columns), shape ``(8, n)``. Time runs in beats of ``N``
equal steps; step ``j`` covers cardiac phase ``[j/N, (j+1)/N)`` (phase 0 =
end-diastole, the R wave).

The integrator (:class:`~.stepper.Stepper`) splits the loop into
two-compartment exchanges solved in closed form; see :mod:`.stepper`.
"""

from __future__ import annotations

import numpy as np

from .params import CirculationParams

#: edge k runs from compartment FROM[k] to TO[k] (edge 8: LA -> RA shunt)
FROM = np.array([0, 1, 2, 3, 4, 5, 6, 7, 7])
TO = np.array([1, 2, 3, 4, 5, 6, 7, 0, 3])


def cosine_pulse(s, rise, fall) -> np.ndarray:
    """Activation in [0, 1]: a raised-cosine rise over ``rise``, fall over ``fall``, 0 after.

    ``s`` is the time since onset (s); C1-smooth everywhere.
    """
    s = np.asarray(s, dtype=float)
    up = 0.5 * (1.0 - np.cos(np.pi * np.clip(s / rise, 0.0, 1.0)))
    down = 0.5 * (1.0 + np.cos(np.pi * np.clip((s - rise) / fall, 0.0, 1.0)))
    return np.where(s < rise, np.where(s < 0, 0.0, up), down)


class Model:
    """The circulation of ``n`` parameter sets, ready to integrate."""

    def __init__(self, params: CirculationParams):
        self.params = params
        self.n = n = params.validate()
        self.rr = 60.0 / params.array("heart_rate_bpm", n)
        scale = np.sqrt(self.rr / 0.8)
        self.v_rise = params.array("ventricular_rise_s", n) * scale
        self.v_fall = params.array("ventricular_fall_s", n) * scale
        self.a_lead = params.array("atrial_lead_s", n) * scale
        self.a_rise = params.array("atrial_rise_s", n) * scale
        self.a_fall = params.array("atrial_fall_s", n) * scale
        self.emin, self.emax, self.v0 = params.elastances(n)
        self.de = self.emax - self.emin
        laws = params.edge_laws(n)
        self.r_fwd, self.r_back = laws["r_fwd"], laws["r_back"]
        self.b_fwd, self.b_back = laws["b_fwd"], laws["b_back"]
        self.shunt = params.has_shunt(n)
        self.blood_volume = params.array("blood_volume_ml", n)

    # ------------------------------------------------------------ activation
    def activation(self, t) -> tuple[np.ndarray, np.ndarray]:
        """Ventricular and atrial activation at time ``t`` (s since the R wave; ``(n,)`` or scalar)."""
        t = np.mod(t, self.rr)
        av = cosine_pulse(t, self.v_rise, self.v_fall)
        aa = cosine_pulse(np.mod(t - (self.rr - self.a_lead), self.rr), self.a_rise, self.a_fall)
        return av, aa

    def elastance(self, t) -> np.ndarray:
        """Elastances of the 8 compartments at time ``t``, shape ``(8, n)``."""
        av, aa = self.activation(t)
        e = self.emin.copy()
        e[[0, 4]] += self.de[[0, 4]] * av
        e[[3, 7]] += self.de[[3, 7]] * aa
        return e

    def elastance_series(self, t: np.ndarray) -> np.ndarray:
        """Elastances (T, 8, n) at times ``t`` (T, n) (or (T, 1))."""
        av, aa = self.activation(t)
        e = np.broadcast_to(self.emin, (t.shape[0],) + self.emin.shape).copy()
        e[:, [0, 4]] += self.de[[0, 4]] * av[:, None]
        e[:, [3, 7]] += self.de[[3, 7]] * aa[:, None]
        return e

    # --------------------------------------------------------------- physics
    def pressures(self, v: np.ndarray, t) -> np.ndarray:
        """Pressures (mmHg) of volumes ``v`` (8, n) at time ``t``."""
        return self.elastance(t) * (v - self.v0)

    def flows(self, p: np.ndarray) -> np.ndarray:
        """Instantaneous flows (mL/s) of the 9 edges from pressures ``p`` (8, ...)."""
        dp = p[FROM] - p[TO]
        shape = (9, self.n) + (1,) * (dp.ndim - 2)
        pos = dp > 0
        r = np.where(pos, self.r_fwd.reshape(shape), self.r_back.reshape(shape))
        b4 = 4.0 * np.where(pos, self.b_fwd.reshape(shape), self.b_back.reshape(shape))
        with np.errstate(invalid="ignore"):
            return dp * 2.0 / (r + np.sqrt(r * r + b4 * np.abs(dp)))

    def rhs(self, t, v: np.ndarray) -> np.ndarray:
        """``dV/dt`` (8, n) of the continuous model (for reference integrators)."""
        q = self.flows(self.pressures(v, t))
        dv = np.zeros_like(v)
        np.add.at(dv, TO, q)
        np.subtract.at(dv, FROM, q)
        return dv

    def initial_state(self) -> np.ndarray:
        """A plausible start: typical pressures, the remaining blood in the systemic veins."""
        p_guess = np.array([5.0, 90.0, 5.0, 4.0, 4.0, 15.0, 8.0, 8.0])[:, None]
        v = self.v0 + p_guess / self.emin
        v[2] += self.blood_volume - v.sum(axis=0)
        if np.any(v[2] < self.v0[2]):
            v[2] = np.maximum(v[2], self.v0[2])
            v *= self.blood_volume / v.sum(axis=0)
        return v
