"""Plots of a cohort summary as PNG bytes (matplotlib Agg canvas, no pyplot, no GUI backend)."""

from __future__ import annotations

import io

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from .summary import metric_values

DPI = 100

#: axis titles of the plotted metrics
TITLES = {
    "oversizing_area_percent": "Oversizing by area (%)",
    "oversizing_perimeter_percent": "Oversizing by perimeter (%)",
    "apposition_percent": "Apposition (% of circumference)",
    "max_gap_mm": "Widest leak channel (mm)",
    "gap_area_mm2": "Leak channel area (mm2)",
    "max_penetration_mm": "Deepest penetration (mm)",
    "coronary_distance_left_mm": "Valve to left coronary (mm)",
    "coronary_distance_right_mm": "Valve to right coronary (mm)",
    "implant_depth_mm": "Implant depth (mm)",
    "compression_percent": "Frame compression (%)",
    "expansion_percent": "Frame expansion (%)",
    "eccentricity_device": "Frame eccentricity",
    "mean_gradient_mmhg": "Mean transvalvular gradient (mmHg)",
    "peak_gradient_mmhg": "Peak transvalvular gradient (mmHg)",
    "regurgitant_fraction_percent": "Regurgitant fraction (%)",
    "cardiac_output_l_min": "Cardiac output (L/min)",
    "aortic_systolic_mmhg": "Aortic systolic pressure (mmHg)",
    "aortic_diastolic_mmhg": "Aortic diastolic pressure (mmHg)",
}
STATUS_COLOURS = {"pass": "#2e8b57", "caution": "#e0a800", "fail": "#c0392b", "errors": "#888888"}


def _png(fig: Figure) -> bytes:
    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None})
    return buf.getvalue()


def success_by_size(success: list[dict], device: str) -> bytes | None:
    """Stacked bars: share of pass / caution / fail / error plans per size of ``device``."""
    rows = [r for r in success if r["device"] == device]
    if not rows:
        return None
    fig = Figure(figsize=(6.5, 3.2))
    ax = fig.add_subplot(1, 1, 1)
    labels = [str(r["size"]) for r in rows]
    bottom = np.zeros(len(rows))
    for status, colour in STATUS_COLOURS.items():
        share = np.array([r[status] / r["plans"] if r["plans"] else 0.0 for r in rows])
        ax.bar(labels, share, bottom=bottom, color=colour, label=status)
        bottom += share
    for i, r in enumerate(rows):
        if r["success_rate"] is not None:
            ax.text(i, 1.02, f"{100 * r['success_rate']:.0f} %", ha="center", fontsize=8)
    ax.set_ylim(0, 1.12)
    ax.set_xlabel("Device size (mm)")
    ax.set_ylabel("Share of patients")
    ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=7)
    fig.subplots_adjust(left=0.11, right=0.8, bottom=0.16, top=0.95)
    return _png(fig)


def histograms(rows: list[dict], metrics, device: str, rules: dict, ncols: int = 3) -> bytes | None:
    """Small multiples: one histogram per metric of ``device``, one outline per size.

    Rule bounds are dashed (caution amber, fail red). One figure for all
    metrics: a figure per metric costs a second each to lay out and encode.
    """
    panels = []
    for metric in metrics:
        values = {size: v for (dev, size), v in metric_values(rows, metric).items()
                  if dev == device and len(v)}
        if values:
            panels.append((metric, values))
    if not panels:
        return None
    nrows = -(-len(panels) // ncols)
    fig = Figure(figsize=(3.3 * ncols, 2.4 * nrows))
    for i, (metric, values) in enumerate(panels):
        ax = fig.add_subplot(nrows, ncols, i + 1)
        _histogram(ax, metric, values, rules.get(metric))
        if i == 0:
            ax.legend(fontsize=6)
    fig.subplots_adjust(left=0.06, right=0.98, bottom=0.08, top=0.97, wspace=0.3,
                        hspace=0.3 + 0.25 / max(nrows, 1) * nrows / 2)
    return _png(fig)


def _histogram(ax, metric: str, values: dict, rule) -> None:
    allv = np.concatenate(list(values.values()))
    lo, hi = float(allv.min()), float(allv.max())
    if hi - lo < 1e-9:
        lo, hi = lo - 0.5, hi + 0.5
    bins = np.linspace(lo, hi, 21)
    for size, v in values.items():
        ax.hist(v, bins=bins, histtype="step", linewidth=1.3, label=f"{size:g} mm (n={len(v)})")
    if rule is not None:
        for name in ("fail_below", "caution_below", "caution_above", "fail_above"):
            b = getattr(rule, name)
            if b is not None and lo <= b <= hi:
                ax.axvline(b, color=STATUS_COLOURS["fail" if name.startswith("fail") else "caution"],
                           linestyle="--", linewidth=1)
    ax.set_title(TITLES.get(metric, metric), fontsize=8)
    ax.tick_params(labelsize=7)
