"""Results of a study: one CSV row per patient x device x size, streamed and resumable.

``results.csv`` has a fixed header (:func:`columns`) written when the study
starts; each finished batch appends its rows, flushed and fsynced, so an
interrupted study loses at most the batches still running. Reopening the
file (:class:`ResultsWriter`) drops a torn last line, reads the keys already
written and skips them: a rerun with the same output folder does only what
is missing, and a row is never written twice even when Dask runs a batch
again after a worker died. Failed rows (``status`` "error") count as done
and carry the error message; delete them from the file to retry.

CSV rather than Parquet: the standard library writes it, a statistician
opens it anywhere, and appending is one ``write``.
"""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path

from ..core.devices.schema import METRICS
from ..core.errors import InputError
from .distributions import HAEMODYNAMICS
from .haemo import HAEMO_RULES, OUTPUTS

KEY = ("patient_id", "device", "size")
PATIENT = ("base", "scale", "anisotropy", "axial_ratio", "root_area_strain") + tuple(HAEMODYNAMICS)
ANATOMY = ("annulus_area_mm2", "annulus_perimeter_mm", "annulus_area_systole_mm2",
           "native_mean_gradient_mmhg", "recommended_size", "is_recommended")
#: fit metrics of the catalogue that the cohort computes (neo-LVOT needs the label map)
FIT_METRICS = tuple(m for m in METRICS if m != "neo_lvot_area_mm2")
RULED = FIT_METRICS + tuple(r.metric for r in HAEMO_RULES)
TAIL = ("overall", "status", "error", "seconds")


def columns() -> list[str]:
    """The header of ``results.csv``."""
    cols = list(KEY + PATIENT + ANATOMY)
    for m in FIT_METRICS:
        cols += [m, f"{m}_phase"]
    cols += list(OUTPUTS)
    cols += [f"verdict_{m}" for m in RULED]
    return cols + list(TAIL)


def row_key(row: dict) -> tuple:
    return (str(row["patient_id"]), str(row["device"]), _size_text(row["size"]))


def _size_text(size) -> str:
    f = float(size)
    return str(int(f)) if f.is_integer() else str(f)


def _cell(v):
    if v is None:
        return ""
    if isinstance(v, bool):
        return "1" if v else "0"
    if isinstance(v, float):
        return f"{v:.6g}"
    return str(v).replace("\r", " ").replace("\n", " ")


class ResultsWriter:
    """Append-only, deduplicating CSV of study rows.

    Parameters
    ----------
    path : str or Path
        ``results.csv``; created with the header when absent.
    """

    def __init__(self, path):
        self.path = Path(path)
        self.columns = columns()
        self.done: set[tuple] = set()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self.path.exists() and self.path.stat().st_size > 0:
            self._recover()
        else:
            self._append_lines([",".join(self.columns) + "\n"])

    def _recover(self) -> None:
        data = self.path.read_bytes()
        end = data.rfind(b"\n") + 1
        if end < len(data):  # torn last line of an interrupted write: drop it
            with open(self.path, "r+b") as f:
                f.truncate(end)
            data = data[:end]
        reader = csv.reader(io.StringIO(data.decode("utf-8")))
        header = next(reader, None)
        if header != self.columns:
            raise InputError(f"{self.path.name} was written by another version of the cohort "
                             f"runner (different columns); use a new output folder.")
        for cells in reader:
            if len(cells) == len(self.columns):
                self.done.add(row_key(dict(zip(self.columns, cells))))

    def _append_lines(self, lines: list[str]) -> None:
        with open(self.path, "a", encoding="utf-8", newline="") as f:
            f.write("".join(lines))
            f.flush()
            os.fsync(f.fileno())

    def write(self, rows: list[dict]) -> int:
        """Append the rows not written yet; returns how many were new."""
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        new = 0
        for row in rows:
            k = row_key(row)
            if k in self.done:
                continue
            self.done.add(k)
            w.writerow([_cell(row.get(c)) for c in self.columns])
            new += 1
        if new:
            self._append_lines([buf.getvalue()])
        return new


def read_rows(path) -> list[dict]:
    """Every complete row of ``results.csv`` as a dict of strings."""
    with open(path, encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        n = len(reader.fieldnames or [])
        return [r for r in reader if len(r) == n and None not in r.values()]


def number(text):
    """A CSV cell as float, None when empty or not a number."""
    try:
        return float(text)
    except (TypeError, ValueError):
        return None
