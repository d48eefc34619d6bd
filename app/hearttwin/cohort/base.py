"""Base anatomies: the expensive work done once, then reused by every virtual patient.

A base anatomy is a phantom (``phantom:small:3``: preset and seed of
:meth:`PhantomParams.sample <hearttwin.core.phantom.params.PhantomParams.sample>`)
or a real case (a ``.htwin`` file with a label map). Building one generates
or loads the label map, measures it (:func:`~hearttwin.core.anatomy.measure_all`),
finds each device family's anchor and computes the signed distance field
around it, cropped to a sphere large enough for the family's largest size on
the largest scaled patient (:data:`REACH_FACTOR`). The result is a small
picklable :class:`BaseAnatomy` (about 1 MB) that Dask moves between workers,
and that :func:`load_or_build` caches in a folder as ``.npz``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..core.atomic import atomic_path
from ..core.devices.anchors import Anchor, find_anchor
from ..core.devices.catalogue import get_device
from ..core.devices.field import AnatomyField
from ..core.devices.geometry import profile
from ..core.errors import InputError
from ..core.history import json_default

#: the field reaches this much beyond the largest device (a patient scaled by
#: 0.8 samples the base field 1/0.8 = 1.25 times further out, plus systole)
REACH_FACTOR = 1.35
#: measurement sections a virtual patient needs (the rest is dropped)
KEEP = ("annulus", "coronary_ostia")
#: cache format; bump when the saved content changes
CACHE_VERSION = 1


@dataclass(frozen=True)
class BaseSpec:
    """Where a base anatomy comes from: ``kind`` "phantom" (preset, seed) or "case" (path)."""

    kind: str
    preset: str = "small"
    seed: int = 0
    path: str | None = None

    @property
    def key(self) -> str:
        if self.kind == "phantom":
            return f"phantom-{self.preset}-{self.seed}"
        return f"case-{Path(str(self.path)).stem}"

    @classmethod
    def parse(cls, text: str) -> "BaseSpec":
        """``phantom:PRESET:SEED`` or the path of a ``.htwin`` case."""
        if text.startswith("phantom:"):
            parts = text.split(":")
            if len(parts) != 3 or not parts[2].isdigit():
                raise InputError(f"A phantom base is phantom:PRESET:SEED (e.g. phantom:small:3), "
                                 f"got {text!r}.")
            return cls("phantom", parts[1], int(parts[2]))
        if not text.lower().endswith(".htwin"):
            raise InputError(f"A base anatomy is phantom:PRESET:SEED or a .htwin case, got {text!r}.")
        return cls("case", path=str(Path(text).resolve()))


@dataclass
class BaseEntry:
    """What one device family needs on a base anatomy: its anchor and field."""

    anchor: Anchor
    field: AnatomyField


@dataclass
class BaseAnatomy:
    """A measured base anatomy with an anchor and a field per anchor/position."""

    key: str
    measurements: dict
    entries: dict = field(default_factory=dict)  # "anchor/position" -> BaseEntry
    seconds: float = 0.0

    def entry(self, family) -> BaseEntry:
        k = entry_key(family)
        if k not in self.entries:
            raise InputError(f"Base anatomy {self.key} was built without {family.id}.")
        return self.entries[k]


def entry_key(family) -> str:
    return f"{family.placement['anchor']}/{family.position}"


def reach_mm(families) -> float:
    """Field radius (mm) that covers every size of ``families`` on any virtual patient."""
    r = 0.0
    for fam in families:
        for s in fam.sizes:
            r = max(r, 0.5 * float(max(s.max_diameter_mm, np.ptp(profile(fam, s.size)[:, 1]))) + 15.0)
    return REACH_FACTOR * r


def _load_labels(spec: BaseSpec, progress=None):
    if spec.kind == "phantom":
        from ..core.phantom.generate import generate_phantom
        from ..core.phantom.params import PhantomParams

        phase = generate_phantom(PhantomParams.sample(spec.seed, spec.preset), progress).phases[0]
        return phase.labels, phase.image, {}
    from ..core import casefile

    path = Path(str(spec.path))
    if not path.exists():
        raise InputError(f"Base case {path.name} does not exist.")
    try:
        case = casefile.load(path, progress)
    except casefile.ImageNotFoundError:
        case = casefile.load(path, progress, load_image=False)
    if case.labels is None:
        raise InputError(f"Base case {path.name} has no label map: segment it first "
                         f"(hearttwin segment, then save the case).")
    return case.labels, case.image, dict(case.measurements or {})


def build(spec: BaseSpec, device_ids, progress=None) -> BaseAnatomy:
    """Generate or load, measure, anchor and field a base anatomy for ``device_ids``."""
    import time

    from ..core.anatomy import measure_all

    start = time.perf_counter()
    labels, image, measured = _load_labels(spec, progress)
    measurements = measured if measured.get("annulus") else measure_all(labels, image)
    families = [get_device(d) for d in device_ids]
    base = BaseAnatomy(spec.key, {k: measurements.get(k) for k in KEEP})
    groups: dict = {}
    for fam in families:
        groups.setdefault(entry_key(fam), []).append(fam)
    for k, fams in groups.items():
        anchor = find_anchor(fams[0].placement["anchor"], measurements, labels)
        anchor.ring = {n: v for n, v in anchor.ring.items() if n != "interface_points"}
        fld = AnatomyField.from_labels(labels, fams[0].position, centre_lps=anchor.centre,
                                       radius_mm=reach_mm(fams))
        base.entries[k] = BaseEntry(anchor, fld)
    base.seconds = round(time.perf_counter() - start, 2)
    return base


# ---------------------------------------------------------------- cache
def cache_name(spec: BaseSpec, device_ids) -> str:
    keys = sorted({entry_key(get_device(d)) for d in device_ids})
    tag = spec.path or ""
    if spec.kind == "case" and Path(tag).exists():
        st = Path(tag).stat()
        tag += f"{st.st_size}:{st.st_mtime_ns}"
    digest = hashlib.sha1(json.dumps([CACHE_VERSION, keys, tag, REACH_FACTOR]).encode()).hexdigest()
    return f"{spec.key}-{digest[:10]}.npz"


def save(base: BaseAnatomy, path) -> None:
    """Write ``base`` as one ``.npz`` (arrays + a JSON header), atomically."""
    arrays, meta = {}, {"key": base.key, "measurements": base.measurements, "entries": {},
                        "seconds": base.seconds, "version": CACHE_VERSION}
    for i, (k, e) in enumerate(base.entries.items()):
        a, f = e.anchor, e.field
        arrays[f"d{i}"], arrays[f"l{i}"] = f.distance, f.labels
        meta["entries"][k] = {
            "i": i, "anchor": {"name": a.name, "centre": a.centre, "axis": a.axis,
                               "reference": a.reference, "ring": a.ring, "sizing": a.sizing,
                               "warnings": a.warnings},
            "origin": f.origin, "spacing": f.spacing, "direction": f.direction,
            "lumen_labels": list(f.lumen_labels)}
    arrays["meta"] = np.frombuffer(json.dumps(meta, default=json_default).encode(), np.uint8)
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        np.savez_compressed(f, **arrays)


def load(path) -> BaseAnatomy:
    """Read a base anatomy written by :func:`save`."""
    with np.load(path, allow_pickle=False) as z:
        meta = json.loads(z["meta"].tobytes().decode())
        if meta.get("version") != CACHE_VERSION:
            raise InputError(f"{Path(path).name} is an older cohort cache; delete it.")
        base = BaseAnatomy(meta["key"], meta["measurements"], seconds=meta.get("seconds", 0.0))
        for k, e in meta["entries"].items():
            a = e["anchor"]
            ref = None if a["reference"] is None else np.asarray(a["reference"], float)
            anchor = Anchor(a["name"], np.asarray(a["centre"], float), np.asarray(a["axis"], float),
                            ref, a["ring"], a["sizing"], a["warnings"])
            fld = AnatomyField(z[f"d{e['i']}"], z[f"l{e['i']}"], e["origin"], e["spacing"],
                               e["direction"], tuple(e["lumen_labels"]))
            base.entries[k] = BaseEntry(anchor, fld)
    return base


def load_or_build(spec: BaseSpec, device_ids, cache_dir=None) -> BaseAnatomy:
    """The base anatomy from ``cache_dir`` when cached there, else built (and cached).

    Runs as a Dask task: when the worker holding its result dies, Dask runs it
    again elsewhere. A cache folder the worker cannot reach is skipped.
    """
    path = None
    if cache_dir is not None:
        path = Path(cache_dir) / cache_name(spec, device_ids)
        if path.exists():
            try:
                return load(path)
            except (OSError, ValueError, KeyError, InputError):
                pass  # unreadable or stale: rebuild over it
    base = build(spec, device_ids)
    if path is not None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            save(base, path)
        except OSError:
            pass  # a read-only or remote folder: the study runs without the cache
    return base
