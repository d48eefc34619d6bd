"""The credibility report (FDA 2023 guidance on computational models / ASME V&V 40).

:func:`build_credibility_report` turns the figures of
:func:`hearttwin.core.simulation.verification.credibility` (computed at run
time) into a :class:`~.content.Report`: context of use and limits, code
verification, calculation verification, validation, sensitivity and
uncertainty, provenance. :func:`write_credibility_html` writes it as one
self-contained HTML file (plots inline as base64 PNG). The report names no
patient: the case is described only as "sample case" or "input case".
"""

from __future__ import annotations

import io
from datetime import datetime, timezone

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure as MplFigure

from .content import Figure, Paragraph, Report, Section, Table
from .html import write_html
from .plots import DPI, PHASE_METRICS

def _png(fig: MplFigure) -> bytes:
    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None})
    return buf.getvalue()


def _num(v, digits: int = 2) -> str:
    if v is None:
        return "-"
    v = float(v)
    if v != 0 and (abs(v) < 1e-3 or abs(v) >= 1e5):
        return f"{v:.1e}"
    return f"{v:.{digits}f}"


def _status(ok: bool) -> str:
    return "pass" if ok else "fail"


#: names of the metrics the plan report does not plot
MORE_METRICS = {"implant_depth_mm": "Implant depth (mm)", "gap_area_mm2": "Gap area (mm2)"}


def metric_name(key: str) -> str:
    """A metric key as a readable name with its unit."""
    return PHASE_METRICS.get(key) or MORE_METRICS.get(key) or key.replace("_", " ").capitalize()


# ---------------------------------------------------------------------- sections
def context_section(fig: dict, case: str) -> Section:
    blocks = [Paragraph(fig["context_of_use"]),
              Paragraph(f"Case: {case}. Device: {fig['plan']['device']['family']} "
                        f"({fig['plan']['device']['id']}), size {fig['plan']['device']['size']}; "
                        f"fit checked at {fig['plan']['n_phases']} phases of the cycle."),
              Paragraph("Limits of the model, stated plainly:")]
    blocks += [Paragraph(f"- {text}", "note") for text in fig["limits"]]
    blocks.append(Paragraph("Every number in this report was computed when the report was made "
                            "(nothing is copied from earlier runs).", "note"))
    return Section("context", "Context of use and its limits", blocks)


def code_section(cv: dict) -> Section:
    wk, rc, sp = cv["windkessel_decay"], cv["rc_step"], cv["scipy_reference"]
    rows, status = [], []

    def add(check, result, target, ok):
        rows.append([check, result, target, _status(ok)])
        status.append(_status(ok))

    add(f"Windkessel decay over {wk['time_s']:.0f} s: model {wk['simulated_mmhg']:.6f} vs "
        f"analytic {wk['analytic_mmhg']:.6f} mmHg", f"relative error {_num(wk['relative_error'])}",
        "< 1e-6", wk["relative_error"] < 1e-6)
    add(f"RC step (tau {rc['tau_s'] * 1000:.0f} ms) at "
        + ", ".join(f"{t * 1000:.0f}" for t in rc["times_s"]) + " ms",
        f"max relative error {_num(rc['max_relative_error'])}", "< 1e-6",
        rc["max_relative_error"] < 1e-6)
    for key, what in (("volume_conservation", "normal valves"),
                      ("volume_conservation_leaky", "with a shunt and two leaking valves")):
        c = cv[key]
        add(f"Blood volume over {c['beats']} beats, {what}",
            f"max relative drift {_num(c['max_relative_drift'])}", f"< {_num(c['target'])}", c["passed"])
    for key, what in (("observed_order", "normal valves"), ("observed_order_leaky", "shunt, leaks")):
        o = cv[key]
        add(f"Observed order of accuracy, step halving {o['steps'][0]}-{o['steps'][-1]} steps "
            f"per beat ({what})", f"order {o['order']:.2f}", "1.8-2.3 (scheme order 2)", o["passed"])
    add(f"Against scipy Radau (rtol 1e-8), {sp['steps_per_beat']} steps per beat",
        f"max volume error {sp['max_volume_error_ml']:.2f} mL; EF {sp['ef_percent']:.2f} vs "
        f"{sp['ef_reference_percent']:.2f} %", "< 1 mL; EF within 0.3 %",
        sp["max_volume_error_ml"] < 1.0 and abs(sp["ef_percent"] - sp["ef_reference_percent"]) < 0.3)
    blocks = [Paragraph("Does the code solve the model's equations correctly? Analytic solutions of "
                        "reduced circuits, conservation of blood volume and the integrator's order "
                        "of accuracy."),
              Table(["Check", "Result", "Target", "Status"], rows, status, "Code verification")]
    png = _order_plot(cv)
    if png:
        blocks.append(Figure(png, "Change of the end-of-beat volumes per step halving (log-log); "
                                  "the dashed line has slope -2."))
    return Section("code_verification", "Code verification", blocks)


