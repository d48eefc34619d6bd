"""Report sections about the plan: device and sizing, fit, haemodynamics, verdicts, context, provenance.

Inputs are the plan dict of :func:`hearttwin.core.devices.plan.plan_static`
(DESIGN.md ``plan`` keys), an optional simulation dict and the case history
as a list of step dicts.
"""

from __future__ import annotations

import json
import platform

from . import plots
from .content import Figure, Paragraph, Section, Table
from .sections_case import fmt, readable

#: metrics shown when a plan has many phases (one column each)
KEY_METRICS = tuple(plots.PHASE_METRICS)
_MAX_PHASE_COLUMNS = 6


def device(plan: dict) -> Section:
    """The chosen device and size, the chart's recommendation and why, the placement."""
    d, sizing, pl = plan["device"], plan.get("sizing") or {}, plan.get("placement") or {}
    rows = [["Device", f"{d.get('family', '')} ({d['id']})"], ["Size", str(d.get("size"))]]
    if d.get("nominal_diameter_mm") is not None:
        rows.append(["Nominal diameter", f"{fmt(d['nominal_diameter_mm'])} mm"])
    rec = plan.get("recommended_size")
    rows.append(["Recommended size (sizing chart)", "none fits" if rec is None else str(rec)])
    if sizing.get("by"):
        name, unit = readable(str(sizing["by"]))
        rows.append(["Sized by", f"{name} {fmt(sizing.get('value'))} {unit}".strip()])
    if pl:
        rows.append(["Anchor", str(pl.get("anchor", "")).replace("_", " ")])
        rows.append(["Placement depth", f"{fmt(pl.get('depth_mm'))} mm"])
        rows.append(["Axis angle to the anchor axis", f"{fmt(pl.get('axis_angle_deg'))} deg"])
    blocks = [Table(["Item", "Value"], rows)]
    if sizing.get("reason"):
        blocks.append(Paragraph(f"Sizing rationale: {sizing['reason']}."))
    if rec is not None and str(rec) != str(d.get("size")):
        blocks.append(Paragraph(f"The planned size ({d.get('size')}) differs from the chart's "
                                f"recommendation ({rec}).", "warning"))
    return Section("device", "Device and sizing", blocks)


def _metric_name(key: str) -> str:
    if key in plots.PHASE_METRICS:
        return plots.PHASE_METRICS[key]
    name, unit = readable(key)
    return f"{name} ({unit})" if unit else name


def fit(plan: dict) -> Section:
    """Per-phase fit table, metric-vs-phase and by-level plots."""
    phases = sorted(plan.get("phases") or [], key=lambda p: p["phase"])
    worst = plan.get("worst") or {}
    blocks: list = []
    if not phases:
        return Section("fit", "Fit over the cardiac cycle", [Paragraph("The plan has no fit results.", "warning")])
    if len(phases) <= _MAX_PHASE_COLUMNS:
        keys = list(dict.fromkeys(k for p in phases for k in p["metrics"]))
        header = ["Metric"] + [f"Phase {p['phase']:.2f}" for p in phases] + ["Worst (phase)"]
        rows = []
        for k in keys:
            w = worst.get(k) or {}
            worst_text = f"{fmt(w.get('value'), 2)} ({w['phase']:.2f})" if w.get("phase") is not None else "-"
            rows.append([_metric_name(k)] + [fmt(p["metrics"].get(k), 2) for p in phases] + [worst_text])
    else:
        keys = [k for k in KEY_METRICS if any(p["metrics"].get(k) is not None for p in phases)]
        header = ["Phase"] + [_metric_name(k) for k in keys]
        rows = [[f"{p['phase']:.2f}"] + [fmt(p["metrics"].get(k), 2) for k in keys] for p in phases]
    blocks.append(Table(header, rows, caption="Fit metrics per cardiac phase (0 = end-diastole)."))
    if len(phases) == 1:
        blocks.append(Paragraph("The fit was computed at one phase, the CT as acquired; the fit over the "
                                "cardiac cycle (metric against phase) needs the beating-heart simulation.",
                                "note"))
    else:
        png = plots.metric_vs_phase(plan)
        if png:
            blocks.append(Figure(png, "Fit metrics against cardiac phase; dashed lines: the catalogue's "
                                      "caution (amber) and fail (red) bounds."))
    png = plots.fit_by_level(plan)
    if png:
        blocks.append(Figure(png, f"Fit along the device's sealing zone at phase {phases[0]['phase']:.2f}."))
    return Section("fit", "Fit over the cardiac cycle", blocks)


def haemodynamics(plan: dict, simulation: dict | None) -> Section:
    """Haemodynamic effect of the device: the plan's figures, before/after changes, PV loops."""
    blocks: list = []
    h = plan.get("haemodynamics") or {}
    rows = [[readable(k)[0], fmt(v, 2), readable(k)[1]] for k, v in h.items()
            if isinstance(v, (int, float)) and not isinstance(v, bool)]
    if rows:
        blocks.append(Table(["Quantity", "Value", "Unit"], rows, caption="Haemodynamics of the plan."))
    change = (simulation or {}).get("change") or {}
    rows = []
    for k, v in change.items():
        if isinstance(v, (list, tuple)) and len(v) == 2:
            name, unit = readable(k)
            rows.append([name, fmt(v[0], 2), fmt(v[1], 2), unit])
    if rows:
        blocks.append(Table(["Quantity", "Before", "With the device", "Unit"], rows,
                            caption=f"Simulated change ({change.get('valve', 'device')} valve)."))
    png = plots.pv_loops(simulation)
    if png:
        which = " before and with the device" if len(plots.loops_of(simulation)) > 1 else ""
        blocks.append(Figure(png, f"Left ventricular pressure-volume loop{which} (0D simulation).", width=0.7))
    else:
        blocks.append(Paragraph("No simulation of the beating heart is included with this plan: "
                                "pressure-volume loops are not shown.", "note"))
    return Section("haemodynamics", "Haemodynamics", blocks)


