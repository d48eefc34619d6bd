"""Who and what a report is about, and the strings an anonymised report must not contain.

The core never reads patient-identifying DICOM attributes; a (named) report
is the one place that shows them, so they are read here, on demand, from
one header of the series' folder (:func:`read_identifiers`). The anonymised
variant leaves them out and then checks every text of the report for them
(:func:`secret_strings`, :func:`hearttwin.report.content.scrub`).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

#: identifiers dict keys -> DICOM keywords
DICOM_KEYWORDS = {
    "patient_name": "PatientName", "patient_id": "PatientID", "birth_date": "PatientBirthDate",
    "accession_number": "AccessionNumber", "study_date": "StudyDate",
    "study_description": "StudyDescription", "institution": "InstitutionName",
}
#: keys an anonymised report never shows
IDENTIFYING = ("patient_name", "patient_id", "birth_date", "accession_number", "study_date",
               "institution", "other_ids")
#: readable names of the keys
LABELS = {"patient_name": "Patient name", "patient_id": "Patient ID", "birth_date": "Birth date",
          "accession_number": "Accession number", "study_date": "Study date",
          "study_description": "Study", "institution": "Institution", "case_label": "Case"}
_MAX_TRIES = 64


def read_identifiers(path) -> dict:
    """Patient and study identifiers from one DICOM header under ``path`` ({} when none).

    ``path`` is a DICOM file or folder; other inputs (NRRD, NIfTI, ...) carry
    no identifiers and give ``{}``. Empty attributes are left out.
    """
    import pydicom
    from pydicom.errors import InvalidDicomError

    tags = list(DICOM_KEYWORDS.values())
    for f in _candidate_files(Path(path)):
        try:
            ds = pydicom.dcmread(f, stop_before_pixels=True, specific_tags=tags)
        except (InvalidDicomError, OSError, ValueError, TypeError, AttributeError):
            continue
        if "SOPClassUID" not in ds and not any(k in ds for k in tags):
            continue
        out = {}
        for key, keyword in DICOM_KEYWORDS.items():
            value = str(ds.get(keyword, "") or "").strip()
            if value:
                out[key] = value
        return out
    return {}


def _candidate_files(path: Path):
    if path.is_file():
        if not path.name.lower().endswith((".nrrd", ".nii", ".nii.gz", ".mha", ".mhd", ".htwin", ".json")):
            yield path
        return
    if not path.is_dir():
        return
    tries = 0
    for root, dirs, files in os.walk(path):
        dirs.sort()
        for name in sorted(files):
            if name.startswith("."):
                continue
            tries += 1
            if tries > _MAX_TRIES:
                return
            yield Path(root) / name


def display_name(name: str) -> str:
    """DICOM person name ``FAMILY^GIVEN^MIDDLE`` as ``FAMILY, GIVEN MIDDLE``."""
    parts = [p for p in str(name).split("^") if p]
    if len(parts) < 2:
        return " ".join(parts)
    return f"{parts[0]}, {' '.join(parts[1:])}"


def display_date(value: str) -> str:
    """DICOM date ``YYYYMMDD`` as ``YYYY-MM-DD`` (other text unchanged)."""
    v = str(value).strip()
    return f"{v[:4]}-{v[4:6]}-{v[6:8]}" if re.fullmatch(r"\d{8}", v) else v


def secret_strings(identifiers: dict | None) -> list[str]:
    """Every form in which the identifying values may appear in a report.

    The raw values, person-name parts and the displayed forms; DICOM dates
    also as ``YYYY-MM-DD``, ``DD/MM/YYYY`` and ``DD.MM.YYYY``.
    """
    out: set[str] = set()
    for key in IDENTIFYING:
        raw = (identifiers or {}).get(key)
        for value in (raw if isinstance(raw, (list, tuple)) else [raw]):
            if not value:
                continue
            value = str(value).strip()
            out.add(value)
            if key == "patient_name":
                out.add(display_name(value))
                out.update(p for p in re.split(r"[\^\s,]+", value) if len(p) >= 2)
            v = value
            if re.fullmatch(r"\d{8}", v):
                y, m, d = v[:4], v[4:6], v[6:8]
                out.update({f"{y}-{m}-{d}", f"{d}/{m}/{y}", f"{d}.{m}.{y}", f"{m}/{d}/{y}"})
    return sorted(out)
