"""Provenance: the ordered list of steps applied to a case, each with its parameters.

Every operation that changes a case (an automatic segmentation, an edit of
the label map, a device placement) records ``(name, params)`` in a
:class:`History`, as TorchIO records transforms in a subject's history. The
record is JSON-safe so a case file can store it and a batch script can
replay it. Parameters hold settings (labels, radii, thresholds, LPS points),
never image data and never patient-identifying text.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import PurePath
from typing import Any, Iterator

import numpy as np

from .errors import InputError


def _app_version() -> str:
    from .. import __version__

    return __version__


def json_safe(value: Any) -> Any:
    """``value`` with numpy scalars/arrays, tuples, sets and paths turned into JSON types."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return [json_safe(v) for v in sorted(value)]
    if isinstance(value, np.ndarray):
        return json_safe(value.tolist())
    if isinstance(value, np.generic):
        return json_safe(value.item())
    if isinstance(value, float) and not math.isfinite(value):
        return None if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, PurePath):
        return str(value)
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise TypeError(f"history parameter of type {type(value).__name__} is not JSON-safe")


def json_default(obj):
    """``json.dumps(default=...)`` for numpy scalars and arrays (other types: TypeError)."""
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


@dataclass(frozen=True)
class Step:
    """One recorded operation."""

    name: str
    params: dict = field(default_factory=dict)
    app_version: str = ""
    time_utc: str = ""  # ISO 8601 with offset, e.g. 2024-05-01T12:00:00.123456+00:00

    def to_dict(self) -> dict:
        return {"name": self.name, "params": self.params, "app_version": self.app_version,
                "time_utc": self.time_utc}

    @classmethod
    def from_dict(cls, data: dict) -> "Step":
        try:
            return cls(str(data["name"]), dict(data.get("params") or {}),
                       str(data.get("app_version", "")), str(data.get("time_utc", "")))
        except (KeyError, TypeError, ValueError, AttributeError):
            raise InputError("A history step in the case file is damaged (it has no name).") from None


class History:
    """An append-only list of :class:`Step`; the Case owns one."""

    def __init__(self, steps: list[Step] | None = None) -> None:
        self._steps: list[Step] = list(steps or [])

    def append(self, name: str, params: dict | None = None) -> Step:
        """Record ``name`` with a JSON-safe copy of ``params`` and the current UTC time."""
        step = Step(name=str(name), params=json_safe(dict(params or {})),
                    app_version=_app_version(),
                    time_utc=datetime.now(timezone.utc).isoformat())
        self._steps.append(step)
        return step

    @property
    def steps(self) -> list[Step]:
        return list(self._steps)

    def __len__(self) -> int:
        return len(self._steps)

    def __iter__(self) -> Iterator[Step]:
        return iter(list(self._steps))

    def __getitem__(self, index: int) -> Step:
        return self._steps[index]

    def to_list(self) -> list[dict]:
        return [s.to_dict() for s in self._steps]

    @classmethod
    def from_list(cls, data: list[dict] | None) -> "History":
        if data is None:
            return cls()
        if not isinstance(data, list):
            raise InputError("The history in the case file is damaged (it is not a list of steps).")
        return cls([Step.from_dict(d) for d in data])


def record(history: History | None, name: str, params: dict) -> Step | None:
    """Append to ``history`` when there is one (the ``history=None`` convention of core ops)."""
    return history.append(name, params) if history is not None else None
