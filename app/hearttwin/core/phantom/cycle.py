"""Chamber volume over the cardiac cycle (phase in [0, 1), 0 = end-diastole).

Ventricles: ejection to end-systole (ESV), rapid filling, diastasis, atrial
kick back to EDV. Atria fill while the ventricles eject (maximum at
end-systole), empty passively in rapid filling and actively with the atrial
kick (minimum just before the R wave). Curves are shape-preserving cubic
interpolants through physiologic knots, periodic in phase.
"""

from __future__ import annotations

import numpy as np
from scipy.interpolate import PchipInterpolator


def _periodic(knots_phase, knots_value, phase) -> np.ndarray:
    phase = np.mod(np.asarray(phase, dtype=float), 1.0)
    interp = PchipInterpolator(knots_phase, knots_value)
    return interp(phase)


def ventricular_fraction(phase, ejection_fraction: float, es_phase: float = 0.37) -> np.ndarray:
    """Ventricular volume as a fraction of EDV.

    Parameters
    ----------
    phase : float or array_like
        Cardiac phase in [0, 1); 0 is end-diastole.
    ejection_fraction : float
        (EDV - ESV) / EDV.
    es_phase : float
        Phase of end-systole (minimum volume).
    """
    esv = 1.0 - ejection_fraction
    sv = ejection_fraction
    knots = [0.0, 0.04, es_phase, es_phase + 0.17, 0.78, 0.86, 0.95, 1.0]
    # isovolumic contraction, ejection, rapid filling (~70 % of SV), diastasis, atrial kick
    values = [1.0, 0.995, esv, esv + 0.70 * sv, esv + 0.80 * sv, esv + 0.82 * sv, 1.0, 1.0]
    return _periodic(knots, values, phase)


def atrial_fraction(phase, emptying_fraction: float, es_phase: float = 0.37) -> np.ndarray:
    """Atrial volume as a fraction of its maximum (reached near end-systole).

    Parameters
    ----------
    phase : float or array_like
        Cardiac phase in [0, 1).
    emptying_fraction : float
        (Vmax - Vmin) / Vmax, the total atrial emptying fraction.
    es_phase : float
        Phase of ventricular end-systole (atrial maximum just after it).
    """
    f = emptying_fraction
    vmin = 1.0 - f
    knots = [0.0, 0.06, es_phase + 0.03, es_phase + 0.2, 0.78, 0.86, 0.95, 1.0]
    # passive emptying ~55 % of the reservoir, conduit plateau, active (kick) ~40 %
    values = [vmin + 0.03 * f, vmin + 0.05 * f, 1.0, vmin + 0.45 * f, vmin + 0.42 * f,
              vmin + 0.40 * f, vmin, vmin + 0.03 * f]
    return _periodic(knots, values, phase)


def phase_list(n: int) -> list[float]:
    """``n`` equally spaced phases starting at end-diastole."""
    return [i / n for i in range(n)]
