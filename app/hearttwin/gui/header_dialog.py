"""The DICOM header of one file of a series, as an expandable tree (tag, keyword, VR, value).

The file is read in a worker with pydicom (``stop_before_pixels``, values
larger than :data:`DEFER_BYTES` left unread) and turned into plain
:class:`HeaderRow` objects, so the dialog only builds widgets. Values the
anonymised export would remove or replace (names, IDs, dates, institution,
UIDs, private data: :mod:`hearttwin.core.imaging.anonymise`) are marked
identifying and hidden while "Hide identifying values" is ticked, which is
the default, so a screenshot of the dialog is safe to share.

:func:`install` adds "DICOM header…" (Ctrl+I) to the View menu and "Export
anonymised series…" to the File menu; both act on the Data step's series.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from PySide6.QtCore import Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (QCheckBox, QDialog, QDialogButtonBox, QHBoxLayout, QHeaderView, QLabel,
                               QLineEdit, QTreeWidget, QTreeWidgetItem, QVBoxLayout)

from . import error_dialog, workers

#: values longer than this (bytes) are not read: the tree shows their length
DEFER_BYTES = 1024
#: items of a sequence listed (a multi-frame file's per-frame sequence can have thousands)
MAX_ITEMS = 50
MAX_VALUE_CHARS = 160
HIDDEN = "(hidden)"
HEADER_SHORTCUT = "Ctrl+I"
_DATE_VRS = ("DA", "DT", "TM")


@dataclass
class HeaderRow:
    """One element (or sequence item) of a header, ready to display."""

    tag: str
    keyword: str
    vr: str
    value: str
    identifying: bool = False
    children: list["HeaderRow"] = field(default_factory=list)

    def walk(self):
        yield self
        for child in self.children:
            yield from child.walk()


def _identifying_keywords() -> frozenset:
    from ..core.imaging.anonymise import EMPTY, REMOVE

    return frozenset(EMPTY | REMOVE | {"PatientName", "PatientID"})


def is_identifying(tag, keyword: str, vr: str, value) -> bool:
    """Whether the anonymised export removes or replaces this element's value."""
    from pydicom.uid import UID_dictionary

    if tag.is_private or 0x5000 <= tag.group <= 0x50FF or 0x6000 <= tag.group <= 0x60FF:
        return True
    if keyword in _identifying_keywords() or vr == "PN" or vr in _DATE_VRS:
        return True
    if vr == "UI":  # instance UIDs link back to the patient's study; registered UIDs do not
        return any(v and str(v) not in UID_dictionary for v in _as_list(value))
    return False


def _as_list(value) -> list:
    """A multi-valued element's values; a single value (a str is iterable too) as a list of one."""
    from pydicom.multival import MultiValue

    return list(value) if isinstance(value, (list, tuple, MultiValue)) else [value]


def _text(elem) -> str:
    value = elem.value
    if value is None or value == "":
        return ""
    if isinstance(value, (bytes, bytearray)):
        return f"({len(value)} bytes) {bytes(value[:16]).hex(' ')}{' …' if len(value) > 16 else ''}"
    if elem.VR == "UI":
        from pydicom.uid import UID

        parts = []
        for v in _as_list(value):
            uid = UID(str(v))
            parts.append(f"{uid} ({uid.name})" if uid.name != str(uid) else str(uid))
        text = "\\".join(parts)
    else:
        text = "\\".join(str(v) for v in _as_list(value))
    return text if len(text) <= MAX_VALUE_CHARS else text[:MAX_VALUE_CHARS] + " …"


