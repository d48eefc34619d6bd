"""Plain (Qt-free) jobs of the later workflow steps, run by the GUI in a worker or the child process.

Each takes plain inputs and a ``progress`` keyword, and returns picklable
results, so :func:`hearttwin.gui.process_jobs.run` can run it in HeartTwin's
child process (``isolate=True``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..core import jobs
from ..core.errors import InputError

#: model formats offered for export
MODEL_FORMATS = ("stl", "obj")


def export_models(labels, folder, *, fmt: str = "stl", printable: bool = False, progress=None) -> list[str]:
    """Write one surface model per heart structure to ``folder`` (``fmt``: stl or obj).

    ``printable=True`` makes each model closed and manifold for 3D printing
    (:func:`hearttwin.core.mesh.printable.make_printable`). Returns the paths written.
    """
    from ..core.mesh import surfaces_from_labels
    from ..core.mesh.export import write_mesh
    from ..core.segmentation import labels as label_table

    fmt = fmt.lower().lstrip(".")
    if fmt not in MODEL_FORMATS:
        raise InputError(f"Model formats are {', '.join(MODEL_FORMATS)}; got {fmt!r}.")
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"The folder {folder} does not exist: choose another.")
    surfaces = surfaces_from_labels(labels, progress=jobs.SubProgress(progress, 0, 60, 100))
    names = {s.label: s.key for s in label_table.structures()}
    out = []
    for n, (label, poly) in enumerate(sorted(surfaces.items())):
        jobs.report(progress, 60 + 40 * n // max(1, len(surfaces)), 100, f"Writing {names.get(label, label)}")
        if printable:
            from ..core.mesh.printable import make_printable

            poly = make_printable(poly)
        name = names.get(label, f"label{label}")
        out.append(str(write_mesh(poly, folder / f"{name}.{fmt}", name=name)))
    jobs.report(progress, 100, 100, "Models written")
    return out


def same_device(plan: dict, device: dict) -> bool:
    """Whether ``plan`` (a plan JSON) is of ``device`` as placed now (same id, size and pose)."""
    pose = plan.get("pose_lps")
    return (plan.get("device", {}).get("id") == device["id"]
            and str(plan.get("device", {}).get("size")) == str(device["size"])
            and pose is not None and np.allclose(pose, device["pose_lps"], atol=1e-4))


def series_info(image, labels) -> dict:
    """The series keys the report shows, from the volumes' metadata."""
    vol = image if image is not None else labels
    meta = dict(getattr(vol, "meta", None) or {})
    keep = ("description", "series_number", "series_label", "modality", "phases", "phase", "warnings",
            "synthetic", "source")
    info = {k: meta[k] for k in keep if k in meta}
    info["size"] = list(np.asarray(vol.array).shape[::-1])
    info["spacing_mm"] = [float(s) for s in vol.spacing]
    return info


def write_case_report(*, labels, image, plan: dict | None, device: dict | None, measurements: dict,
                      history: list, warnings: list, path, anonymise: bool = False,
                      case_label: str = "", source: str | None = None, progress=None) -> str:
    """Build and write the plan report of a case (``path``: .html or .pdf); returns the path.

    ``plan`` is the plan over the cycle when the case was simulated; otherwise
    the plan at the acquired phase is computed for ``device`` (``{"id",
    "size", "pose_lps"}``). ``source``: the DICOM folder, read for the patient
    identifiers (left out when ``anonymise``).
    """
    from ..report import build_report, report_format, write_report

    path = Path(path)
    report_format(path)  # .html or .pdf, before any work
    if plan is None:
        if not device:
            raise InputError("Place a device (Device step) before writing the report.")
        from ..core.devices.plan import plan_static

        plan = plan_static(labels, device_id=device["id"], size=device["size"], image=image,
                           measurements=measurements, pose=device["pose_lps"],
                           progress=jobs.SubProgress(progress, 0, 20, 100))
    h = plan.get("haemodynamics") or {}
    simulation = h if isinstance(h.get("before"), dict) else None
    identifiers = {}
    if source and Path(source).exists():
        from ..report.identifiers import read_identifiers

        identifiers = read_identifiers(source)
    if case_label:
        identifiers["case_label"] = case_label
    report = build_report(labels=labels, plan=plan, measurements=measurements, identifiers=identifiers,
                          series=series_info(image, labels), simulation=simulation, history=history,
                          anonymise=anonymise, warnings=list(warnings),
                          progress=jobs.SubProgress(progress, 20, 95, 100))
    jobs.report(progress, 95, 100, "Writing the report")
    write_report(report, path)
    jobs.report(progress, 100, 100, "Report written")
    return str(path)
