"""History: provenance steps, JSON-safe parameters, round trip."""

import json
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pytest

from hearttwin import __version__
from hearttwin.core.errors import InputError
from hearttwin.core.history import History, Step, json_safe


def test_append_records_name_params_version_and_utc_time():
    h = History()
    before = datetime.now(timezone.utc)
    step = h.append("paint", {"label": 1, "radius_mm": 5.0})
    assert isinstance(step, Step)
    assert step.name == "paint" and step.params == {"label": 1, "radius_mm": 5.0}
    assert step.app_version == __version__
    t = datetime.fromisoformat(step.time_utc)
    assert t.utcoffset().total_seconds() == 0
    assert before <= t <= datetime.now(timezone.utc)
    assert h.steps == [step] and len(h) == 1 and h[0] is step


def test_params_are_made_json_safe_and_copied():
    params = {"centre": np.array([1.5, 2.0, 3.0]), "label": np.uint8(3), "only": (0, 1),
              "path": Path("x.nrrd"), "nested": {"v": np.float32(0.5)}, "set": {2, 1}}
    step = History().append("op", params)
    assert step.params == {"centre": [1.5, 2.0, 3.0], "label": 3, "only": [0, 1], "path": "x.nrrd",
                           "nested": {"v": 0.5}, "set": [1, 2]}
    json.dumps(step.params)
    params["label"] = 99
    assert step.params["label"] == 3


def test_to_list_from_list_round_trip_through_json():
    h = History()
    h.append("threshold", {"lo": 150.0, "hi": 600.0, "label": 1})
    h.append("grow", {"label": 1, "margin_mm": 2.0})
    data = json.loads(json.dumps(h.to_list()))
    back = History.from_list(data)
    assert back.steps == h.steps
    assert [s.name for s in back] == ["threshold", "grow"]
    assert History.from_list(None).steps == []


def test_damaged_history_is_an_input_error():
    with pytest.raises(InputError):
        History.from_list({"name": "x"})
    with pytest.raises(InputError):
        History.from_list([{"params": {}}])


def test_non_json_values_are_refused():
    with pytest.raises(TypeError):
        json_safe({"f": object()})
    assert json_safe({"a": float("nan"), "b": float("inf")}) == {"a": None, "b": "inf"}