def _rows(ds, inherited: bool = False) -> list[HeaderRow]:
    from pydicom.datadict import dictionary_VR, keyword_for_tag

    out = []
    for tag in ds.keys():
        raw = ds.get_item(tag, keep_deferred=True)
        if raw is not None and getattr(raw, "value", 0) is None and getattr(raw, "length", 0):
            # deferred: a large value left in the file; describe it without reading it
            try:
                vr = raw.VR or dictionary_VR(tag)
            except KeyError:
                vr = "UN"
            keyword = keyword_for_tag(tag) or ""
            out.append(HeaderRow(str(tag), keyword, vr, f"({raw.length} bytes, not read)",
                                 inherited or is_identifying(tag, keyword, vr, "")))
            continue
        elem = ds[tag]
        ident = inherited or is_identifying(elem.tag, elem.keyword, elem.VR, elem.value)
        if elem.VR == "SQ":
            items = list(elem.value)
            row = HeaderRow(str(tag), elem.keyword, "SQ", f"{len(items)} item(s)", ident)
            for n, item in enumerate(items[:MAX_ITEMS]):
                row.children.append(HeaderRow("", f"Item {n + 1}", "", "", ident, _rows(item, ident)))
            if len(items) > MAX_ITEMS:
                row.children.append(HeaderRow("", f"… {len(items) - MAX_ITEMS} more items not listed", "", "",
                                              ident))
            out.append(row)
        else:
            out.append(HeaderRow(str(tag), elem.keyword, elem.VR, _text(elem), ident))
    return out


def read_header_rows(path, progress=None) -> list[HeaderRow]:
    """The file meta and data set elements of DICOM file ``path`` (no pixel data) as rows.

    Raises
    ------
    NotDicomError
        The file cannot be read as DICOM (the message does not name it: paths may name the patient).
    """
    import pydicom
    from pydicom.errors import InvalidDicomError

    from ..core import jobs
    from ..core.errors import NotDicomError

    jobs.report(progress, 0, 2, "Reading the DICOM header")
    try:
        ds = pydicom.dcmread(str(path), stop_before_pixels=True, defer_size=DEFER_BYTES)
    except (InvalidDicomError, EOFError, OSError, ValueError) as err:
        raise NotDicomError(f"The header cannot be read ({type(err).__name__}); the file is damaged, "
                            "moved or not DICOM. Open the folder again.") from None
    meta = getattr(ds, "file_meta", None)
    rows = (_rows(meta) if meta is not None else []) + _rows(ds)
    jobs.report(progress, 2, 2, "Header read")
    return rows


