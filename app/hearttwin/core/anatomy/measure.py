"""All measurements of a label map (and CT image): the ``hearttwin measure`` result.

:func:`measure_all` runs each measurement (annulus, coronary ostia, root and
centreline, LVOT, LAA, chambers, coplanar view), never lets one missing
structure stop the others, and returns a JSON-ready dict with the DESIGN.md
keys, units in key names, ``<key>_range`` uncertainty entries and a
``warnings`` list naming what could not be measured and why.
"""

from __future__ import annotations

import copy
import time

import numpy as np

from .. import jobs
from ..errors import InputError
from .annulus import AnnulusPlane, measure_annulus
from .chambers import measure_chambers
from .laa import measure_laa
from .ostia import measure_ostia, ostium_entry
from .projection import coplanar_view
from .root import aortic_track, centreline_entry, measure_lvot, measure_root

UNCERTAINTY_NOTE = ("<key>_range: the values spanned when the segmentation boundary moves by "
                    "one voxel (structure eroded / dilated by one voxel)")

#: landmarks :func:`move_landmark` can move: name -> (section path, point key)
MOVABLE_LANDMARKS = {"annulus_centre": ("annulus", "centre_lps"),
                     "left_ostium": ("coronary_ostia.left", "point_lps"),
                     "right_ostium": ("coronary_ostia.right", "point_lps")}
#: heights above the annulus plane in ``root``: they follow the annulus centre
ROOT_HEIGHT_KEYS = ("sinus_height_mm", "sinotubular_junction_height_mm")


def measure_all(labels, image=None, *, landmarks: dict | None = None, progress=None) -> dict:
    """Measure everything a TAVI/TMVR/LAAO planner expects (SCCT conventions).

    Parameters
    ----------
    labels : Volume
        Label map (DESIGN.md labels 1-7).
    image : Volume, optional
        The CT on the same grid (HU); needed to find the coronary ostia.
    landmarks : dict, optional
        ``{"coronary_ostia": {"left": [x, y, z], "right": [x, y, z]}}`` (LPS
        mm); given ostia are used instead of detection.
    progress : jobs.Progress, optional

    Returns
    -------
    dict
        JSON-ready measurements (see DESIGN.md ``measure``).
    """
    if labels.array.ndim != 3:
        raise InputError("The label map must be a 3D volume.")
    start = time.perf_counter()
    total = 7
    result: dict = {"units": "mm, mm2, mL, g, degrees; points in LPS mm",
                    "uncertainty": UNCERTAINTY_NOTE}
    warnings: list[str] = []
    jobs.report(progress, 0, total, "Aortic annulus")
    annulus, plane, w = measure_annulus(labels, image)
    result["annulus"] = annulus
    warnings += w

    jobs.report(progress, 1, total, "Coronary ostia")
    if plane is not None:
        ostia, w = measure_ostia(image, labels, plane, landmarks)
        result["coronary_ostia"] = ostia
        warnings += w
    else:
        result["coronary_ostia"] = {}
        warnings.append("Coronary ostia heights not measured: no annulus plane to measure from.")

    jobs.report(progress, 2, total, "Aortic root and centreline")
    result["root"], result["aortic_centreline"], result["lvot"] = {}, {}, {}
    if plane is not None:
        radius = 0.5 * annulus["max_diameter_mm"] + 1.5
        tr = aortic_track(labels, plane, progress_cb=lambda arc: jobs.check(progress),
                          radius_mm=radius)
        result["root"], w = measure_root(labels, plane, tr, radius)
        warnings += w
        result["aortic_centreline"] = centreline_entry(tr)
        jobs.report(progress, 3, total, "LVOT")
        result["lvot"], w = measure_lvot(labels, plane, annulus["max_diameter_mm"])
        warnings += w
    else:
        warnings.append("Aortic root, centreline and LVOT not measured: no annulus plane.")

    jobs.report(progress, 4, total, "Left atrial appendage")
    result["laa"], w = measure_laa(labels)
    warnings += w

    jobs.report(progress, 5, total, "Chamber volumes")
    result["chambers"], w = measure_chambers(labels)
    warnings += w

    jobs.report(progress, 6, total, "Coplanar view")
    result["coplanar_view"] = coplanar_view(plane.normal) if plane is not None else {}
    result["warnings"] = warnings
    result["seconds"] = round(time.perf_counter() - start, 2)
    jobs.report(progress, total, total, "Measurements done")
    return result


