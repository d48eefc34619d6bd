"""The fixed-step integrator of :class:`~.circulation.Model`: one beat of ``N`` steps.

The loop's edges fall into two groups of disjoint two-compartment
exchanges: the even edges (0-1, 2-3, 4-5, 6-7) and the odd ones (1-2, 3-4,
5-6, 7-0); the atrial shunt (LA-RA) is a third. A step applies the groups in
turn (even, odd[, shunt]), the next step in reverse order, so each pair of
steps is a symmetric (Strang) splitting: second order, and the Lie defect of
a single step is O(h^2) without accumulating, so the state at every step
boundary is second-order accurate too.

Within a group, with the elastances frozen at the step's midpoint, the
pressure difference of a pair obeys ``d(dp)/dt = -G(dp) (E_a + E_b) dp``,
solved as ``dp(h) = dp(0) exp(-G (E_a + E_b) h)``: exact for the linear
resistances; for the valves and the shunt ``G`` is taken at the half-way
pressure difference (exponential midpoint, with a (0, 2) Pade decay for the
half-way estimate). The volume moved is ``dp(0) (1 - exp(-G Es h)) / Es``,
taken from ``a`` and given to ``b``: blood volume is conserved to rounding
and no exchange overshoots, so valves cannot chatter and the step is stable
for any ``h`` however small the valve resistances.

Everything that depends only on time (elastances, the linear edges' decay
factors) is computed once for all steps as arrays; the step loop itself is a
few dozen numpy operations on ``(rows, n)`` arrays, so its cost per patient
falls as ``n`` grows.
"""

from __future__ import annotations

import numpy as np

from .circulation import Model

# (name, from rows, to rows, edges, valve/shunt rows within the group, linear rows)
_GROUPS = {
    "even": (slice(0, 8, 2), slice(1, 8, 2), slice(0, 8, 2), slice(0, 4, 2), slice(1, 4, 2)),
    "odd": (slice(1, 8, 2), np.array([2, 4, 6, 0]), slice(1, 8, 2), slice(1, 4, 2), slice(0, 4, 2)),
    "shunt": (slice(7, 8), slice(3, 4), slice(8, 9), slice(0, 1), slice(0, 0)),
}


class _Group:
    """Precomputed arrays of one substep group for every step of the beat."""

    def __init__(self, model: Model, e_mid: np.ndarray, key: str, h_sub: np.ndarray):
        a, b, edges, nl, lin = _GROUPS[key]
        self.a, self.b, self.edges, self.nl, self.lin = a, b, edges, nl, lin
        ea, eb = e_mid[:, a], e_mid[:, b]
        self.ea, self.eb = ea, eb
        self.off = ea * model.v0[a] - eb * model.v0[b]
        es = ea + eb
        g_lin = 1.0 / model.r_fwd[edges][lin]  # linear edges: r_fwd == r_back, no orifice
        self.phi = np.zeros_like(es)
        self.phi[:, lin] = -np.expm1(-h_sub * g_lin * es[:, lin]) / es[:, lin]
        es_nl = es[:, nl]
        self.nhes = -h_sub * es_nl  # exponent of the pair's decay over the substep, per G
        self.phes = -0.5 * self.nhes  # ... over half the substep, sign flipped
        self.nies = -1.0 / es_nl
        e_nl = np.arange(9)[edges][nl]
        rf, rb = model.r_fwd[e_nl], model.r_back[e_nl]
        with np.errstate(invalid="ignore"):
            self.law = (rf, rb, rf * rf, rb * rb, 4.0 * model.b_fwd[e_nl], 4.0 * model.b_back[e_nl])

    def exchange(self, v: np.ndarray, j: int, moved: np.ndarray | None) -> None:
        """Move volume across this group's edges over one substep (in place).

        In-place numpy operations in the same order as :mod:`.scalar`, so the
        two paths agree to the last bit.
        """
        a, b, nl = self.a, self.b, self.nl
        dp = self.ea[j] * v[a]
        dp -= self.eb[j] * v[b]
        dp -= self.off[j]
        dv = np.empty_like(dp)
        lin = self.lin
        np.multiply(dp[lin], self.phi[j, lin], out=dv[lin])
        d = dp[nl]
        rf, rb, rf2, rb2, bf4, bb4 = self.law
        pos = d > 0
        r, b4 = np.where(pos, rf, rb), np.where(pos, bf4, bb4)
        r2 = r * r
        absd = np.abs(d)
        with np.errstate(invalid="ignore"):
            g = b4 * absd
            g += r2
            np.sqrt(g, out=g)
            g += r
            np.divide(2.0, g, out=g)
            # exponential midpoint: the conductance at the half-way pressure difference,
            # exp(-y) ~ 1 / (1 + y + y^2/2) there (error O(y^3) keeps second order; cheap)
            g *= self.phes[j]
            t = g * 0.5
            t += 1.0
            t *= g
            t += 1.0
            np.divide(absd, t, out=g)
            g *= b4
            g += r2
            np.sqrt(g, out=g)
            g += r
            np.divide(2.0, g, out=g)
        g *= self.nhes[j]
        np.expm1(g, out=g)
        g *= d
        g *= self.nies[j]
        dv[nl] = g
        v[a] -= dv
        v[b] += dv
        if moved is not None:
            moved[self.edges] += dv


class Stepper:
    """Integrates ``model`` beat by beat with ``steps`` equal steps per beat."""

    def __init__(self, model: Model, steps: int):
        self.model = model
        self.steps = steps
        self.h = model.rr / steps
        t_mid = (np.arange(steps)[:, None] + 0.5) * self.h
        e_mid = model.elastance_series(t_mid)
        self.even = _Group(model, e_mid, "even", self.h)
        self.odd = _Group(model, e_mid, "odd", self.h)
        if model.shunt:
            self.shunt = _Group(model, e_mid, "shunt", self.h)
            forward = (self.even, self.odd, self.shunt)
        else:
            forward = (self.even, self.odd)
        # alternate the order so every pair of steps is a symmetric (Strang) composition
        self.sequences = (forward, forward[::-1])

    def beat(self, v: np.ndarray, volumes: np.ndarray | None = None,
             moved: np.ndarray | None = None) -> np.ndarray:
        """Integrate one beat from volumes ``v`` (8, n), in place.

        ``volumes`` (N+1, 8, n) receives the volumes at every step boundary;
        ``moved`` (N, 9, n) accumulates the volume each edge carried per step.
        """
        if volumes is not None:
            volumes[0] = v
        for j in range(self.steps):
            mj = None if moved is None else moved[j]
            for group in self.sequences[j % 2]:
                group.exchange(v, j, mj)
            if volumes is not None:
                volumes[j + 1] = v
        return v