class HeaderDialog(QDialog):
    """Tag / keyword / VR / value of one DICOM file; filter box; identifying values hidden by default."""

    #: the rows arrived (or reading failed: ``rows`` stays empty)
    loaded = Signal()

    def __init__(self, parent, path: str, title: str) -> None:
        super().__init__(parent)
        self.setObjectName("dicomHeaderDialog")
        self.setWindowTitle(f"DICOM header: {title}")
        self.resize(760, 620)
        self.path = str(path)
        self.rows: list[HeaderRow] = []
        self._items: list[tuple[QTreeWidgetItem, HeaderRow]] = []
        lay = QVBoxLayout(self)
        top = QHBoxLayout()
        self.filter_edit = QLineEdit()
        self.filter_edit.setObjectName("headerFilter")
        self.filter_edit.setPlaceholderText("Filter: tag, keyword or value (e.g. 0018,0050 or Thickness)")
        self.filter_edit.setClearButtonEnabled(True)
        top.addWidget(self.filter_edit, 1)
        self.hide_check = QCheckBox("Hide identifying values")
        self.hide_check.setObjectName("hideIdentifying")
        self.hide_check.setToolTip("Hide names, IDs, dates, institution, UIDs and private data "
                                   "(what the anonymised export removes), e.g. for screenshots")
        self.hide_check.setChecked(True)
        top.addWidget(self.hide_check)
        lay.addLayout(top)
        self.tree = QTreeWidget()
        self.tree.setObjectName("headerTree")
        self.tree.setColumnCount(4)
        self.tree.setHeaderLabels(["Tag", "Keyword", "VR", "Value"])
        self.tree.setUniformRowHeights(True)
        self.tree.setAlternatingRowColors(True)
        self.tree.header().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.tree.header().setSectionResizeMode(1, QHeaderView.ResizeMode.Interactive)
        self.tree.setColumnWidth(1, 230)
        lay.addWidget(self.tree, 1)
        self.status = QLabel("Reading…")
        self.status.setWordWrap(True)
        lay.addWidget(self.status)
        box = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        box.rejected.connect(self.close)
        lay.addWidget(box)
        self.filter_edit.textChanged.connect(self.apply_filter)
        self.hide_check.toggled.connect(self._refresh_values)
        self.job: workers.Job | None = None

    def start(self) -> workers.Job:
        """Read the header in a worker (its own job: it may run beside a long window job)."""
        self.job = workers.Job("Reading the DICOM header", read_header_rows, self.path)
        self.job.signals.finished.connect(self.set_rows)
        self.job.signals.failed.connect(self._failed)
        return self.job.start()

    def _failed(self, err) -> None:
        self.status.setText("The header could not be read.")
        error_dialog.show_error(self, "Reading the DICOM header", err)
        self.loaded.emit()

    def set_rows(self, rows: list[HeaderRow]) -> None:
        self.rows = list(rows)
        self.tree.clear()
        self._items = []

        def add(parent, row: HeaderRow) -> None:
            item = QTreeWidgetItem([row.tag, row.keyword, row.vr, ""])
            self._items.append((item, row))
            for child in row.children:
                add(item, child)
            parent.addChild(item) if isinstance(parent, QTreeWidgetItem) else parent.addTopLevelItem(item)

        for row in self.rows:
            add(self.tree, row)
        self._refresh_values()
        count = sum(1 for r in self.rows for _ in r.walk())
        self.status.setText(f"{count} elements. Sequences expand; the file's pixel data is not read.")
        self.loaded.emit()

    def shown_value(self, row: HeaderRow) -> str:
        return HIDDEN if (row.identifying and row.value and self.hide_check.isChecked()) else row.value

    def _refresh_values(self) -> None:
        for item, row in self._items:
            item.setText(3, self.shown_value(row))
            item.setToolTip(3, item.text(3))
        self.apply_filter()

    def apply_filter(self) -> None:
        """Show the rows whose tag, keyword or shown value contains the filter text (and their parents)."""
        needle = self.filter_edit.text().strip().lower().strip("()")

        def visit(item: QTreeWidgetItem) -> bool:
            own = not needle or any(needle in item.text(c).lower() for c in range(4))
            child_match = False
            for i in range(item.childCount()):
                child_match |= visit(item.child(i))
            item.setHidden(not (own or child_match))
            if needle and child_match:
                item.setExpanded(True)
            return own or child_match

        for i in range(self.tree.topLevelItemCount()):
            visit(self.tree.topLevelItem(i))

    def visible_rows(self) -> list[tuple[str, str, str, str]]:
        """(tag, keyword, VR, value) of every row not hidden by the filter (tests, copy)."""
        out = []
        for item, _row in self._items:
            hidden, parent = item.isHidden(), item.parent()
            while parent is not None and not hidden:
                hidden, parent = parent.isHidden(), parent.parent()
            if not hidden:
                out.append(tuple(item.text(c) for c in range(4)))
        return out


def install(window) -> None:
    """Add "DICOM header…" (View menu, Ctrl+I) and "Export anonymised series…" (File menu). Idempotent."""
    if getattr(window, "_dicom_tools_installed", False):
        return
    window._dicom_tools_installed = True
    panel = window.panel("data")
    menus = {a.text().replace("&", ""): a.menu() for a in window.menuBar().actions() if a.menu() is not None}
    acts = window.actions_by_name
    header = QAction("DICOM &header…", window)
    header.setShortcut(QKeySequence(HEADER_SHORTCUT))
    header.setStatusTip("Show the DICOM header of the selected series' first image")
    header.triggered.connect(lambda _checked=False: panel.show_header())
    export = QAction("&Export anonymised series…", window)
    export.setStatusTip("Write a de-identified copy of the selected series to a folder")
    export.triggered.connect(lambda _checked=False: panel.export_dialog())
    acts["dicom_header"], acts["export_anonymised"] = header, export
    view_menu, file_menu = menus.get("View"), menus.get("File")
    if view_menu is not None:
        view_menu.addSeparator()
        view_menu.addAction(header)
    else:
        window.addAction(header)
    if file_menu is not None and "save_view" in acts:
        file_menu.insertAction(acts["save_view"], export)
    elif file_menu is not None:
        file_menu.addAction(export)
