"""Optimal fluoroscopic projection: C-arm angles that see the annulus edge-on.

Convention (the usual cath-lab one):

* LAO/RAO angle ``alpha`` (degrees, LAO positive): rotation of the image
  intensifier about the patient's head-foot axis, towards the patient's
  left for LAO;
* cranial/caudal angle ``beta`` (degrees, CRA positive): tilt of the image
  intensifier towards the patient's head.

The image intensifier then sits, from the patient, in the LPS direction

    d(alpha, beta) = (sin(alpha) cos(beta), -cos(alpha) cos(beta), sin(beta))

(AP = (0, -1, 0): anterior). The X-ray beam runs along ``-d``. The annulus
plane is seen edge-on (coplanar, the three cusps in a line) when ``d`` is
perpendicular to the annulus normal ``n``:

    tan(beta) = (n_y cos(alpha) - n_x sin(alpha)) / n_z

a one-parameter family, the *coplanar curve*. It is returned sampled over
LAO/RAO -90..90 degrees with a recommended view: the point of the curve with
the smallest total angulation ``sqrt(alpha^2 + beta^2)`` (least
foreshortening of the patient, easiest to reach).
"""

from __future__ import annotations

import numpy as np


def detector_direction(lao_deg: float, cra_deg: float) -> np.ndarray:
    """Unit LPS vector from the patient to the image intensifier."""
    a, b = np.deg2rad(lao_deg), np.deg2rad(cra_deg)
    return np.array([np.sin(a) * np.cos(b), -np.cos(a) * np.cos(b), np.sin(b)])


def coplanar_cranial(normal, lao_deg) -> np.ndarray:
    """CRA/CAU angle(s) (degrees) on the coplanar curve for LAO/RAO angle(s)."""
    n = np.asarray(normal, float) / np.linalg.norm(normal)
    a = np.deg2rad(np.asarray(lao_deg, float))
    num = n[1] * np.cos(a) - n[0] * np.sin(a)
    if abs(n[2]) < 1e-9:  # a horizontal normal: only +-90 degree tilts are coplanar
        return np.where(np.abs(num) < 1e-9, 0.0, 90.0)
    return np.rad2deg(np.arctan(num / n[2]))


def coplanar_view(normal, step_deg: float = 5.0) -> dict:
    """The coplanar curve and a recommended view (JSON-ready).

    Parameters
    ----------
    normal : array_like
        Annulus normal in LPS (either orientation).
    step_deg : float
        Sampling of the LAO/RAO angle along the curve.
    """
    n = np.asarray(normal, float) / np.linalg.norm(normal)
    fine = np.arange(-90.0, 90.0 + 1e-9, 0.1)
    cra = coplanar_cranial(n, fine)
    best = int(np.argmin(fine ** 2 + cra ** 2))
    lao, beta = float(fine[best]), float(cra[best])
    coarse = np.arange(-90.0, 90.0 + 1e-9, step_deg)
    curve = [[round(float(a), 1), round(float(b), 1)] for a, b in zip(coarse, coplanar_cranial(n, coarse))]
    ap = float(coplanar_cranial(n, 0.0))
    return {
        "convention": "LAO positive / RAO negative; CRA positive / CAU negative (degrees); "
                      "image intensifier direction (sin a cos b, -cos a cos b, sin b) in LPS",
        "recommended": view_entry(lao, beta),
        "at_lao_0": view_entry(0.0, ap),
        "curve_lao_cra_deg": curve,
    }


def view_entry(lao: float, cra: float) -> dict:
    return {"lao_deg": round(lao, 1), "cra_deg": round(cra, 1), "label": view_label(lao, cra),
            "detector_direction_lps": [round(float(v), 4) for v in detector_direction(lao, cra)]}


def view_label(lao: float, cra: float) -> str:
    """``"LAO 12 CAU 8"`` style text."""
    side = "LAO" if lao >= 0 else "RAO"
    tilt = "CRA" if cra >= 0 else "CAU"
    return f"{side} {abs(lao):.0f} {tilt} {abs(cra):.0f}"
