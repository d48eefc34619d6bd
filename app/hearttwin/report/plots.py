"""Plots of a plan report as PNG bytes (matplotlib, Agg canvas; no pyplot, no GUI backend).

* :func:`metric_vs_phase`: fit metrics over the cardiac cycle (plans with
  more than one phase).
* :func:`fit_by_level`: apposition, gap and penetration along the device's
  sealing zone at one phase.
* :func:`pv_loops`: left-ventricular pressure-volume loops before and after
  the device (simulation results).

Each takes plain dicts (the plan and ``simulate --json`` objects) and returns
the PNG file contents, or None when there is nothing to plot.
"""

from __future__ import annotations

import io

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

#: metrics plotted over the cycle, with their axis titles
PHASE_METRICS = {
    "oversizing_area_percent": "Oversizing by area (%)",
    "apposition_percent": "Apposition (%)",
    "max_gap_mm": "Largest gap (mm)",
    "max_penetration_mm": "Deepest penetration (mm)",
    "coronary_distance_left_mm": "Valve to left coronary (mm)",
    "coronary_distance_right_mm": "Valve to right coronary (mm)",
    "neo_lvot_area_mm2": "Neo-LVOT area (mm2)",
}
DPI = 110


def _png(fig: Figure) -> bytes:
    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    # no metadata: nothing in the file but the picture
    fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None})
    return buf.getvalue()


def metric_vs_phase(plan: dict) -> bytes | None:
    """Fit metrics against cardiac phase (0 = end-diastole), one panel each; None for one phase."""
    phases = sorted(plan.get("phases") or [], key=lambda p: p["phase"])
    if len(phases) < 2:
        return None
    keys = [k for k in PHASE_METRICS if any(p["metrics"].get(k) is not None for p in phases)]
    if not keys:
        return None
    cols = 2 if len(keys) > 1 else 1
    rows = (len(keys) + cols - 1) // cols
    fig = Figure(figsize=(7.0, 2.2 * rows))
    x = np.array([p["phase"] for p in phases], float)
    for i, key in enumerate(keys):
        ax = fig.add_subplot(rows, cols, i + 1)
        y = np.array([np.nan if p["metrics"].get(key) is None else p["metrics"][key] for p in phases])
        ax.plot(x, y, "o-", color="#1f5fa8", lw=1.5, ms=3)
        _bounds(ax, plan, key)
        ax.set_title(PHASE_METRICS[key], fontsize=9)
        ax.set_xlim(0.0, 1.0)
        ax.tick_params(labelsize=8)
        ax.grid(alpha=0.3)
        if i >= len(keys) - cols:
            ax.set_xlabel("Cardiac phase (0 = end-diastole)", fontsize=8)
    fig.tight_layout()
    return _png(fig)


def _bounds(ax, plan: dict, key: str) -> None:
    """Shade the catalogue's caution/fail bounds of ``key`` (dashed lines)."""
    for v in plan.get("verdicts") or []:
        if v.get("rule") != key:
            continue
        for name, value in (v.get("bounds") or {}).items():
            ax.axhline(value, ls="--", lw=0.8, color="#c0392b" if name.startswith("fail") else "#e0a800")


def fit_by_level(plan: dict, phase_index: int = 0) -> bytes | None:
    """Apposition, largest gap and deepest penetration along the sealing zone (device height)."""
    phases = plan.get("phases") or []
    if not phases or phase_index >= len(phases):
        return None
    levels = phases[phase_index].get("levels") or []
    if not levels:
        return None
    z = np.array([lv["z_mm"] for lv in levels], float)
    fig = Figure(figsize=(7.0, 2.4))
    panels = (("apposition_percent", "Apposition (%)"), ("max_gap_mm", "Largest gap (mm)"),
              ("max_penetration_mm", "Deepest penetration (mm)"))
    for i, (key, title) in enumerate(panels):
        ax = fig.add_subplot(1, 3, i + 1)
        values = np.array([np.nan if lv.get(key) is None else lv[key] for lv in levels], float)
        ax.plot(values, z, "o-", color="#1f5fa8", lw=1.5, ms=3)
        ax.set_title(title, fontsize=9)
        ax.tick_params(labelsize=8)
        ax.grid(alpha=0.3)
        if i == 0:
            ax.set_ylabel("Height above inflow (mm)", fontsize=8)
    fig.tight_layout()
    return _png(fig)


def loops_of(simulation: dict | None) -> dict:
    """``{"before": (volume, pressure), "after": ...}`` LV loops found in a simulation dict.

    Accepts :func:`hearttwin.core.simulation.before_after` output (``before`` /
    ``after`` objects) or one ``simulate --json`` object, each with
    ``pv_loops.lv.volume_ml`` / ``pressure_mmhg``.
    """
    if not isinstance(simulation, dict):
        return {}
    runs = {k: simulation[k] for k in ("before", "after") if isinstance(simulation.get(k), dict)}
    if not runs:
        runs = {"simulated": simulation}
    out = {}
    for name, run in runs.items():
        lv = ((run.get("pv_loops") or {}).get("lv") or {})
        v, p = lv.get("volume_ml"), lv.get("pressure_mmhg")
        if v is not None and p is not None and len(v) == len(p) and len(v) > 2:
            out[name] = (np.asarray(v, float), np.asarray(p, float))
    return out


def pv_loops(simulation: dict | None) -> bytes | None:
    """Left-ventricular pressure-volume loops (before and after the device); None without loops."""
    loops = loops_of(simulation)
    if not loops:
        return None
    fig = Figure(figsize=(5.0, 3.6))
    ax = fig.add_subplot(1, 1, 1)
    styles = {"before": ("#7f8c8d", "--", "Before the device"), "after": ("#c0392b", "-", "With the device"),
              "simulated": ("#1f5fa8", "-", "Simulated")}
    for name, (v, p) in loops.items():
        colour, ls, label = styles[name]
        ax.plot(v, p, ls=ls, color=colour, lw=1.8, label=label)
    ax.set_xlabel("LV volume (mL)", fontsize=9)
    ax.set_ylabel("LV pressure (mmHg)", fontsize=9)
    ax.set_title("Left ventricular pressure-volume loop", fontsize=10)
    ax.tick_params(labelsize=8)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return _png(fig)
