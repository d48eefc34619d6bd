"""Ground truth of a phantom: label volumes, annulus, ostia, LAA, parameters.

Volumes come from the label maps (voxel count x voxel volume), so they match
what a perfect segmentation of the written files would measure; the annulus,
the coronary ostia and the LAA ostium come from the analytic geometry.
"""

from __future__ import annotations

import numpy as np

from .heart import LABELS

#: myocardial density (g/mL) used for the mass
MYOCARDIAL_DENSITY = 1.05


def label_volumes(labels: np.ndarray, voxel_mm3: float) -> dict:
    """``{name: {"label": n, "volume_ml": v}}`` for the seven heart labels."""
    counts = np.bincount(np.asarray(labels).ravel(), minlength=8)
    return {name: {"label": n, "volume_ml": float(counts[n] * voxel_mm3 / 1000.0)}
            for name, n in LABELS.items()}


def geometry(volume) -> dict:
    return {
        "size": list(volume.size),
        "spacing_mm": list(volume.spacing),
        "origin_lps": list(volume.origin),
        "direction": np.asarray(volume.direction).ravel().tolist(),
    }


def build_truth(params, layout, phases) -> dict:
    """The ``truth.json`` content.

    Parameters
    ----------
    params : PhantomParams
        The parameters (recorded in full).
    layout : chambers.Layout
        Phase-independent geometry (annulus).
    phases : list of dict
        Per phase: ``{"phase", "volumes" (from :func:`label_volumes`),
        "landmarks", "calcium"}``; the first is end-diastole.
    """
    first = phases[0]
    structures = first["volumes"]
    myo_ml = structures["MYO"]["volume_ml"]
    truth = {
        "synthetic": True,
        "description": "HeartTwin synthetic contrast-enhanced cardiac CT phantom (no patient data)",
        "seed": params.seed,
        "preset": params.preset,
        "label_names": {str(v): k for k, v in LABELS.items()},
        "structures": structures,
        "myocardial_mass_g": myo_ml * MYOCARDIAL_DENSITY,
        "annulus": layout.root.annulus_truth(),
        "coronary_ostia": first["landmarks"]["coronary_ostia"],
        "laa_ostium": first["landmarks"]["laa_ostium"],
        "landmarks": {k: v for k, v in first["landmarks"].items()
                      if k not in ("coronary_ostia", "laa_ostium")},
        "calcium_nodules": first["calcium"],
        "root": {
            "sinotubular_junction_height_mm": layout.root.h_stj,
            "sinotubular_junction_diameter_mm": 2.0 * layout.root.r_stj,
            "sinus_bulge_mm": layout.root.bulge,
        },
        "phases": [p["phase"] for p in phases],
        "parameters": params.to_dict(),
    }
    if len(phases) > 1:
        truth["per_phase"] = [
            {"phase": p["phase"],
             "volumes_ml": {k: v["volume_ml"] for k, v in p["volumes"].items()},
             "myocardial_mass_g": p["volumes"]["MYO"]["volume_ml"] * MYOCARDIAL_DENSITY}
            for p in phases
        ]
        for name in ("LV", "RV"):
            vols = [p["volumes"][name]["volume_ml"] for p in phases]
            edv, esv = vols[0], min(vols)
            truth[name.lower()] = {"edv_ml": edv, "esv_ml": esv, "sv_ml": edv - esv,
                                   "ef_percent": 100.0 * (edv - esv) / edv if edv else 0.0,
                                   "es_phase": phases[int(np.argmin(vols))]["phase"]}
    return truth
