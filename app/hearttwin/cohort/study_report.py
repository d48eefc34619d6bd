"""The summary report of a study: one self-contained HTML file (plots embedded as base64 PNG).

Built on the plan report's content model and HTML writer
(:mod:`hearttwin.report`): study and models stated, success rate per device
size, distribution of each metric per size, patients at risk, failed plans,
and run time. The CSVs of :mod:`.summary` carry the same numbers.
"""

from __future__ import annotations

import datetime
from pathlib import Path

from ..core.devices.catalogue import get_device
from ..report.content import Figure, Paragraph, Report, Section, Table
from ..report.html import write_html
from . import haemo, plots
from .distributions import describe
from .summary import REPORTED, SUMMARY_COLUMNS, summarise

MODELS = [
    "Virtual patients: each is a base anatomy (phantom or real case) scaled about its annulus "
    "centre (overall size, in-plane anisotropy, axial ratio) with a sampled circulation; the "
    "signed distance field of the base is reused through the scaling, SDF_s(x) = s SDF(x / s) "
    "(in-plane geometric mean for anisotropic scales).",
    "Motion over the cycle (reduced model): the annulus and root scale radially with the "
    "proximal aortic pressure of the patient's native 0D beat, area strain over one pulse "
    "pressure sampled per patient; the device stays where automatic placement put it at phase 0. "
    "Each metric is reported at its worst phase.",
    f"Device haemodynamics: valve effective orifice area = {haemo.PERFORMANCE_INDEX:g} x area of "
    "the expected constrained frame; paravalvular regurgitant orifice = cycle-mean leak-channel "
    "area; 0D closed-loop circulation with the device in place.",
    "Sizing: the catalogue chart on the largest (systolic) annulus of the cycle.",
    "Success: the plan ran and no verdict is 'fail'. At risk: the plan at the chart size fails, "
    "or no chart size fits.",
]


def _fmt(v) -> str:
    if v is None or v == "":
        return "-"
    if isinstance(v, float):
        return f"{v:.3g}"
    return str(v)


def build(folder, spec, info: dict | None = None) -> Report:
    """The :class:`~hearttwin.report.content.Report` of the study in ``folder``."""
    t = summarise(folder)
    sections = [_study(spec, t, info), _success(t)]
    for device in spec.devices:
        sections.append(_distributions(t, device))
    sections += [_risk(t), _failures(t)]
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M")
    ran = sum(r["status"] == "ok" for r in t["rows"])
    return Report("Virtual cohort study", f"{spec.n_patients} virtual patients x "
                  f"{', '.join(f'{d} ({len(s)} sizes)' for d, s in spec.devices.items())}; "
                  f"{ran} of {len(t['rows'])} plans ran", None, sections, generated_utc=now)


def write(folder, spec, info: dict | None = None) -> Path:
    """Write ``report.html`` (and the summary CSVs) in ``folder``; returns the HTML path."""
    return write_html(build(folder, spec, info), Path(folder) / "report.html")


def _study(spec, t, info) -> Section:
    d = describe()
    rows = [["seed", spec.seed], ["base anatomies", ", ".join(spec.bases)],
            ["phases per cycle", spec.phases],
            ["fit resolution", f"{spec.n_around} rays around, 1 sealing level per mm, rings every "
                               f"1 mm; field at the base anatomy's voxel size"]]
    rows += [[f"anatomy: {k}", v] for k, v in d["anatomy"].items()]
    rows += [[f"circulation: {k}", v] for k, v in d["haemodynamics"].items()]
    blocks = [Table(["", ""], [[str(a), str(b)] for a, b in rows], caption="Study and distributions")]
    blocks += [Paragraph(m, "note") for m in MODELS]
    if info:
        blocks.append(Paragraph(
            f"This run: {info.get('patients')} patients, {info.get('skipped_patients')} already "
            f"done, {info.get('rows_written')} rows written by {info.get('workers')} workers in "
            f"{info.get('seconds')} s.", "note"))
    return Section("study", "Study", blocks)


def _success(t) -> Section:
    cols = list(SUMMARY_COLUMNS)
    table = Table(cols, [[_fmt(r[c]) for c in cols] for r in t["success"]],
                  caption="Plans per device size (success = ran, no 'fail' verdict)")
    blocks = [table]
    for device in dict.fromkeys(r["device"] for r in t["success"]):
        png = plots.success_by_size(t["success"], device)
        if png:
            blocks.append(Figure(png, f"{device}: outcome per size"))
    return Section("success", "Success rate per device size", blocks)


def _distributions(t, device) -> Section:
    fam = get_device(device)
    blocks = []
    med = [r for r in t["metrics"] if r["device"] == device]
    if med:
        blocks.append(Table(["metric", "size", "n", "median", "p05", "p95"],
                            [[r["metric"], _fmt(r["size"]), r["n"], _fmt(r["median"]),
                              _fmt(r["p05"]), _fmt(r["p95"])] for r in med],
                            caption="Distribution per size (worst phase of the cycle)"))
    rules = {r.metric: r for r in haemo.HAEMO_RULES}
    rules.update({m: fam.rule(m) for m in REPORTED if fam.rule(m) is not None})
    png = plots.histograms(t["rows"], REPORTED, device, rules)
    if png:
        blocks.append(Figure(png, "Distribution of each metric over the patients, one outline per "
                             "size; rule bounds dashed (amber caution, red fail)"))
    if not blocks:
        blocks.append(Paragraph("No plan of this device ran."))
    return Section(f"metrics-{device}", f"Metrics: {fam.family}", blocks)


def _risk(t) -> Section:
    risk = t["at_risk"]
    if not risk:
        return Section("risk", "Patients at risk", [Paragraph("No patient at risk.")])
    return Section("risk", "Patients at risk", [Table(
        ["device", "patient", "chart size", "failed rules"],
        [[r["device"], r["patient_id"], r["recommended_size"], r["failed_rules"]] for r in risk],
        status=["fail"] * len(risk))])


def _failures(t) -> Section:
    errs = t["errors"]
    if not errs:
        return Section("failures", "Failed plans", [Paragraph("Every plan ran.")])
    return Section("failures", "Failed plans", [Table(
        ["patient", "device", "size", "error"],
        [[r["patient_id"], r["device"], r["size"], r["error"]] for r in errs],
        caption=f"{len(errs)} plans failed; the study went on without them")])