def _bounds_text(bounds: dict) -> str:
    words = {"fail_below": "fail <", "caution_below": "caution <", "caution_above": "caution >",
             "fail_above": "fail >"}
    return ", ".join(f"{words[k]} {fmt(v)}" for k, v in (bounds or {}).items() if k in words)


def verdicts(plan: dict) -> Section:
    """One row per catalogue rule, coloured by status, and the overall verdict."""
    vs = plan.get("verdicts") or []
    rows = [[_metric_name(v["rule"]), fmt(v.get("value"), 2), v["status"].upper(),
             _bounds_text(v.get("bounds")), v.get("note") or v.get("why", "")] for v in vs]
    blocks = [Paragraph(f"Overall verdict: {str(plan.get('overall', 'pass')).upper()} "
                        "(the worst of the rules below).")]
    if rows:
        blocks.append(Table(["Rule", "Value", "Status", "Bounds", "Why it matters"], rows,
                            status=[v["status"] for v in vs]))
    else:
        blocks.append(Paragraph("No catalogue rule applies to this plan.", "note"))
    return Section("verdicts", "Verdicts", blocks)


CONTEXT_OF_USE = (
    "HeartTwin is a planning and teaching aid for structural heart procedures. It sizes and places a "
    "virtual device on a segmentation of the patient's CT and checks geometric fit metrics against "
    "the rules of its device catalogue. It is meant for trained clinicians, read together with the CT "
    "itself and the device manufacturer's instructions for use. It does not replace clinical "
    "judgement and is not a certified medical device."
)


def context(plan: dict, simulation: dict | None, series_info: dict | None, warnings=()) -> Section:
    """The model's context of use and its limitations for this plan."""
    limits = [
        "Measurements come from the segmentation; each range shows how far the value moves when "
        "the segmentation boundary moves by one voxel either way.",
        "The device is a rigid, axisymmetric envelope at its nominal expansion: leaflets, calcium and "
        "tissue deformation are not modelled. Penetration into the wall marks where the real frame and "
        "tissue would deform each other.",
    ]
    if len(plan.get("phases") or []) <= 1:
        limits.append("The fit is static: one phase, the CT as acquired.")
    if simulation:
        limits.append("Haemodynamics come from a lumped (0D) circulation model; pressures and flows are "
                      "indicative, not patient measurements.")
    else:
        limits.append("No haemodynamic simulation is included.")
    if (series_info or {}).get("synthetic"):
        limits.append("The images are synthetic (a HeartTwin phantom), not a patient's CT.")
    blocks = [Paragraph(CONTEXT_OF_USE), Paragraph("Limitations:")]
    blocks += [Paragraph(f"- {t}") for t in limits]
    for w in dict.fromkeys(list(warnings) + list(plan.get("warnings") or [])):
        blocks.append(Paragraph(f"Warning: {w}", "warning"))
    return Section("context", "Context of use and limitations", blocks)


def provenance(plan: dict, history: list | None, generated_utc: str, anonymise: bool) -> Section:
    """Software versions, the report's date and the steps applied to the case."""
    from .. import __version__

    rows = [["HeartTwin", __version__], ["Python", platform.python_version()]]
    for module in ("vtkmodules", "numpy", "SimpleITK", "scipy", "matplotlib"):
        rows.append([module.replace("vtkmodules", "VTK"), _version_of(module)])
    rows.append(["Device catalogue entry", str(plan.get("device", {}).get("id", "-"))])
    if plan.get("seconds") is not None:
        rows.append(["Plan computed in", f"{fmt(plan['seconds'], 2)} s"])
    rows.append(["Report generated (UTC)", generated_utc])
    blocks = [Table(["Item", "Value"], rows)]
    steps = list(history or [])
    if steps:
        if anonymise:  # parameters may hold paths; times date the patient's care
            hrows = [[str(i + 1), str(s.get("name", ""))] for i, s in enumerate(steps)]
            blocks.append(Table(["#", "Step"], hrows, caption="Steps applied to the case (parameters and "
                                                             "times left out of the anonymised report)."))
        else:
            hrows = [[str(i + 1), str(s.get("name", "")), str(s.get("time_utc", ""))[:19].replace("T", " "),
                      _short(s.get("params"))] for i, s in enumerate(steps)]
            blocks.append(Table(["#", "Step", "Time (UTC)", "Parameters"], hrows,
                                caption="Steps applied to the case."))
    else:
        blocks.append(Paragraph("No recorded history: the plan was computed directly from the inputs.", "note"))
    return Section("provenance", "Software and provenance", blocks)


def _short(params, limit: int = 140) -> str:
    text = json.dumps(params or {}, separators=(", ", ": "), default=str)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _version_of(module: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    dist = {"vtkmodules": "vtk", "SimpleITK": "SimpleITK"}.get(module, module)
    try:
        return version(dist)
    except PackageNotFoundError:
        return "-"
