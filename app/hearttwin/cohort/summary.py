"""Summary of a study from its ``results.csv``: success per size, metric distributions, patients at risk.

Definitions (stated in the report):

* a plan *succeeds* when it ran (``status`` ok) and no verdict is "fail"
  (``overall`` pass or caution); the success rate is over the plans that ran;
* *at the chart size*: the plans whose size is the patient's chart
  recommendation (sized on the systolic annulus);
* a patient is *at risk* for a device when its plan at the chart size fails,
  or when no size in the chart fits it.

Files: ``summary.csv`` (one row per device x size), ``metrics.csv`` (one row
per device x size x metric: n, mean, sd, min, 5/25/50/75/95th percentiles,
max over the plans that ran) and ``at_risk.csv``.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from ..core.atomic import atomic_path
from .results import FIT_METRICS, RULED, number, read_rows
from .haemo import OUTPUTS

SUMMARY_COLUMNS = ("device", "size", "plans", "ran", "errors", "pass", "caution", "fail",
                   "success_rate", "at_chart_size", "success_rate_at_chart_size")
METRIC_COLUMNS = ("device", "size", "metric", "n", "mean", "sd", "min", "p05", "p25", "median",
                  "p75", "p95", "max")
RISK_COLUMNS = ("device", "patient_id", "recommended_size", "overall", "failed_rules")
#: distributions reported (fit metrics at their worst phase, then haemodynamics)
REPORTED = FIT_METRICS + tuple(o for o in OUTPUTS if o != "device_eoa_mm2")


def _size_key(row) -> tuple:
    return row["device"], number(row["size"])


def _rate(k: int, n: int):
    return round(k / n, 4) if n else None


def success_table(rows: list[dict]) -> list[dict]:
    """One dict per device x size (:data:`SUMMARY_COLUMNS`)."""
    groups: dict = {}
    for r in rows:
        groups.setdefault(_size_key(r), []).append(r)
    out = []
    for (device, size), rs in sorted(groups.items()):
        ran = [r for r in rs if r["status"] == "ok"]
        counts = {s: sum(r["overall"] == s for r in ran) for s in ("pass", "caution", "fail")}
        chart = [r for r in ran if r["is_recommended"] == "1"]
        chart_ok = sum(r["overall"] != "fail" for r in chart)
        out.append({"device": device, "size": _fmt(size), "plans": len(rs), "ran": len(ran),
                    "errors": len(rs) - len(ran), **counts,
                    "success_rate": _rate(counts["pass"] + counts["caution"], len(ran)),
                    "at_chart_size": len(chart),
                    "success_rate_at_chart_size": _rate(chart_ok, len(chart))})
    return out


def metric_values(rows: list[dict], metric: str) -> dict:
    """``{(device, size): ndarray}`` of ``metric`` over the plans that ran."""
    out: dict = {}
    for r in rows:
        v = number(r.get(metric))
        if r["status"] == "ok" and v is not None:
            out.setdefault(_size_key(r), []).append(v)
    return {k: np.asarray(v) for k, v in sorted(out.items())}


def metric_table(rows: list[dict]) -> list[dict]:
    """Distribution of each reported metric per device x size (:data:`METRIC_COLUMNS`)."""
    out = []
    for metric in REPORTED:
        for (device, size), v in metric_values(rows, metric).items():
            q = np.percentile(v, [5, 25, 50, 75, 95])
            out.append({"device": device, "size": _fmt(size), "metric": metric, "n": len(v),
                        "mean": _r(v.mean()), "sd": _r(v.std(ddof=1)) if len(v) > 1 else None,
                        "min": _r(v.min()), "p05": _r(q[0]), "p25": _r(q[1]), "median": _r(q[2]),
                        "p75": _r(q[3]), "p95": _r(q[4]), "max": _r(v.max())})
    return out


def at_risk(rows: list[dict]) -> list[dict]:
    """Patients at risk per device (module docstring), worst first then by id."""
    by_patient: dict = {}
    for r in rows:
        if r["status"] == "ok":
            by_patient.setdefault((r["device"], r["patient_id"]), []).append(r)
    out = []
    for (device, pid), rs in sorted(by_patient.items()):
        rec = rs[0]["recommended_size"]
        if rec == "":
            out.append({"device": device, "patient_id": pid, "recommended_size": "none fits",
                        "overall": "fail", "failed_rules": "no chart size fits the annulus"})
            continue
        for r in rs:
            if r["is_recommended"] == "1" and r["overall"] == "fail":
                failed = [m for m in RULED if r.get(f"verdict_{m}") == "fail"]
                out.append({"device": device, "patient_id": pid, "recommended_size": rec,
                            "overall": "fail", "failed_rules": " ".join(failed)})
    return out


def errors(rows: list[dict]) -> list[dict]:
    return [r for r in rows if r["status"] != "ok"]


def summarise(folder) -> dict:
    """Read ``results.csv`` in ``folder``, write the summary CSVs there, return the tables."""
    folder = Path(folder)
    rows = read_rows(folder / "results.csv")
    tables = {"rows": rows, "success": success_table(rows), "metrics": metric_table(rows),
              "at_risk": at_risk(rows), "errors": errors(rows)}
    _write_csv(folder / "summary.csv", SUMMARY_COLUMNS, tables["success"])
    _write_csv(folder / "metrics.csv", METRIC_COLUMNS, tables["metrics"])
    _write_csv(folder / "at_risk.csv", RISK_COLUMNS, tables["at_risk"])
    return tables


def _write_csv(path: Path, cols, rows: list[dict]) -> None:
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(cols), lineterminator="\n")
        w.writeheader()
        for r in rows:
            w.writerow({k: ("" if r.get(k) is None else r.get(k)) for k in cols})


def _fmt(size):
    return int(size) if size is not None and float(size).is_integer() else size


def _r(v, digits: int = 4):
    return round(float(v), digits)