def move_landmark(measurements: dict, name: str, point_lps) -> tuple[dict, list[str]]:
    """The measurements with landmark ``name`` moved by hand, and what was recomputed.

    Moving an ostium recomputes its height above the annulus plane
    (:func:`ostia.ostium_entry`, source ``"edited"``). Moving the annulus
    centre translates the annulus plane (its normal is kept) and recomputes
    every height measured from it: both ostia and the ``root`` heights of
    :data:`ROOT_HEIGHT_KEYS`. The annulus sizes, LVOT and root diameters
    are not re-cut (that needs the label map: run :func:`measure_all`).

    Parameters
    ----------
    measurements : dict
        A :func:`measure_all` result (not changed).
    name : str
        A key of :data:`MOVABLE_LANDMARKS`.
    point_lps : array-like (3,)
        The new position (LPS mm); stored rounded to 0.01 mm, as measured points are.

    Returns
    -------
    tuple
        ``(new measurements, changed)``: ``changed`` lists the dotted paths
        (``"coronary_ostia.left.height_mm"``) set by this move. A recomputed
        value loses its ``_range`` (the boundary uncertainty does not apply
        to a hand-placed point); ``new["edited"]`` accumulates every path
        changed by hand so far.
    """
    if name not in MOVABLE_LANDMARKS:
        raise InputError(f"Unknown landmark {name!r}: one of {', '.join(MOVABLE_LANDMARKS)} can be moved.")
    p = np.round(np.asarray(point_lps, float).reshape(3), 2)
    if not np.all(np.isfinite(p)):
        raise InputError(f"The new position of the {name.replace('_', ' ')} is not a finite point.")
    out = copy.deepcopy(measurements)
    annulus = out.get("annulus") or {}
    if annulus.get("centre_lps") is None or annulus.get("normal_lps") is None:
        raise InputError("The annulus plane is not measured: measure the anatomy before moving landmarks.")
    plane = AnnulusPlane(np.asarray(annulus["centre_lps"], float), np.asarray(annulus["normal_lps"], float), 0)
    ostia = out.get("coronary_ostia") or {}
    changed: list[str] = []
    if name == "annulus_centre":
        shift = float(plane.height(p))  # every height above the plane drops by this much
        plane = AnnulusPlane(p, plane.normal, 0)
        annulus["centre_lps"] = p.tolist()
        changed.append("annulus.centre_lps")
        root = out.get("root") or {}
        for key in ROOT_HEIGHT_KEYS:
            if isinstance(root.get(key), (int, float)):
                root[key] = round(float(root[key]) - shift, 2)
                root.pop(key + "_range", None)
                changed.append(f"root.{key}")
        sides = [s for s in ("left", "right") if s in ostia]
    else:
        side = name.split("_")[0]
        if side not in ostia:
            raise InputError(f"There is no {side} coronary ostium to move: it was not found when measuring.")
        sides = [side]
    for side in sides:
        entry = ostia[side]
        moved = name == f"{side}_ostium"
        entry.update(ostium_entry(p if moved else entry["point_lps"], plane,
                                  "edited" if moved else entry.get("source", "detected")))
        entry.pop("height_mm_range", None)
        changed += ([f"coronary_ostia.{side}.point_lps"] if moved else []) + [f"coronary_ostia.{side}.height_mm"]
    out["edited"] = sorted(set(out.get("edited") or []) | set(changed))
    return out, changed


def reapply_moved_landmarks(previous: dict | None, fresh: dict) -> tuple[dict, list[str], list[str]]:
    """``fresh`` measurements with every landmark moved by hand in ``previous`` moved there again.

    A landmark counts as moved when its point path (``"annulus.centre_lps"``)
    is in ``previous["edited"]``; it is put back with :func:`move_landmark`,
    the annulus centre first (the :data:`MOVABLE_LANDMARKS` order) so the
    ostium heights are recomputed on the corrected plane.

    Returns
    -------
    tuple
        ``(measurements, kept, failed)``: ``kept`` the names of the landmarks
        put back; ``failed`` one message per landmark that could not be.
    """
    previous = previous or {}
    edited = set(previous.get("edited") or [])
    out, kept, failed = fresh, [], []
    for name, (section, key) in MOVABLE_LANDMARKS.items():
        if f"{section}.{key}" not in edited:
            continue
        node = previous
        for part in section.split("."):
            node = node.get(part) if isinstance(node, dict) else None
        point = node.get(key) if isinstance(node, dict) else None
        if point is None:
            continue
        try:
            out, _changed = move_landmark(out, name, point)
        except InputError as err:
            failed.append(f"{name.replace('_', ' ')} not kept: {err}")
        else:
            kept.append(name)
    return out, kept, failed
