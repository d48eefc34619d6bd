"""Assemble a plan report from plain inputs: :func:`build_report`.

Inputs are what a Case holds (identifiers, series description, label map,
measurements, plan, optional simulation, history), so the CLI, the GUI and a
batch script build the same report. The 3D views are real offscreen renders
of the label surfaces and the placed device (:mod:`hearttwin.render`).
"""

from __future__ import annotations

from datetime import datetime, timezone

from ..core import jobs
from ..core.errors import InputError
from ..render import PENETRATION_FULL_MM, build_scene, png_bytes, render, standard_views
from . import sections_case, sections_plan
from .content import Figure, Paragraph, Report, Section, scrub
from .identifiers import secret_strings

#: size of each 3D view (pixels)
RENDER_SIZE = (800, 600)


def views_section(labels, plan: dict, measurements: dict | None, *, surfaces=None,
                  size=RENDER_SIZE, progress=None) -> Section:
    """Rendered 3D views of the device in the anatomy (anterior, coplanar, en face)."""
    scene = build_scene(labels, plan, surfaces=surfaces, progress=jobs.SubProgress(progress, 0, 40, 100))
    views = standard_views(scene, measurements)
    blocks: list = [Paragraph(
        f"Device colour: grey where it sits in the lumen, shading to red where it lies "
        f"{PENETRATION_FULL_MM:.0f} mm or more into the wall (deepest "
        f"{float(scene.penetration_mm.max()):.1f} mm). Anatomy in the labels' colours; the coplanar and "
        f"en-face views cut the anatomy open at the device.", "note")]
    for i, view in enumerate(views):
        jobs.report(progress, 40 + 60 * i / len(views), 100, f"Rendering the {view.name.replace('_', '-')} view")
        image = render(scene, view, size=size)
        blocks.append(Figure(png_bytes(image), view.title + ".", kind="render", width=0.75))
    jobs.report(progress, 100, 100, "Views rendered")
    return Section("views", "3D views", blocks)


def build_report(*, labels, plan: dict, measurements: dict | None = None, identifiers: dict | None = None,
                 series: dict | None = None, simulation: dict | None = None, history: list | None = None,
                 anonymise: bool = False, warnings=(), surfaces=None, render_size=RENDER_SIZE,
                 progress=None) -> Report:
    """The report of one plan.

    Parameters
    ----------
    labels : Volume
        Label map the plan was made on.
    plan : dict
        :func:`hearttwin.core.devices.plan.plan_static` result.
    measurements : dict, optional
        :func:`hearttwin.core.anatomy.measure_all` result.
    identifiers : dict, optional
        ``patient_name``, ``patient_id``, ``birth_date``, ``accession_number``,
        ``study_date``, ``study_description``, ``institution``, ``case_label``
        (see :mod:`.identifiers`).
    series : dict, optional
        The series used (``hearttwin info`` series keys, or a Volume's meta).
    simulation : dict, optional
        :func:`hearttwin.core.simulation.before_after` (or ``simulate --json``
        with loops) result; PV loops are shown only when present.
    history : list of dict, optional
        The case's history steps (``name``, ``params``, ``time_utc``).
    anonymise : bool
        Leave out (and scrub) every patient identifier.
    warnings : iterable of str
        Extra warnings to list under the limitations.
    surfaces : dict, optional
        ``{label: vtkPolyData}`` already extracted (saves the surface step).
    render_size : (int, int)
        Pixels of each 3D view.
    progress : jobs.Progress, optional

    Returns
    -------
    Report
    """
    if not isinstance(plan, dict) or "device" not in plan or "verdicts" not in plan:
        raise InputError("The report needs a device plan (hearttwin plan): this case has none.")
    generated = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M")
    jobs.report(progress, 0, 100, "Report: case")
    sections = [
        sections_case.identity(identifiers, anonymise),
        sections_case.series(series),
        sections_case.segmentation(labels, measurements),
        sections_case.measurements_section(measurements),
        sections_plan.device(plan),
    ]
    jobs.check(progress)
    jobs.report(progress, 10, 100, "Report: plots")
    sections += [sections_plan.fit(plan), sections_plan.haemodynamics(plan, simulation)]
    sections.append(views_section(labels, plan, measurements, surfaces=surfaces, size=render_size,
                                  progress=jobs.SubProgress(progress, 20, 95, 100)))
    sections += [
        sections_plan.verdicts(plan),
        sections_plan.context(plan, simulation, series, warnings),
        sections_plan.provenance(plan, history, generated, anonymise),
    ]
    d = plan["device"]
    subtitle = f"{d.get('family', d['id'])}, size {d.get('size')}"
    report = Report(title="HeartTwin plan report", subtitle=subtitle, overall=plan.get("overall"),
                    sections=sections, anonymised=bool(anonymise), generated_utc=generated)
    if anonymise:
        scrub(report, secret_strings(identifiers))
    jobs.report(progress, 100, 100, "Report ready")
    return report
