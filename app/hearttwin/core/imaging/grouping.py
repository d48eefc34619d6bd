"""Split DICOM records into sub-series and cardiac phases, like 3D Slicer's scalar volume plugin.

A SeriesInstanceUID is split into sub-series by anything that makes images
unstackable: modality/SOP class, image type (a localizer in an axial series),
image size (rows x columns) and orientation. Repeated slice positions within
one sub-series are then explained, in order, by cardiac phase tags
(TemporalPositionIndex, NominalPercentageOfCardiacPhase, TriggerTime), by a
change of AcquisitionNumber (split into sub-series), or as duplicates: the
same image twice is dropped with a warning, two different images at one
position without phase tags is an error.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from ..errors import GeometryError, HeartTwinError
from .geometry import SAME_POSITION_MM, fmt_pos, normal_of
from .headers import SliceRecord

PHASE_KEYS = (
    ("temporal_index", "temporal position {:g}"),
    ("cardiac_percent", "{:g}% of R-R"),
    ("trigger_time", "trigger {:g} ms"),
)


@dataclass
class Group:
    """One stackable sub-series (possibly with several cardiac phases)."""

    series_uid: str
    number: int | None
    description: str
    modality: str
    image_type: tuple[str, ...]
    records: list[SliceRecord]
    label: str = ""
    phases: list[list[SliceRecord]] = field(default_factory=list)
    phase_labels: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    error: HeartTwinError | None = None

    @property
    def name(self) -> str:
        """How messages name this series (number and description, never patient data)."""
        text = f"Series {self.label}" if self.label else "The series"
        return f"{text} ({self.description})" if self.description else text

    @property
    def is_localizer(self) -> bool:
        return "LOCALIZER" in self.image_type or "SCOUT" in self.image_type or "TOPOGRAM" in " ".join(self.image_type)


def _orientation_key(orientation, clusters: list) -> int:
    if orientation is None:
        return -1
    o = np.asarray(orientation, dtype=float)
    for k, ref in enumerate(clusters):
        if np.max(np.abs(o - ref)) < 1e-3:
            return k
    clusters.append(o)
    return len(clusters) - 1


def split_series(records: list[SliceRecord]) -> list[Group]:
    """Group records by series UID, then split each into stackable sub-series."""
    by_uid: dict[str, list[SliceRecord]] = defaultdict(list)
    for r in records:
        key = r.series_uid or f"no-uid:{r.series_number}:{r.description}"
        by_uid[key].append(r)
    groups: list[Group] = []
    for uid, recs in by_uid.items():
        clusters: list = []
        parts: dict[tuple, list[SliceRecord]] = defaultdict(list)
        for r in recs:
            key = (r.modality, r.sop_class, r.image_type[:3], r.fmt.rows, r.fmt.cols,
                   _orientation_key(r.orientation, clusters))
            parts[key].append(r)
        subs = []
        for key, part in parts.items():
            subs.extend(_split_repeats(uid, part))
        _label(subs, recs[0].series_number)
        groups.extend(subs)
    groups.sort(key=lambda g: (g.number if g.number is not None else 1 << 30, g.label))
    return groups


def _label(subs: list[Group], number: int | None) -> None:
    base = str(number) if number is not None else "?"
    subs.sort(key=lambda g: (g.is_localizer, -len(g.records)))
    if len(subs) == 1:
        subs[0].label = base
        return
    for k, g in enumerate(subs, 1):
        g.label = f"{base}.{k}"
    for g in subs:
        others = ", ".join(s.label for s in subs if s is not g)
        g.warnings.append(
            f"Series {base} holds images that cannot be stacked together (different image type, "
            f"size, orientation or acquisition); they are listed separately as {g.label} and {others}."
        )


def _position_clusters(recs: list[SliceRecord]) -> list[list[int]] | None:
    """Indices of records grouped by slice position (None if geometry is missing)."""
    if any(r.position is None or r.orientation is None for r in recs):
        return None
    normal = normal_of(recs[0].orientation)
    pos = np.array([r.position for r in recs], dtype=float)
    proj = pos @ normal
    order = np.argsort(proj, kind="stable")
    clusters: list[list[int]] = []
    last = None
    for i in order:
        if last is not None and proj[i] - last < SAME_POSITION_MM and \
                np.linalg.norm(pos[i] - pos[clusters[-1][0]]) < 10 * SAME_POSITION_MM:
            clusters[-1].append(int(i))
        else:
            clusters.append([int(i)])
        last = proj[i]
    return clusters


def _new_group(uid, recs) -> Group:
    r = recs[0]
    return Group(uid, r.series_number, r.description, r.modality, r.image_type, recs)


def _split_repeats(uid: str, recs: list[SliceRecord]) -> list[Group]:
    clusters = _position_clusters(recs)
    if clusters is None or max(len(c) for c in clusters) == 1:
        g = _new_group(uid, recs)
        g.phases, g.phase_labels = [recs], [""]
        return [g]
    split = _split_phases(recs, clusters)
    if split is not None:
        g = _new_group(uid, recs)
        g.phases, g.phase_labels = split
        return [g]
    acq = {r.acquisition_number for r in recs}
    if len(acq) > 1:
        by_acq: dict = defaultdict(list)
        for r in recs:
            by_acq[r.acquisition_number].append(r)
        parts = list(by_acq.values())
        if all(max(len(c) for c in _position_clusters(p)) == 1 for p in parts):
            out = []
            for p in parts:
                g = _new_group(uid, p)
                g.phases, g.phase_labels = [p], [""]
                out.append(g)
            return out
    g = _new_group(uid, recs)
    g.phases, g.phase_labels = [recs], [""]
    return [g]


def _split_phases(recs, clusters):
    mult = max(len(c) for c in clusters)
    uniform = all(len(c) == mult for c in clusters)
    for attr, label in PHASE_KEYS:
        values = [getattr(r, attr) for r in recs]
        if any(v is None for v in values):
            continue
        distinct = sorted(set(values))
        if len(distinct) == mult:
            phases = [[r for r, v in zip(recs, values) if v == d] for d in distinct]
            if all(max(len(c) for c in _position_clusters(p)) == 1 for p in phases):
                return phases, [label.format(d) for d in distinct]
        # Per-slice jitter of the tag (e.g. TriggerTime): rank the images at each position.
        if uniform and all(len({values[i] for i in c}) == mult for c in clusters):
            phases = [[] for _ in range(mult)]
            sums = [0.0] * mult
            for c in clusters:
                for rank, i in enumerate(sorted(c, key=lambda i: values[i])):
                    phases[rank].append(recs[i])
                    sums[rank] += values[i]
            return phases, [label.format(round(s / len(clusters), 1)) for s in sums]
    return None


def resolve_duplicates(group: Group, same_content: Callable[[SliceRecord, SliceRecord], bool]) -> None:
    """Drop exact duplicate images in each phase; record an error for conflicting ones."""
    for p, recs in enumerate(group.phases):
        clusters = _position_clusters(recs)
        if clusters is None or max(len(c) for c in clusters) == 1:
            continue
        keep: list[SliceRecord] = []
        dropped: list[float] = []
        normal = normal_of(recs[0].orientation)
        axial = abs(normal[2]) > 0.9
        for c in clusters:
            first = recs[c[0]]
            keep.append(first)
            for i in c[1:]:
                other = recs[i]
                z = float(np.dot(first.position, normal))
                if other.sop_instance != first.sop_instance and not same_content(first, other):
                    group.error = GeometryError(
                        f"{group.name} has two different images at {fmt_pos(z, axial)} and no "
                        "cardiac phase tags (TemporalPositionIndex, NominalPercentageOfCardiacPhase, "
                        "TriggerTime) to tell them apart. Export each reconstruction or phase as "
                        "its own series."
                    )
                    return
                dropped.append(z)
        group.phases[p] = keep
        where = ", ".join(fmt_pos(z, axial) for z in dropped[:3]) + (" ..." if len(dropped) > 3 else "")
        group.warnings.append(
            f"{group.name} contains {len(dropped)} duplicate slice(s) (same position and same "
            f"pixels, at {where}); the copies were ignored."
        )
