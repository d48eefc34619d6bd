"""Kill the process mid-save: the case file on disk is always a complete old or new version."""

import os
import random
import signal
import subprocess
import sys
import time

import numpy as np

from hearttwin.core import casefile

# Saves a ~6 MB case (embedded incompressible image) in a loop; generation n has
# measurements {"generation": n} and a label map filled with n % 200 + 1, so a file
# mixing two saves would be seen.
WORKER = r"""
import sys
import numpy as np
from hearttwin.core import casefile
from hearttwin.core.case import Case
from hearttwin.core.imaging.volume import Volume

path, start = sys.argv[1], int(sys.argv[2])
rng = np.random.default_rng(start)
image = Volume(rng.integers(-1024, 3000, (48, 256, 256)).astype(np.int16), (0.5, 0.5, 1.0))
case = Case(image=image, embed_image=True)
for n in range(start, start + 1000):
    case.set_labels(Volume(np.full((48, 64, 64), n % 200 + 1, np.uint8), (2.0, 2.0, 1.0)))
    case.set_measurements({"generation": n})
    print(f"saving {n}", flush=True)
    casefile.save(case, path)
    print(f"saved {n}", flush=True)
"""


def _check(path) -> int:
    """Load ``path`` fully (hashes verified) and return its generation, checking its content."""
    case = casefile.load(path)
    n = case.measurements["generation"]
    assert np.all(case.labels.array == n % 200 + 1)
    assert case.image.array.shape == (48, 256, 256)
    return n


def test_sigkill_during_save_never_leaves_a_corrupt_file(tmp_path):
    path = tmp_path / "plan.htwin"
    rnd = random.Random(7)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    last, mid_save_kills = -1, 0
    for round_ in range(6):
        start = 1000 * (round_ + 1)
        proc = subprocess.Popen([sys.executable, "-c", WORKER, str(path), str(start)],
                                stdout=subprocess.PIPE, text=True, env=env)
        try:
            lines = []
            # let at least one save finish in the first round so there is a previous file
            wanted = "saved" if not path.exists() else "saving"
            while not (lines and lines[-1].startswith(wanted)):
                line = proc.stdout.readline()
                assert line, "the worker stopped before saving"
                lines.append(line.strip())
            time.sleep(rnd.uniform(0.0, 1.2))
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
            lines += [ln.strip() for ln in proc.stdout.read().splitlines()]
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            proc.stdout.close()
        started = [int(ln.split()[1]) for ln in lines if ln.startswith("saving")]
        saved = [int(ln.split()[1]) for ln in lines if ln.startswith("saved")]
        if started and (not saved or started[-1] > saved[-1]):
            mid_save_kills += 1
        n = _check(path)
        # the file is the last completed save, or the one in flight if it got renamed before the kill
        assert n in ([last] + saved + started[-1:])
        assert n >= max(saved[-1:] + [last])
        last = n
        if casefile.backup_path(path).exists():
            assert _check(casefile.backup_path(path)) <= n
    assert mid_save_kills >= 3, "the kills should mostly land during a save"
    # temporary files of killed saves never take the real name
    assert {p.name for p in tmp_path.iterdir() if not p.name.startswith(".")} == {"plan.htwin", "plan.htwin.bak"}
