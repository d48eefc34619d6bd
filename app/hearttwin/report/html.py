"""A :class:`~.content.Report` as one self-contained HTML file (images embedded as base64 PNG).

No external stylesheet, script or image: the file opens the same anywhere,
offline, and can be mailed or archived alone. Every text is HTML-escaped.
"""

from __future__ import annotations

import base64
from html import escape
from pathlib import Path

from ..core.atomic import atomic_path
from .content import STATUS_COLOURS, STATUS_TINTS, Figure, Paragraph, Report, Table

CSS = """
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: #222;
       max-width: 980px; margin: 2em auto; padding: 0 1.2em; line-height: 1.45; }
h1 { margin-bottom: 0.1em; } .subtitle { color: #555; margin-top: 0; }
h2 { border-bottom: 2px solid #ddd; padding-bottom: 0.2em; margin-top: 1.8em; }
table { border-collapse: collapse; margin: 0.6em 0 1em; font-size: 0.92em; }
th, td { border: 1px solid #ccc; padding: 0.3em 0.6em; text-align: left; vertical-align: top; }
th { background: #f0f2f5; } caption { caption-side: top; text-align: left; font-weight: 600;
       padding: 0.3em 0; }
figure { margin: 1em 0; } figure img { max-width: 100%; border: 1px solid #ddd; }
figcaption { color: #555; font-size: 0.9em; }
.note { color: #555; font-size: 0.9em; } .warning { color: #8a5a00; }
.overall { display: inline-block; padding: 0.3em 0.9em; border-radius: 4px; color: #fff;
           font-weight: 700; letter-spacing: 0.05em; }
.status { font-weight: 700; } .anon { background: #eef3fb; border: 1px solid #bcd0ee;
           padding: 0.4em 0.8em; }
nav ol { columns: 2; font-size: 0.92em; }
"""


def to_html(report: Report) -> str:
    """The report as an HTML document (a string)."""
    out = ["<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
           '<meta name="viewport" content="width=device-width, initial-scale=1">',
           f"<title>{escape(report.title)}</title>", f"<style>{CSS}</style>", "</head>", "<body>",
           f"<h1>{escape(report.title)}</h1>", f'<p class="subtitle">{escape(report.subtitle)}</p>']
    if report.overall:
        colour = STATUS_COLOURS.get(report.overall, "#555")
        out.append(f'<p>Overall verdict: <span class="overall" style="background:{colour}">'
                   f"{escape(report.overall.upper())}</span></p>")
    if report.anonymised:
        out.append('<p class="anon">Anonymised report: patient-identifying data removed.</p>')
    out.append("<nav><ol>" + "".join(f'<li><a href="#{escape(s.key)}">{escape(s.title)}</a></li>'
                                      for s in report.sections) + "</ol></nav>")
    for s in report.sections:
        out.append(f'<section id="{escape(s.key)}"><h2>{escape(s.title)}</h2>')
        out += [_block(b) for b in s.blocks]
        out.append("</section>")
    out.append(f'<p class="note">Generated {escape(report.generated_utc)} UTC by HeartTwin.</p>')
    out += ["</body>", "</html>"]
    return "\n".join(out) + "\n"


def _block(b) -> str:
    if isinstance(b, Paragraph):
        cls = "" if b.style == "body" else f' class="{escape(b.style)}"'
        return f"<p{cls}>{escape(b.text)}</p>"
    if isinstance(b, Table):
        return _table(b)
    if isinstance(b, Figure):
        data = base64.b64encode(b.png).decode("ascii")
        width = max(10, min(100, round(100 * b.width)))
        return (f'<figure class="{escape(b.kind)}"><img style="width:{width}%" alt="{escape(b.caption)}" '
                f'src="data:image/png;base64,{data}"><figcaption>{escape(b.caption)}</figcaption></figure>')
    raise TypeError(f"unknown report block {type(b).__name__}")


def _table(t: Table) -> str:
    rows = ["<table>"]
    if t.caption:
        rows.append(f"<caption>{escape(t.caption)}</caption>")
    rows.append("<tr>" + "".join(f"<th>{escape(h)}</th>" for h in t.header) + "</tr>")
    for i, row in enumerate(t.rows):
        status = t.status[i] if t.status else None
        style = f' style="background:{STATUS_TINTS[status]}"' if status in STATUS_TINTS else ""
        cells = []
        for cell in row:
            if status in STATUS_COLOURS and cell.lower() == status:
                cells.append(f'<td class="status" style="color:{STATUS_COLOURS[status]}">{escape(cell)}</td>')
            else:
                cells.append(f"<td>{escape(cell)}</td>")
        cls = f' class="{escape(status)}"' if status else ""
        rows.append(f"<tr{cls}{style}>" + "".join(cells) + "</tr>")
    rows.append("</table>")
    return "\n".join(rows)


def write_html(report: Report, path) -> Path:
    """Write the HTML file (atomically); returns its path."""
    path = Path(path)
    with atomic_path(path) as tmp:
        Path(tmp).write_text(to_html(report), encoding="utf-8")
    return path