def _order_plot(cv: dict) -> bytes:
    fig = MplFigure(figsize=(5.0, 3.2))
    ax = fig.add_subplot(1, 1, 1)
    for key, colour, label in (("observed_order", "#1f5fa8", "normal valves"),
                               ("observed_order_leaky", "#c0392b", "shunt and leaks")):
        o = cv[key]
        n = np.array(o["steps"][:-1], float)
        ax.loglog(n, o["changes_ml"], "o-", color=colour, label=f"{label} (order {o['order']:.2f})")
    n = np.array(cv["observed_order"]["steps"][:-1], float)
    ax.loglog(n, cv["observed_order"]["changes_ml"][0] * (n / n[0]) ** -2, "--", color="#777")
    ax.set_xlabel("Steps per beat", fontsize=9)
    ax.set_ylabel("Change per halving (mL)", fontsize=9)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return _png(fig)


def calculation_section(calc: dict) -> Section:
    c0, fit = calc["circulation"], calc["fit"]
    steps = c0["steps_per_beat"]
    rows = [[k.replace("_", " "), *(_num(v) for v in vals)] for k, vals in c0["outputs"].items()]
    rows += [[f"{k} volume curve: max difference from finest (mL)",
              *(_num(v) for v in vals)] for k, vals in c0["volume_curve_max_difference_ml"].items()]
    blocks = [Paragraph("Is the discretisation fine enough? The 0D outputs, the chamber volume "
                        "curves that drive the heart motion and the worst-phase fit metrics, "
                        "recomputed with other time steps and phase counts."),
              Table(["0D output", *(f"{n} steps" for n in steps)], rows, None,
                    "Default adult: outputs against the time steps per beat")]
    for key, study, unit in (("steps_per_beat", fit["time_step"], "steps/beat"),
                             ("n_phases", fit["phase_count"], "phases")):
        values = study[key]
        rows = []
        for m, vals in study["worst"].items():
            diff = study["difference_from_finest"][m]
            rows.append([metric_name(m), *(_num(v) for v in vals), _num(diff[-2] if len(diff) > 1 else 0)])
        title = ("Worst-phase fit metrics against the 0D time steps" if key == "steps_per_beat"
                 else "Worst-phase fit metrics against the number of phases checked")
        blocks.append(Table(["Metric", *(f"{v} {unit}" for v in values),
                             "Change, last two"], rows, None, title))
        blocks.append(Figure(_convergence_plot(study, key, unit), title + "."))
    return Section("calculation_verification", "Calculation verification", blocks)


