"""Report sections about the case: identity, image series, segmentation, measurements.

Each function takes plain inputs (dicts, a label-map Volume) and returns a
:class:`~.content.Section`. Numbers keep their units in the text (mm, mm2,
mL) and a measurement with an uncertainty interval shows it beside the value.
"""

from __future__ import annotations

import numpy as np

from ..render.colours import label_name, label_table
from .content import Paragraph, Section, Table
from .identifiers import IDENTIFYING, LABELS, display_date, display_name

#: unit suffixes of measurement keys -> unit shown
UNITS = (("_mm2", "mm2"), ("_mm", "mm"), ("_ml", "mL"), ("_deg", "deg"), ("_percent", "%"),
         ("_g", "g"), ("_l_min", "L/min"), ("_mmhg", "mmHg"))
#: measurement groups shown, in order, with their titles
GROUPS = {"annulus": "Aortic annulus", "root": "Aortic root", "lvot": "Left ventricular outflow tract",
          "laa": "Left atrial appendage", "septum": "Interatrial septum", "mitral": "Mitral annulus"}
_ACRONYMS = {"lvot": "LVOT", "laa": "LAA", "ef": "EF", "lv": "LV", "rv": "RV", "la": "LA", "ra": "RA",
             "edv": "EDV", "esv": "ESV", "sv": "SV", "eoa": "EOA", "qp": "Qp", "qs": "Qs"}
_SKIP = {"units", "uncertainty", "warnings", "seconds", "chambers", "coronary_ostia", "coplanar_view"}


def fmt(value, digits: int = 1) -> str:
    """A number as text ("-" for None or not finite)."""
    if value is None:
        return "-"
    try:
        v = float(value)
    except (TypeError, ValueError):
        return str(value)
    return "-" if not np.isfinite(v) else f"{v:.{digits}f}"


def fmt_range(rng, digits: int = 1) -> str:
    if not isinstance(rng, (list, tuple)) or len(rng) != 2:
        return ""
    return f"{fmt(rng[0], digits)} - {fmt(rng[1], digits)}"


def readable(key: str) -> tuple[str, str]:
    """``"sinus_max_diameter_mm"`` -> ``("Sinus max diameter", "mm")``."""
    unit = ""
    for suffix, name in UNITS:
        if key.endswith(suffix):
            key, unit = key[: -len(suffix)], name
            break
    words = [_ACRONYMS.get(w, w) for w in key.split("_") if w]
    text = " ".join(words).replace("Qp Qs", "Qp/Qs")
    return (text[:1].upper() + text[1:]), unit


def identity(identifiers: dict | None, anonymise: bool) -> Section:
    """Patient and case identifiers, or only the case label when anonymised."""
    ids = dict(identifiers or {})
    rows = []
    if anonymise:
        rows.append(["Case", str(ids.get("case_label") or "Anonymised case")])
        text = ("Anonymised report: the patient's name, ID, birth date, accession number, study date "
                "and institution were removed for teaching and sharing.")
        return Section("identity", "Patient and case", [Table(["Item", "Value"], rows), Paragraph(text, "note")])
    for key in ("patient_name", "patient_id", "birth_date", "accession_number", "study_date",
                "study_description", "institution", "case_label"):
        value = ids.get(key)
        if not value:
            continue
        if key == "patient_name":
            value = display_name(value)
        elif key in ("birth_date", "study_date"):
            value = display_date(value)
        rows.append([LABELS.get(key, key), str(value)])
    blocks = [Table(["Item", "Value"], rows)] if rows else []
    if not any(ids.get(k) for k in IDENTIFYING):
        blocks.append(Paragraph("The input carries no patient identifiers (not a DICOM series, or "
                                "identifiers not given).", "note"))
    return Section("identity", "Patient and case", blocks)


