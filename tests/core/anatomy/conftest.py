"""Held-out phantoms (never the sample seed 2024) with their ground truth."""

import numpy as np
import pytest

from hearttwin.core.anatomy import measure_all
from hearttwin.core.phantom.generate import generate_phantom
from hearttwin.core.phantom.params import PhantomParams

#: held-out small-preset seeds
SEEDS = (1, 2, 4)


@pytest.fixture(scope="session", params=SEEDS)
def measured(request):
    ph = generate_phantom(PhantomParams.sample(request.param, "small"))
    p = ph.phases[0]
    truth = {"annulus": ph.layout.root.annulus_truth(), **p.landmarks}
    result = measure_all(p.labels, p.image)
    truth["root"] = analytic_root_truth(ph, result["root"].get("ascending_aorta_lps"))
    return {"seed": request.param, "phase": p, "truth": truth, "result": result}


@pytest.fixture(scope="session")
def root_truth():
    """The analytic root truth function ``(phantom, ascending_point) -> dict``."""
    return analytic_root_truth


def analytic_root_truth(ph, ascending_point=None) -> dict:
    """Analytic root truth (as bench/measurements.py): widest sinus level, STJ, and the
    aorta tube's diameter nearest to the measured ascending-aorta section."""
    r = ph.layout.root
    hs = np.linspace(0.5, r.h_stj, 200)
    th = np.linspace(0, 2 * np.pi, 720, endpoint=False)
    rad = r.radius(hs[:, None], th[None, :]).astype(float)
    d_area = 2 * np.sqrt((rad ** 2).mean(axis=1))
    out = {"sinus_area_derived_diameter_mm": float(d_area.max()),
           "sinotubular_junction_height_mm": r.h_stj,
           "sinotubular_junction_diameter_mm": 2 * r.r_stj}
    if ascending_point is not None:
        from hearttwin.core.phantom import vessels

        tube = vessels.aorta(ph.params.anatomy, ph.layout, float(r.centre[2]) - 150.0)
        k = int(np.argmin(np.linalg.norm(tube.points - np.asarray(ascending_point), axis=1)))
        out["ascending_aorta_diameter_mm"] = 2 * float(tube.radii[k])
    return out