def _convergence_plot(study: dict, key: str, unit: str) -> bytes:
    metrics = list(study["worst"])
    cols = 2
    rows = max(1, (len(metrics) + cols - 1) // cols)
    fig = MplFigure(figsize=(7.0, 1.9 * rows))
    x = np.array(study[key], float)
    for i, m in enumerate(metrics):
        ax = fig.add_subplot(rows, cols, i + 1)
        y = np.array([np.nan if v is None else v for v in study["worst"][m]], float)
        ax.semilogx(x, y, "o-", color="#1f5fa8", lw=1.5, ms=3, base=2)
        ax.set_title(metric_name(m), fontsize=9)
        ax.tick_params(labelsize=8)
        ax.grid(alpha=0.3)
        if i >= len(metrics) - cols:
            ax.set_xlabel(unit, fontsize=8)
    fig.tight_layout()
    return _png(fig)


def validation_section(val: dict) -> Section:
    rows, status = [], []
    for r in val["rows"]:
        low, high = r["normal_range"]
        rng = (f"{_num(low, 0)}-{_num(high, 0)}" if low is not None and high is not None
               else (f">= {_num(low, 0)}" if low is not None else f"<= {_num(high, 0)}"))
        target = r.get("design_target")
        rows.append([r["quantity"], f"{_num(r['value'], 1)} {r['unit']}", f"{rng} {r['unit']}",
                     f"{_num(target[0], 0)}-{_num(target[1], 0)}" if target else "-",
                     r["source"], _status(r["passed"])])
        status.append(_status(r["passed"]))
    return Section("validation", "Validation", [
        Paragraph(f"Does the model give physiological numbers? The default adult at "
                  f"{val['heart_rate_bpm']:.0f} bpm against published normal resting values "
                  f"({val['passed']} of {val['total']} within range). Comparison against patient "
                  "measurements is not part of this report."),
        Table(["Quantity", "Model", "Published normal range", "HeartTwin design target",
               "Source", "Status"], rows, status, "Default adult against published normal values")])


def sensitivity_section(sens: dict) -> Section:
    factors = sens["factors"]
    names = {"segmentation": "Segmentation +-1 voxel", "position": f"Position +-{sens['position_mm']:g} mm",
             "compliance": "Root compliance", "pressure": "Blood pressure"}
    rows = []
    for m, nominal in sens["nominal"].items():
        cells = [metric_name(m), _num(nominal)]
        for f in names:
            iv = factors[f]["intervals"].get(m + "_range")
            cells.append(f"[{_num(iv[0])}, {_num(iv[1])}]" if iv else "-")
        o = sens["overall"][m + "_range"]
        cells.append(f"[{_num(o[0])}, {_num(o[1])}]")
        rows.append(cells)
    runs = [[names[f], r["label"]] for f in names for r in factors[f]["runs"]]
    blocks = [Paragraph("How much do the worst-phase fit metrics move when the inputs move within "
                        "their uncertainty? Each factor is changed alone; the interval is "
                        "[min, max] over the nominal run and that factor's runs. Every run is the "
                        f"fit over the whole cycle ({sens['n_phases']} phases)."),
              Table(["Metric", "Nominal", *names.values(), "All runs"], rows, None,
                    "Worst-phase fit metrics: nominal and intervals"),
              Figure(_interval_plot(sens, names), "Intervals of the worst-phase metrics by factor "
                                                  "(bar: [min, max]; dot: nominal).")]
    notes = ["Segmentation: the lumen the device sits in dilated and eroded by one voxel; the "
             "annulus, the coronary-ostium heights and the chamber volumes were measured again, the "
             "device pose kept. With a CT, the annulus contour lies on the image edges, so a "
             "one-voxel change of the label map barely moves it."]
    if sens.get("annulus_area_mm2_range"):
        lo, hi = sens["annulus_area_mm2_range"]
        notes.append(f"The annulus measurement itself spans {lo:.0f}-{hi:.0f} mm2 (nominal "
                     f"{sens['annulus_area_mm2']:.0f} mm2) when its label-boundary contour moves by "
                     "one voxel (hearttwin measure, area_mm2_range); the oversizing moves with it.")
    notes += ["Position: moved along the device axis and its two lateral axes.",
              "Root compliance: area change per mmHg of aortic pressure (default 0.001, about +4 % "
              "over a 40 mmHg pulse pressure); 0 is a rigid (calcified) root.",
              "Blood pressure: the circulation personalised to each cuff pressure pair."]
    blocks += [Paragraph(t, "note") for t in notes]
    blocks.append(Table(["Factor", "Run"], runs, None, "Runs"))
    return Section("sensitivity", "Sensitivity and uncertainty", blocks)


def _interval_plot(sens: dict, names: dict) -> bytes:
    metrics = list(sens["nominal"])
    cols = 2
    rows = max(1, (len(metrics) + cols - 1) // cols)
    fig = MplFigure(figsize=(7.0, 1.9 * rows))
    colours = ("#1f5fa8", "#c0392b", "#2e8b57", "#e0a800")
    for i, m in enumerate(metrics):
        ax = fig.add_subplot(rows, cols, i + 1)
        for j, f in enumerate(names):
            iv = sens["factors"][f]["intervals"].get(m + "_range")
            if iv:
                ax.plot(iv, [j, j], "-", color=colours[j], lw=5, solid_capstyle="butt")
        ax.plot([sens["nominal"][m]] * len(names), range(len(names)), "ko", ms=3)
        ax.set_yticks(range(len(names)))
        ax.set_yticklabels([n.split(" ")[0] for n in names.values()], fontsize=7)
        ax.set_title(metric_name(m), fontsize=9)
        ax.tick_params(axis="x", labelsize=8)
        ax.grid(alpha=0.3, axis="x")
    fig.tight_layout()
    return _png(fig)


def provenance_section(fig: dict, version: str) -> Section:
    cv = fig["code_verification"]
    return Section("provenance", "Provenance", [Table(["Item", "Value"], [
        ["Software", f"HeartTwin {version}"],
        ["Computed in", f"{fig['seconds']:.1f} s (code verification {cv['seconds']:.1f} s, "
                        f"sensitivity {fig['sensitivity']['seconds']:.1f} s)"],
        ["Framework", "FDA guidance 'Assessing the Credibility of Computational Modeling and "
                      "Simulation in Medical Device Submissions' (2023); ASME V&V 40-2018"],
    ])])


def checks(figures: dict) -> list[tuple[str, bool]]:
    """Every pass/fail check of the report: (what, passed)."""
    cv = figures["code_verification"]
    sp = cv["scipy_reference"]
    out = [("Windkessel decay", cv["windkessel_decay"]["relative_error"] < 1e-6),
           ("RC step", cv["rc_step"]["max_relative_error"] < 1e-6)]
    out += [(f"{k.replace('_', ' ')}", cv[k]["passed"]) for k in
            ("volume_conservation", "volume_conservation_leaky", "observed_order",
             "observed_order_leaky")]
    out.append(("scipy reference", sp["max_volume_error_ml"] < 1.0
                and abs(sp["ef_percent"] - sp["ef_reference_percent"]) < 0.3))
    out += [(r["quantity"], r["passed"]) for r in figures["validation"]["rows"]]
    return out


def build_credibility_report(figures: dict, *, case: str = "input case", version: str = "") -> Report:
    """The credibility :class:`Report` of ``figures`` (see the module docstring).

    The report carries no overall verdict (that is the plan's); the context
    section says how many verification and validation checks passed.
    """
    results = checks(figures)
    context = context_section(figures, case)
    failed = [name for name, ok in results if not ok]
    summary = (f"Verification and validation checks passed: {len(results) - len(failed)} of "
               f"{len(results)}." + (f" Failed: {', '.join(failed)}." if failed else ""))
    context.blocks.insert(1, Paragraph(summary, "warning" if failed else "body"))
    return Report(
        title="Credibility of the HeartTwin beating-heart model",
        subtitle="Verification, validation and uncertainty (FDA 2023 guidance / ASME V&V 40)",
        overall=None,
        sections=[context, code_section(figures["code_verification"]),
                  calculation_section(figures["calculation_verification"]),
                  validation_section(figures["validation"]),
                  sensitivity_section(figures["sensitivity"]),
                  provenance_section(figures, version)],
        anonymised=True,
        generated_utc=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M"))


def write_credibility_html(report: Report, path):
    """Write the report as one self-contained HTML file; returns its path."""
    return write_html(report, path)