def series(info: dict | None) -> Section:
    """The image series the plan was made on (DESIGN.md ``info`` series keys, or Volume meta)."""
    s = dict(info or {})
    rows = []
    if s.get("description"):
        rows.append(["Series", str(s["description"])])
    for key, name in (("series_number", "Series number"), ("series_label", "Series")):
        if s.get(key) not in (None, "") and not (key == "series_label" and s.get("description")):
            rows.append([name, str(s[key])])
    for key, name in (("modality", "Modality"), ("source", "Source")):
        if s.get(key):
            rows.append([name, str(s[key])])
    if s.get("size"):
        rows.append(["Voxels (x, y, z)", " x ".join(str(int(n)) for n in s["size"])])
    if s.get("spacing_mm"):
        rows.append(["Spacing (mm)", " x ".join(fmt(v, 3) for v in s["spacing_mm"])])
    if s.get("phases"):
        rows.append(["Cardiac phases in the series", str(s["phases"])])
    if "phase" in s and s["phase"] is not None:
        rows.append(["Phase used", fmt(s["phase"], 2)])
    if s.get("synthetic"):
        rows.append(["Synthetic", "yes (HeartTwin phantom)"])
    blocks = [Table(["Item", "Value"], rows)] if rows else [Paragraph("No series information given.", "note")]
    for w in s.get("warnings") or []:
        blocks.append(Paragraph(f"Series warning: {w}", "warning"))
    return Section("series", "Image series", blocks)


def segmentation(labels, measurements: dict | None) -> Section:
    """Structures found in the label map with their volumes (and one-voxel ranges when measured)."""
    arr = np.asarray(labels.array)
    counts = np.bincount(arr.ravel().astype(np.int64), minlength=1)
    voxel_ml = float(np.prod(labels.spacing)) / 1000.0
    chambers = (measurements or {}).get("chambers") or {}
    by_label = {int(v["label"]): v for v in chambers.values() if isinstance(v, dict) and "label" in v}
    table = label_table()
    rows = []
    for value in np.nonzero(counts)[0]:
        if value == 0:
            continue
        key = table.get(int(value), {}).get("key", str(int(value)))
        measured = by_label.get(int(value), {})
        rows.append([key, label_name(int(value)), str(int(value)), fmt(counts[value] * voxel_ml, 1),
                     fmt_range(measured.get("volume_ml_range"))])
    blocks = [Table(["Structure", "Name", "Label", "Volume (mL)", "Range (mL)"], rows,
                    caption="Volumes of the label map; range: one voxel of boundary either way.")]
    if chambers.get("myocardial_mass_g") is not None:
        blocks.append(Paragraph(f"Left ventricular myocardial mass {fmt(chambers['myocardial_mass_g'])} g "
                                f"(range {fmt_range(chambers.get('myocardial_mass_g_range'))} g)."))
    missing = [v["key"] for k, v in sorted(table.items()) if k < 10 and (k >= len(counts) or counts[k] == 0)]
    if missing:
        blocks.append(Paragraph(f"Not in the label map: {', '.join(missing)}.", "warning"))
    return Section("segmentation", "Segmentation", blocks)


def _group_rows(group: dict) -> list[list[str]]:
    rows = []
    for key, value in group.items():
        if key.endswith("_range") or isinstance(value, (dict, list, str, bool)) or value is None:
            continue
        if key.endswith(("_lps", "_points")) or key in ("interface_points",):
            continue
        name, unit = readable(key)
        digits = 2 if key == "eccentricity" or key.startswith("eccentricity") else 1
        rows.append([name, fmt(value, digits), unit, fmt_range(group.get(f"{key}_range"), digits)])
    return rows


def measurements_section(measurements: dict | None) -> Section:
    """Anatomical measurements with their uncertainty ranges, group by group."""
    m = dict(measurements or {})
    blocks = []
    if not m:
        return Section("measurements", "Measurements", [Paragraph("No measurements were made.", "note")])
    groups = [k for k in GROUPS if isinstance(m.get(k), dict) and m[k]]
    groups += [k for k, v in m.items() if k not in GROUPS and k not in _SKIP and isinstance(v, dict) and v]
    for key in groups:
        rows = _group_rows(m[key])
        if rows:
            title = GROUPS.get(key, readable(key)[0])
            blocks.append(Table(["Measurement", "Value", "Unit", "Range"], rows, caption=title))
    ostia = m.get("coronary_ostia") or {}
    rows = [[f"{side.capitalize()} coronary ostium height", fmt(o.get("height_mm")), "mm", o.get("source", "")]
            for side, o in ostia.items() if isinstance(o, dict)]
    if rows:
        blocks.append(Table(["Measurement", "Value", "Unit", "Source"], rows, caption="Coronary ostia"))
    rec = ((m.get("coplanar_view") or {}).get("recommended") or {})
    if rec.get("label"):
        blocks.append(Paragraph(f"Recommended coplanar (implant) C-arm view: {rec['label']}."))
    if m.get("uncertainty"):
        blocks.append(Paragraph(f"Range: {m['uncertainty']}.", "note"))
    return Section("measurements", "Measurements", blocks)
