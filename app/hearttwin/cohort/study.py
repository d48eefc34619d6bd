"""What a study is: cohort x devices x sizes, its seed and resolution; ``study.json``.

The output folder of a study holds ``study.json``; a rerun in the same
folder must describe the same study (same seed, bases, devices, sizes,
phases, resolution) so the rows already written stay valid. It may ask for
more patients: patient ``i`` does not depend on how many there are.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..core.atomic import atomic_path
from ..core.devices.catalogue import get_device
from ..core.errors import InputError
from .base import BaseSpec
from .cycle import DEFAULT_AROUND, DEFAULT_PHASES

#: default base anatomies: three small phantoms (about 10 s each to build, once)
DEFAULT_BASES = ("phantom:small:0", "phantom:small:1", "phantom:small:2")
#: at most this many patients per Dask task (a batch is a few seconds of work); the batch's
#: two vectorised 0D runs cost about 0.25 s each whatever the batch size (Python per time
#: step), so per plan they cost 12 ms in a batch of 16 patients x 3 sizes, 7 ms in one of 32
MAX_BATCH = 32
#: aim for this many tasks per worker, so a slow or lost worker delays little
TASKS_PER_WORKER = 4
#: fields that may differ between runs in the same folder
MAY_CHANGE = ("n_patients", "batch_size")


@dataclass
class StudySpec:
    """A study.

    Attributes
    ----------
    devices : dict
        Catalogue id -> list of sizes (all the family's sizes when empty).
    n_patients : int
    seed : int
    bases : list of str
        ``phantom:PRESET:SEED`` or ``.htwin`` paths (:class:`~.base.BaseSpec`).
    phases : int
        Phases of the cycle fitted (0, 1/n, ...).
    n_around : int
        Rays around the device per level (the fit's resolution).
    batch_size : int, optional
        Patients per Dask task (default from the cohort and worker count).
    """

    devices: dict
    n_patients: int
    seed: int = 0
    bases: list = field(default_factory=lambda: list(DEFAULT_BASES))
    phases: int = DEFAULT_PHASES
    n_around: int = DEFAULT_AROUND
    batch_size: int | None = None

    def __post_init__(self) -> None:
        if self.n_patients < 1:
            raise InputError(f"A study needs at least one patient, got {self.n_patients}.")
        if not self.devices:
            raise InputError("A study needs at least one device (--device).")
        if not 1 <= self.phases <= 100:
            raise InputError(f"Phases per cycle must be 1-100, got {self.phases}.")
        if not 12 <= self.n_around <= 720:
            raise InputError(f"Rays around the device must be 12-720, got {self.n_around}.")
        if self.batch_size is not None and self.batch_size < 1:
            raise InputError(f"A batch holds at least one patient, got {self.batch_size}.")
        devices = {}
        for device_id, sizes in self.devices.items():
            fam = get_device(device_id)
            chosen = sizes or fam.size_values
            devices[fam.id] = [_num(fam.size(s).size) for s in chosen]  # InputError on a bad size
        self.devices = devices
        self.bases = [str(b) for b in self.bases]
        if not self.bases:
            raise InputError("A study needs at least one base anatomy.")
        self.base_specs()  # validates

    def base_specs(self) -> list[BaseSpec]:
        specs = [BaseSpec.parse(b) for b in self.bases]
        keys = [s.key for s in specs]
        if len(set(keys)) != len(keys):
            raise InputError("Two base anatomies have the same name; rename one case file.")
        return specs

    def task_payload(self) -> dict:
        """What every batch task needs besides its patients and base."""
        return {"devices": self.devices, "phases": self.phases, "n_around": self.n_around}

    def batch_for(self, n_todo: int, n_workers: int) -> int:
        if self.batch_size:
            return self.batch_size
        return max(1, min(MAX_BATCH, math.ceil(n_todo / (TASKS_PER_WORKER * max(n_workers, 1)))))

    def to_json(self) -> dict:
        return asdict(self)

    def check_folder(self, folder) -> None:
        """Write ``study.json`` in ``folder``, or check the one there describes this study."""
        path = Path(folder) / "study.json"
        mine = self.to_json()
        if path.exists():
            try:
                theirs = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as err:
                raise InputError(f"{path} is unreadable ({err}); use a new output folder.") from err
            diff = sorted(k for k in mine if k not in MAY_CHANGE and theirs.get(k) != mine[k])
            if diff:
                raise InputError(f"The output folder holds another study (different {', '.join(diff)}); "
                                 f"use a new folder, or the same options to resume it.")
        with atomic_path(path) as tmp:
            tmp.write_text(json.dumps(mine, indent=2), encoding="utf-8")


def _num(x: float):
    return int(x) if float(x).is_integer() else float(x)
