"""The content of a plan report, independent of its file format.

A :class:`Report` is a title, the overall verdict and a list of
:class:`Section` s made of a few block types (:class:`Paragraph`,
:class:`Table`, :class:`Figure`). The HTML and PDF writers walk the same
object, so both files say the same thing. :func:`scrub` removes given
identifying strings from every text of a report (the anonymised variant's
second line of defence, after leaving them out in the first place).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

#: verdict statuses, worst first, and how writers colour them
STATUS_COLOURS = {"fail": "#c0392b", "caution": "#e0a800", "pass": "#2e8b57"}
#: light background of a table row with that status
STATUS_TINTS = {"fail": "#f8d7d3", "caution": "#fdf0c4", "pass": "#dcefe3"}
#: what replaces an identifying string found by :func:`scrub`
REMOVED = "[removed]"


@dataclass
class Paragraph:
    """Running text; ``style`` is ``"body"``, ``"note"`` (smaller) or ``"warning"``."""

    text: str
    style: str = "body"


@dataclass
class Table:
    """A table of strings; ``status`` (one per row, or None) colours a row by verdict."""

    header: list
    rows: list
    status: list | None = None
    caption: str = ""

    def __post_init__(self) -> None:
        self.header = [str(h) for h in self.header]
        self.rows = [[str(c) for c in row] for row in self.rows]
        if any(len(r) != len(self.header) for r in self.rows):
            raise ValueError("every table row needs one cell per column")
        if self.status is not None and len(self.status) != len(self.rows):
            raise ValueError("one status per table row")


@dataclass
class Figure:
    """A PNG picture (a render or a plot) with its caption; ``width`` is a share of the page width."""

    png: bytes
    caption: str
    kind: str = "plot"
    width: float = 1.0


@dataclass
class Section:
    key: str
    title: str
    blocks: list = field(default_factory=list)


@dataclass
class Report:
    """Everything one report says."""

    title: str
    subtitle: str
    overall: str | None
    sections: list
    anonymised: bool = False
    generated_utc: str = ""

    def section(self, key: str) -> Section:
        for s in self.sections:
            if s.key == key:
                return s
        raise KeyError(key)

    def texts(self):
        """Every string of the report (titles, paragraphs, cells, captions)."""
        yield self.title
        yield self.subtitle
        for s in self.sections:
            yield s.title
            for b in s.blocks:
                if isinstance(b, Paragraph):
                    yield b.text
                elif isinstance(b, Table):
                    yield b.caption
                    yield from b.header
                    for row in b.rows:
                        yield from row
                elif isinstance(b, Figure):
                    yield b.caption

    def figures(self, kind: str | None = None) -> list:
        return [b for s in self.sections for b in s.blocks
                if isinstance(b, Figure) and (kind is None or b.kind == kind)]


def scrub(report: Report, secrets) -> int:
    """Replace every occurrence of ``secrets`` (case-insensitive) in the report's texts; returns the count."""
    words = sorted({str(s).strip() for s in secrets if s and len(str(s).strip()) >= 2}, key=len, reverse=True)
    if not words:
        return 0
    pattern = re.compile("|".join(_boundary(w) for w in words), re.IGNORECASE)
    count = 0

    def clean(text: str) -> str:
        nonlocal count
        new, n = pattern.subn(REMOVED, text)
        count += n
        return new

    report.title, report.subtitle = clean(report.title), clean(report.subtitle)
    for s in report.sections:
        s.title = clean(s.title)
        for b in s.blocks:
            if isinstance(b, Paragraph):
                b.text = clean(b.text)
            elif isinstance(b, Table):
                b.caption = clean(b.caption)
                b.header = [clean(h) for h in b.header]
                b.rows = [[clean(c) for c in row] for row in b.rows]
            elif isinstance(b, Figure):
                b.caption = clean(b.caption)
    return count


def _boundary(word: str) -> str:
    """Regex for ``word`` not inside a longer word (a name part "Li" must not eat "Limitations")."""
    return r"(?<![0-9A-Za-z])" + re.escape(word) + r"(?![0-9A-Za-z])"
