"""The Case: everything about one patient's plan, with its provenance.

A :class:`Case` holds the image (a reference to the DICOM series, plus the
volume once loaded; embedded in the case file only when the user asks), the
label map, surface meshes (derivable from the labels, so optional), landmarks
and measurements, placed devices, simulation parameters and results, and the
:class:`~hearttwin.core.history.History` of the steps applied to it.

It is a plain dataclass (no Qt): the GUI watches :attr:`Case.revision` (or
subscribes with :meth:`Case.subscribe`) and :attr:`Case.dirty` tells whether
there are unsaved changes. Every setter bumps the revision; setters given a
``step`` name also record that step with its parameters in the history.
:mod:`hearttwin.core.casefile` saves and loads cases as ``.htwin`` files.

A placed device is ``{"id": catalogue id, "size": size, "pose_lps": 4x4}``
(DESIGN.md); simulation parameters and results are JSON dicts.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from .case_image import ImageRef, image_ref_for
from .errors import InputError
from .history import History, json_safe
from .imaging.volume import Volume

__all__ = ["Case", "ImageRef", "case_from_image", "check_device", "load_phase_series"]


def check_device(device: dict) -> dict:
    """A placed device as a clean JSON-safe dict; raises InputError when malformed."""
    if not isinstance(device, dict) or "id" not in device:
        raise InputError("A placed device needs a catalogue id, a size and a 4x4 pose.")
    pose = np.asarray(device.get("pose_lps", np.eye(4)), dtype=float)
    if pose.shape != (4, 4) or not np.all(np.isfinite(pose)):
        raise InputError(f"The pose of device {device['id']!r} must be a finite 4x4 matrix "
                         f"(got shape {pose.shape}).")
    if not np.allclose(pose[3], [0, 0, 0, 1]):
        raise InputError(f"The pose of device {device['id']!r} is not a rigid transform "
                         "(its last row must be 0 0 0 1).")
    out = json_safe(dict(device))
    out["id"] = str(device["id"])
    out["pose_lps"] = pose.tolist()
    return out


@dataclass(eq=False)
class Case:
    """One patient plan. Mutate it through the setters so ``dirty`` stays right."""

    image_ref: ImageRef | None = None
    image: Volume | None = None
    labels: Volume | None = None
    #: name -> vtkPolyData in LPS; derivable from ``labels``, so optional
    meshes: dict = field(default_factory=dict)
    #: name -> [x, y, z] LPS mm (or nested dicts of points, e.g. coronary ostia)
    landmarks: dict = field(default_factory=dict)
    #: the dict of :func:`hearttwin.core.anatomy.measure_all`
    measurements: dict = field(default_factory=dict)
    devices: list = field(default_factory=list)
    simulation: dict = field(default_factory=lambda: {"params": {}, "results": {}})
    history: History = field(default_factory=History)
    #: store the image itself (compressed NRRD) in the case file
    embed_image: bool = False
    #: random identifier, stable across saves; names the autosave file (never patient data)
    case_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    #: where the case was last saved or loaded from
    path: Path | None = None
    #: messages for the user gathered while loading (migrations, relocated image, ...)
    warnings: list = field(default_factory=list)
    revision: int = 0
    saved_revision: int = 0

    def __post_init__(self) -> None:
        self._listeners: list[Callable[["Case", str], None]] = []
        self.devices = [check_device(d) for d in self.devices]

    # -- change tracking ---------------------------------------------------------------
    @property
    def dirty(self) -> bool:
        """True when there are changes since the last save (or load)."""
        return self.revision != self.saved_revision

    def subscribe(self, callback: Callable[["Case", str], None]) -> None:
        """Call ``callback(case, what)`` after every change (``what``: "labels", "devices", ...)."""
        self._listeners.append(callback)

    def unsubscribe(self, callback) -> None:
        """Stop calling ``callback``."""
        self._listeners = [c for c in self._listeners if c is not callback]

    def touch(self, what: str = "case") -> None:
        """Note a change made in place (e.g. painting into ``labels.array``)."""
        self.revision += 1
        for callback in list(self._listeners):
            callback(self, what)

    def mark_saved(self, path=None, revision: int | None = None) -> None:
        """Record that the case (as of ``revision``, default now) is safely on disk at ``path``."""
        if path is not None:
            self.path = Path(path)
        self.saved_revision = self.revision if revision is None else revision

    def record(self, step: str, params: dict | None = None) -> None:
        """Append ``step`` with ``params`` to the history (provenance) and mark the case changed."""
        self.history.append(step, params or {})
        self.touch("history")

    def _changed(self, what: str, step: str | None, params: dict | None) -> None:
        if step:
            self.history.append(step, params or {})
        self.touch(what)

    # -- setters -----------------------------------------------------------------------
    def set_image(self, image: Volume, ref: ImageRef | None = None, *, step: str | None = None,
                  params: dict | None = None) -> None:
        """Set the CT volume (and the reference to its series)."""
        self.image = image
        if ref is not None:
            self.image_ref = ref
        self._changed("image", step, params)

    def set_labels(self, labels: Volume | None, *, step: str | None = None,
                   params: dict | None = None) -> None:
        """Replace the label map; meshes derived from the old one are dropped."""
        if labels is not None:
            arr = np.asarray(labels.array)
            if arr.ndim != 3 or arr.dtype.kind not in "iu" or (arr.size and (arr.min() < 0 or arr.max() > 255)):
                raise InputError("A label map must be a 3D integer array with values 0-255.")
            labels.array = arr.astype(np.uint8, copy=False)
        self.labels = labels
        self.meshes = {}
        self._changed("labels", step, params)

    def set_meshes(self, meshes: dict, *, step: str | None = None, params: dict | None = None) -> None:
        """Set the surface meshes (name -> vtkPolyData in LPS)."""
        self.meshes = dict(meshes)
        self._changed("meshes", step, params)

    def set_landmarks(self, landmarks: dict, *, step: str | None = None, params: dict | None = None) -> None:
        """Set the landmarks (name -> [x, y, z] LPS mm, or nested dicts of points)."""
        self.landmarks = json_safe(dict(landmarks))
        self._changed("landmarks", step, params)

    def set_measurements(self, measurements: dict, *, step: str | None = "measure",
                         params: dict | None = None) -> None:
        """Set the measurements (the dict of :func:`hearttwin.core.anatomy.measure_all`)."""
        self.measurements = json_safe(dict(measurements))
        self._changed("measurements", step, params)

    def place_device(self, device_id: str, size: Any, pose_lps, *, step: str | None = "place_device",
                     **extra) -> int:
        """Add a placed device; returns its index in :attr:`devices`."""
        device = check_device({"id": device_id, "size": size, "pose_lps": pose_lps, **extra})
        self.devices.append(device)
        self._changed("devices", step, {"index": len(self.devices) - 1, **device})
        return len(self.devices) - 1

    def update_device(self, index: int, *, step: str | None = "move_device", **changes) -> None:
        """Change fields of device ``index`` (e.g. ``pose_lps=...`` or ``size=...``)."""
        if not 0 <= index < len(self.devices):
            raise InputError(f"There is no device number {index + 1} in this case.")
        device = check_device({**self.devices[index], **changes})
        self.devices[index] = device
        self._changed("devices", step, {"index": index, **json_safe(changes)})

    def remove_device(self, index: int, *, step: str | None = "remove_device") -> None:
        """Remove device ``index``."""
        if not 0 <= index < len(self.devices):
            raise InputError(f"There is no device number {index + 1} in this case.")
        removed = self.devices.pop(index)
        self._changed("devices", step, {"index": index, "id": removed["id"]})

    def set_simulation(self, params: dict | None = None, results: dict | None = None, *,
                       step: str | None = "simulate") -> None:
        """Store simulation parameters and/or results (plain JSON dicts)."""
        if params is not None:
            self.simulation["params"] = json_safe(dict(params))
        if results is not None:
            self.simulation["results"] = json_safe(dict(results))
        self._changed("simulation", step, {"params": self.simulation["params"]} if params is not None else {})


def case_from_image(source, series=None, phase: int = 0, progress=None) -> Case:
    """A new Case on a CT: a DICOM folder/file or a NRRD/NIfTI/MHA volume.

    The best CT series is chosen unless ``series`` names one (as in
    :func:`hearttwin.core.imaging.load_volume`). The case records where the
    series is and its fingerprint, so the case file can find it again.
    """
    from . import jobs
    from .imaging import load_volume, scan

    result = scan(source, jobs.SubProgress(progress, 0, 20, 100) if progress else None)
    info = result.choose(series)
    volume = load_volume(info, phase=phase, progress=jobs.SubProgress(progress, 20, 100, 100) if progress else None)
    case = Case(image_ref=image_ref_for(source, info, phase), image=volume)
    case.history.append("open_image", {"series": info.label, "phase": phase, "source": info.source,
                                       "size": list(info.size), "spacing_mm": list(info.spacing_mm)})
    return case


def load_phase_series(source, series=None, progress=None) -> tuple[list[Volume], list[float]]:
    """Every cardiac phase of a CT series (time order) and its phase in the cycle, in [0, 1).

    The series is chosen as in :func:`case_from_image`. A phase's place in
    the cycle is its nominal cardiac percentage when every image has one,
    else ``i / n`` (phases taken as equally spaced from the R wave).
    """
    from . import jobs
    from .imaging import load_phases, scan

    info = scan(source, jobs.SubProgress(progress, 0, 10, 100) if progress else None).choose(series)
    images = load_phases(info, progress=jobs.SubProgress(progress, 10, 100, 100)
                         if progress else None)
    n = len(images)
    groups = info.group.phases if info.group is not None else []
    percent = [[r.cardiac_percent for r in recs] for recs in groups]
    if n > 1 and len(percent) == n and all(v is not None for p in percent for v in p):
        return images, [float(np.mean(p)) / 100.0 % 1.0 for p in percent]
    return images, [i / n for i in range(n)]
