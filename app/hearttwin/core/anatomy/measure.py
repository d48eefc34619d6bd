"""All measurements of a label map (and CT image): the ``hearttwin measure`` result.

:func:`measure_all` runs each measurement (annulus, coronary ostia, root and
centreline, LVOT, LAA, chambers, coplanar view), never lets one missing
structure stop the others, and returns a JSON-ready dict with the DESIGN.md
keys, units in key names, ``<key>_range`` uncertainty entries and a
``warnings`` list naming what could not be measured and why.
"""

from __future__ import annotations

import time

from .. import jobs
from ..errors import InputError
from .annulus import measure_annulus
from .chambers import measure_chambers
from .laa import measure_laa
from .ostia import measure_ostia
from .projection import coplanar_view
from .root import aortic_track, centreline_entry, measure_lvot, measure_root

UNCERTAINTY_NOTE = ("<key>_range: the values spanned when the segmentation boundary moves by "
                    "one voxel (structure eroded / dilated by one voxel)")


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
