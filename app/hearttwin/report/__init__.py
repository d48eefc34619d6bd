"""Plan reports: one content model, written as self-contained HTML or PDF.

Public API
----------
build_report(*, labels, plan, measurements=None, identifiers=None, series=None,
             simulation=None, history=None, anonymise=False, ...)
    :class:`Report` of one plan: case, series, segmentation, measurements with
    their ranges, device and sizing rationale, per-phase fit with plots,
    haemodynamics (PV loops when simulated), offscreen 3D renders, verdicts,
    context of use and limitations, software and provenance (:mod:`.build`).
write_report(report, path)
    ``.html``/``.htm`` -> :func:`write_html`, ``.pdf`` -> :func:`write_pdf`.
read_identifiers(path)
    Patient and study identifiers from a DICOM header (:mod:`.identifiers`).

Modules: content (the model and the anonymisation scrub), sections_case and
sections_plan (section builders), plots (matplotlib, Agg), html, pdf
(reportlab), identifiers, build. No Qt anywhere here.
"""

from __future__ import annotations

from pathlib import Path

from ..core.errors import InputError
from .build import build_report, views_section
from .content import Figure, Paragraph, Report, Section, Table, scrub
from .html import to_html, write_html
from .identifiers import read_identifiers, secret_strings

FORMATS = {".html": "html", ".htm": "html", ".pdf": "pdf"}


def report_format(path) -> str:
    """``"html"`` or ``"pdf"`` from the file name, else an InputError."""
    fmt = FORMATS.get(Path(path).suffix.lower())
    if fmt is None:
        raise InputError(f"{Path(path).name}: a report is written as .pdf or .html; "
                         f"name the output plan.pdf or plan.html.")
    return fmt


def write_report(report: Report, path) -> Path:
    """Write ``report`` as HTML or PDF, chosen by the file suffix."""
    if report_format(path) == "html":
        return write_html(report, path)
    from .pdf import write_pdf  # reportlab is needed only for PDF

    return write_pdf(report, path)


__all__ = ["build_report", "views_section", "write_report", "report_format", "write_html", "to_html",
           "read_identifiers", "secret_strings", "scrub", "Report", "Section", "Paragraph", "Table",
           "Figure", "FORMATS"]
