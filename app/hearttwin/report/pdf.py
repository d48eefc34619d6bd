"""A :class:`~.content.Report` as a PDF file (reportlab platypus; A4, same sections as the HTML).

Text is set with the standard PDF fonts (no font files to ship), so it stays
searchable and extractable; pictures are the same PNGs as in the HTML.
"""

from __future__ import annotations

import io
import struct
from pathlib import Path
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import Image, KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from ..core.atomic import atomic_path
from . import content as c

MARGIN = 16 * mm
WIDTH = A4[0] - 2 * MARGIN


def _styles() -> dict:
    base = getSampleStyleSheet()
    body = ParagraphStyle("body", parent=base["BodyText"], fontSize=9.5, leading=12.5)
    return {
        "title": base["Title"], "h2": ParagraphStyle("h2", parent=base["Heading2"], spaceBefore=10),
        "body": body, "note": ParagraphStyle("note", parent=body, fontSize=8.5, textColor=colors.HexColor("#555555")),
        "warning": ParagraphStyle("warning", parent=body, textColor=colors.HexColor("#8a5a00")),
        "cell": ParagraphStyle("cell", parent=body, fontSize=8, leading=10),
        "head": ParagraphStyle("head", parent=body, fontSize=8, leading=10, fontName="Helvetica-Bold"),
        "caption": ParagraphStyle("caption", parent=body, fontSize=8.5, textColor=colors.HexColor("#555555"),
                                  spaceAfter=6),
        "subtitle": ParagraphStyle("subtitle", parent=body, fontSize=11, alignment=1),
    }


def _png_size(png: bytes) -> tuple[int, int]:
    if png[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("report figure is not a PNG")
    return struct.unpack(">II", png[16:24])


def _table(t: c.Table, st: dict) -> list:
    data = [[Paragraph(escape(h), st["head"]) for h in t.header]]
    data += [[Paragraph(escape(cell), st["cell"]) for cell in row] for row in t.rows]
    widths = _widths(t)
    style = [("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#bbbbbb")),
             ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#f0f2f5")),
             ("VALIGN", (0, 0), (-1, -1), "TOP"),
             ("TOPPADDING", (0, 0), (-1, -1), 2), ("BOTTOMPADDING", (0, 0), (-1, -1), 2)]
    for i, status in enumerate(t.status or []):
        if status in c.STATUS_TINTS:
            style.append(("BACKGROUND", (0, i + 1), (-1, i + 1), colors.HexColor(c.STATUS_TINTS[status])))
            for j, cell in enumerate(t.rows[i]):
                if cell.lower() == status:
                    data[i + 1][j] = Paragraph(f'<font color="{c.STATUS_COLOURS[status]}"><b>{escape(cell)}</b></font>',
                                               st["cell"])
    table = Table(data, colWidths=widths, repeatRows=1, hAlign="LEFT")
    table.setStyle(TableStyle(style))
    out = [Paragraph(f"<b>{escape(t.caption)}</b>", st["body"])] if t.caption else []
    return out + [table, Spacer(1, 5)]


def _widths(t: c.Table) -> list[float]:
    """Column widths: each fits its longest word; the rest of the page shared by text length."""
    cols = list(zip(t.header, *t.rows))
    least = [max(stringWidth(w, "Helvetica-Bold", 8) for cell in col for w in (cell.split() or [""])) + 8
             for col in cols]
    shares = [min(max(len(cell) for cell in col), 60) + 1 for col in cols]
    spare = WIDTH - sum(least)
    if spare <= 0:
        return [WIDTH * w / sum(least) for w in least]
    return [w + spare * s / sum(shares) for w, s in zip(least, shares)]


def _figure(f: c.Figure, st: dict) -> list:
    w, h = _png_size(f.png)
    width = WIDTH * max(0.1, min(1.0, f.width))
    height = width * h / w
    if height > 150 * mm:  # keep a picture and its caption on one page
        width, height = width * 150 * mm / height, 150 * mm
    img = Image(io.BytesIO(f.png), width=width, height=height)
    return [KeepTogether([img, Paragraph(escape(f.caption), st["caption"])])]


def _flowables(report: c.Report, st: dict) -> list:
    story = [Paragraph(escape(report.title), st["title"]), Paragraph(escape(report.subtitle), st["subtitle"]),
             Spacer(1, 6)]
    if report.overall:
        colour = c.STATUS_COLOURS.get(report.overall, "#555555")
        story.append(Paragraph(f'Overall verdict: <font color="{colour}"><b>{escape(report.overall.upper())}</b></font>',
                               ParagraphStyle("overall", parent=st["body"], fontSize=13, leading=16, alignment=1)))
    if report.anonymised:
        story.append(Paragraph("Anonymised report: patient-identifying data removed.", st["note"]))
    for s in report.sections:
        story.append(Paragraph(escape(s.title), st["h2"]))
        for b in s.blocks:
            if isinstance(b, c.Paragraph):
                story.append(Paragraph(escape(b.text), st.get(b.style, st["body"])))
            elif isinstance(b, c.Table):
                story += _table(b, st)
            elif isinstance(b, c.Figure):
                story += _figure(b, st)
            else:
                raise TypeError(f"unknown report block {type(b).__name__}")
    return story


def to_pdf(report: c.Report) -> bytes:
    """The report as PDF file contents."""
    st = _styles()
    buf = io.BytesIO()
    footer = report.title + (" (anonymised)" if report.anonymised else "")

    def on_page(canvas, doc):
        canvas.saveState()
        canvas.setFont("Helvetica", 7.5)
        canvas.setFillColor(colors.HexColor("#777777"))
        canvas.drawString(MARGIN, 9 * mm, footer)
        canvas.drawRightString(A4[0] - MARGIN, 9 * mm, f"page {doc.page}")
        canvas.restoreState()

    doc = SimpleDocTemplate(buf, pagesize=A4, leftMargin=MARGIN, rightMargin=MARGIN, topMargin=MARGIN,
                            bottomMargin=MARGIN + 4 * mm, title=report.title, author="HeartTwin",
                            subject=report.subtitle, creator="HeartTwin", producer="HeartTwin")
    doc.build(_flowables(report, st), onFirstPage=on_page, onLaterPages=on_page)
    return buf.getvalue()


def write_pdf(report: c.Report, path) -> Path:
    """Write the PDF file (atomically); returns its path."""
    path = Path(path)
    data = to_pdf(report)
    with atomic_path(path) as tmp:
        Path(tmp).write_bytes(data)
    return path
