"""The same splitting beat as :mod:`.stepper`, for one patient, in plain Python floats.

For a single parameter set every numpy call of the vectorised step costs
~1 us of overhead on a handful of numbers, while Python float arithmetic on
local variables is ~30 times cheaper. :class:`ScalarBeat` replays exactly
the arithmetic of :meth:`.stepper._Group.exchange`, written out for the
loop's fixed layout (even edges: aortic valve, venous return, pulmonary
valve, pulmonary venous return; odd edges: systemic resistance, tricuspid
valve, lung resistance, mitral valve; then the shunt), with every
time-only quantity taken from the :class:`~.stepper.Stepper`'s precomputed
arrays. The two paths agree to rounding (tested) and
:func:`~.integrate.simulate` uses this one when ``n == 1``.
"""

from __future__ import annotations

from math import expm1, sqrt

import numpy as np

from .stepper import Stepper, _Group


def _coefficients(group: _Group) -> np.ndarray:
    """(N, k): per step, per edge ``ea, eb, off`` then ``phi`` (linear) or
    ``phes, nhes, nies`` (valve), in edge order."""
    cols = []
    nl = list(range(group.ea.shape[1]))[group.nl]
    for i in range(group.ea.shape[1]):
        cols += [group.ea[:, i, 0], group.eb[:, i, 0], group.off[:, i, 0]]
        if i in nl:
            k = nl.index(i)
            cols += [group.phes[:, k, 0], group.nhes[:, k, 0], group.nies[:, k, 0]]
        else:
            cols.append(group.phi[:, i, 0])
    return np.stack(cols, axis=1)


def _law(group: _Group, k: int) -> tuple[float, ...]:
    return tuple(float(np.asarray(c)[k, 0]) for c in group.law)


def _valve(dp, ph, nh, ni, law):
    """Volume moved across a valve (or the shunt) over one substep: see ``_Group.exchange``."""
    rf, rb, rf2, rb2, bf4, bb4 = law
    if dp > 0:
        g = 2.0 / (rf + sqrt(rf2 + bf4 * dp))
        y = ph * g
        g = 2.0 / (rf + sqrt(rf2 + bf4 * (dp / (1.0 + y * (1.0 + 0.5 * y)))))
    else:
        ad = -dp
        g = 2.0 / (rb + sqrt(rb2 + bb4 * ad))
        y = ph * g
        g = 2.0 / (rb + sqrt(rb2 + bb4 * (ad / (1.0 + y * (1.0 + 0.5 * y)))))
    return dp * expm1(nh * g) * ni


class ScalarBeat:
    """One patient's beat loop on Python floats, equivalent to ``Stepper.beat``."""

    def __init__(self, stepper: Stepper):
        if stepper.model.n != 1:
            raise ValueError("ScalarBeat integrates a single parameter set.")
        self.steps = stepper.steps
        self.shunt = stepper.model.shunt
        even, odd = stepper.even, stepper.odd
        self.laws = (_law(even, 0), _law(even, 1), _law(odd, 0), _law(odd, 1),
                     _law(stepper.shunt, 0) if self.shunt else None)
        shunt = _coefficients(stepper.shunt) if self.shunt else np.zeros((self.steps, 6))
        self.table = np.hstack([_coefficients(even), _coefficients(odd), shunt]).tolist()

    def beat(self, v: np.ndarray, volumes: np.ndarray | None = None,
             moved: np.ndarray | None = None) -> np.ndarray:
        """Integrate one beat from ``v`` (8, 1) in place; records as ``Stepper.beat``."""
        x0, x1, x2, x3, x4, x5, x6, x7 = v[:, 0].tolist()
        law_av, law_pv, law_tv, law_mv, law_sh = self.laws
        shunt = self.shunt
        rec = [(x0, x1, x2, x3, x4, x5, x6, x7)]
        flows = []
        orders = ((0, 1, 3), (3, 1, 0)) if shunt else ((0, 1), (1, 0))
        parity = 0
        for (a0, b0, o0, m0, n0, i0, a2, b2, o2, p2, a4, b4, o4, m4, n4, i4, a6, b6, o6, p6,
             a1, b1, o1, p1, a3, b3, o3, m3, n3, i3, a5, b5, o5, p5, a7, b7, o7, m7, n7, i7,
             a8, b8, o8, m8, n8, i8) in self.table:
            q0 = q1 = q2 = q3 = q4 = q5 = q6 = q7 = q8 = 0.0
            for sub in orders[parity]:
                if sub == 0:  # even edges
                    d = _valve(a0 * x0 - b0 * x1 - o0, m0, n0, i0, law_av)
                    x0 -= d
                    x1 += d
                    q0 += d
                    d = (a2 * x2 - b2 * x3 - o2) * p2
                    x2 -= d
                    x3 += d
                    q2 += d
                    d = _valve(a4 * x4 - b4 * x5 - o4, m4, n4, i4, law_pv)
                    x4 -= d
                    x5 += d
                    q4 += d
                    d = (a6 * x6 - b6 * x7 - o6) * p6
                    x6 -= d
                    x7 += d
                    q6 += d
                elif sub == 3:  # the shunt, LA -> RA
                    d = _valve(a8 * x7 - b8 * x3 - o8, m8, n8, i8, law_sh)
                    x7 -= d
                    x3 += d
                    q8 += d
                else:  # odd edges
                    d = (a1 * x1 - b1 * x2 - o1) * p1
                    x1 -= d
                    x2 += d
                    q1 += d
                    d = _valve(a3 * x3 - b3 * x4 - o3, m3, n3, i3, law_tv)
                    x3 -= d
                    x4 += d
                    q3 += d
                    d = (a5 * x5 - b5 * x6 - o5) * p5
                    x5 -= d
                    x6 += d
                    q5 += d
                    d = _valve(a7 * x7 - b7 * x0 - o7, m7, n7, i7, law_mv)
                    x7 -= d
                    x0 += d
                    q7 += d
            parity ^= 1
            rec.append((x0, x1, x2, x3, x4, x5, x6, x7))
            flows.append((q0, q1, q2, q3, q4, q5, q6, q7, q8))
        v[:, 0] = rec[-1]
        if volumes is not None:
            volumes[:, :, 0] = rec
        if moved is not None:
            moved[:, :, 0] += flows
        return v
