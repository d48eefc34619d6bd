"""``hearttwin --self-test``: the whole pipeline on the bundled sample case, headless.

Steps, in order: ``load`` (the sample DICOM series), ``segment`` (automatic
7-label segmentation, volumes compared with the sample's ground truth),
``model`` (surface meshes written as STL, each watertight), ``place``
(measurements and a static fit of a 26 mm balloon-expandable valve),
``simulate`` (the 0D beating heart of a normal adult), ``report`` (PDF and
HTML with offscreen 3D renders) and ``window`` (the main window opens,
offscreen when there is no display). Each prints one line::

    PASS  segment    21.4 s  7 structures, volumes within 30% of the truth

A step whose input failed is skipped (and counts as failed). The exit status
is 0 when every step passed, 1 otherwise, 2 for bad options. Outputs go to a
temporary folder that is removed afterwards unless ``-o DIR`` is given.

The sample case is found through ``$HEARTTWIN_SAMPLE``, a frozen bundle's
``sample_dicom/`` (PyInstaller) or the source tree's ``sample_dicom/``.
Nothing here imports Qt or VTK rendering until the step that needs it runs.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

#: every step, in pipeline order
STEPS = ("load", "segment", "model", "place", "simulate", "report", "window")
#: steps whose outputs a step needs
NEEDS = {"segment": ("load",), "model": ("segment",), "place": ("load", "segment"),
         "report": ("load", "segment", "place")}
#: a segmented structure's volume may differ this much from the sample's truth
VOLUME_TOLERANCE = 0.30
#: the device planned on the sample (catalogue id, size in mm)
DEVICE = ("thv-balloon", 26)
#: healthy-adult range of the simulated LV ejection fraction (%)
EF_RANGE = (50.0, 75.0)
#: the main window must be up within this many seconds
WINDOW_TIMEOUT_S = 60
#: when set, the window step prints "READY  window" the moment the window is up (for bench/startup.py)
READY_ENV = "HEARTTWIN_SELFTEST_READY_LINE"


class StepFailed(Exception):
    """A step ran but its result is wrong; ``str()`` says what was checked."""


@dataclass
class Context:
    """What the steps share: the sample folder, the output folder and results so far."""

    sample: Path
    out: Path
    results: dict = field(default_factory=dict)


def sample_dir() -> Path:
    """The bundled sample case folder (holding ``dicom/``), wherever HeartTwin runs from."""
    from .core.resources import bundled_candidates

    candidates = bundled_candidates("sample_dicom", "HEARTTWIN_SAMPLE")
    for path in candidates:
        if (path / "dicom").is_dir():
            return path
    from .core.errors import InputError

    raise InputError("The sample case was not found (looked in: " + ", ".join(map(str, candidates))
                     + "). Reinstall HeartTwin or set HEARTTWIN_SAMPLE to the sample_dicom folder.")


def headless_gl() -> None:
    """On Linux without a display, make VTK render through OSMesa (before VTK rendering loads)."""
    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        os.environ.setdefault("VTK_DEFAULT_OPENGL_WINDOW", "vtkOSOpenGLRenderWindow")
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


# --- the steps: each returns a one-line detail or raises -----------------------------------

def step_load(ctx: Context) -> str:
    import numpy as np

    from .core.imaging import load_volume

    image = load_volume(ctx.sample / "dicom")
    a = np.asarray(image.array)
    if a.ndim != 3 or min(a.shape) < 16:
        raise StepFailed(f"the sample loaded as an array of shape {a.shape}, not a 3D CT")
    lo, hi = float(a.min()), float(a.max())
    if not (lo < -500 and hi > 200):  # air and contrast-filled blood must both be there (HU)
        raise StepFailed(f"intensities {lo:.0f}..{hi:.0f} do not look like a contrast CT in HU")
    ctx.results["image"] = image
    nz, ny, nx = a.shape
    sx, sy, sz = (float(s) for s in image.spacing)
    return f"{nx}x{ny}x{nz} voxels, {sx:.2f}x{sy:.2f}x{sz:.2f} mm, HU {lo:.0f}..{hi:.0f}"


def step_segment(ctx: Context) -> str:
    from .core.segmentation.auto import segment_heart
    from .core.segmentation.labels import label_volumes_ml

    result = segment_heart(ctx.results["image"])
    if result.missing:
        raise StepFailed(f"structures not found: {', '.join(result.missing)}")
    volumes = label_volumes_ml(result.labels.array, result.labels.spacing)
    ctx.results["labels"] = result.labels
    truth_file = ctx.sample / "truth.json"
    if not truth_file.is_file():
        return f"{len(volumes)} structures (no truth.json to compare with)"
    truth = json.loads(truth_file.read_text(encoding="utf-8"))["structures"]
    worst_key, worst = max(((k, abs(volumes[k]["volume_ml"] / truth[k]["volume_ml"] - 1.0))
                            for k in truth), key=lambda kv: kv[1])
    if worst > VOLUME_TOLERANCE:
        raise StepFailed(f"{worst_key} volume {volumes[worst_key]['volume_ml']:.0f} mL is "
                         f"{100 * worst:.0f}% off the truth {truth[worst_key]['volume_ml']:.0f} mL")
    return (f"{len(volumes)} structures, volumes within {100 * worst:.0f}% of the truth "
            f"(worst {worst_key})")


def step_model(ctx: Context) -> str:
    from .core.mesh import mesh_report, surfaces_from_labels, write_mesh

    surfaces = surfaces_from_labels(ctx.results["labels"])
    if len(surfaces) < 7:
        raise StepFailed(f"{len(surfaces)} surfaces extracted, 7 expected")
    folder = ctx.out / "models"
    folder.mkdir(parents=True, exist_ok=True)
    triangles = 0
    for label, poly in sorted(surfaces.items()):
        rep = mesh_report(poly)
        if not rep["watertight"]:
            raise StepFailed(f"the surface of label {label} is not watertight")
        path = write_mesh(poly, folder / f"label_{label}.stl")
        if path.stat().st_size < 1000:
            raise StepFailed(f"{path.name} is only {path.stat().st_size} bytes")
        triangles += rep["triangles"]
    ctx.results["surfaces"] = surfaces
    return f"{len(surfaces)} watertight surfaces, {triangles} triangles, STL in {folder.name}/"


def step_place(ctx: Context) -> str:
    from .core.anatomy import measure_all
    from .core.devices.plan import plan_static

    labels, image = ctx.results["labels"], ctx.results["image"]
    measurements = measure_all(labels, image)
    device, size = DEVICE
    plan = plan_static(labels, device_id=device, size=size, image=image, measurements=measurements)
    if plan.get("overall") not in ("pass", "caution", "fail") or not plan.get("verdicts"):
        raise StepFailed(f"the plan has no verdict (overall={plan.get('overall')!r})")
    metrics = plan["phases"][0]["metrics"]
    over = metrics.get("oversizing_area_percent")
    if over is None or not math.isfinite(over):
        raise StepFailed(f"area oversizing is {over!r}, not a number")
    ctx.results.update(measurements=measurements, plan=plan)
    (ctx.out / "plan.json").write_text(json.dumps(plan, indent=1, default=_plain), encoding="utf-8")
    area = measurements["annulus"]["area_mm2"]
    return (f"{device} {size} mm at the annulus ({area:.0f} mm2), oversizing {over:.1f}%, "
            f"overall {plan['overall']}")


def step_simulate(ctx: Context) -> str:
    from .core.simulation import CirculationParams, simulate, summarise

    summary = summarise(simulate(CirculationParams()))
    ef = float(summary["lv"]["ef_percent"][0])
    co = float(summary["cardiac_output_l_min"][0])
    if not EF_RANGE[0] <= ef <= EF_RANGE[1]:
        raise StepFailed(f"LV ejection fraction {ef:.1f}% is outside a normal adult's {EF_RANGE}")
    return f"normal adult: LV EF {ef:.1f}%, cardiac output {co:.1f} L/min"


def step_report(ctx: Context) -> str:
    from .report import build_report, write_report

    r = ctx.results
    series = {"description": "HeartTwin sample case (synthetic)", "modality": "CT",
              "spacing_mm": [float(s) for s in r["image"].spacing]}
    report = build_report(labels=r["labels"], plan=r["plan"], measurements=r["measurements"],
                          series=series, identifiers={"case_label": "self-test"},
                          surfaces=r.get("surfaces"))
    renders = len(report.figures("render"))
    if renders == 0:
        raise StepFailed("the report has no 3D render")
    sizes = []
    for name in ("report.pdf", "report.html"):
        path = write_report(report, ctx.out / name)
        head = path.read_bytes()[:5]
        if name.endswith(".pdf") and head != b"%PDF-":
            raise StepFailed(f"{name} does not start like a PDF ({head!r})")
        sizes.append(f"{name} {path.stat().st_size // 1024} kB")
    return f"{renders} offscreen renders; " + ", ".join(sizes)


def step_window(ctx: Context) -> str:
    from PySide6.QtCore import QTimer

    from .gui import app as gui_app

    qapp = gui_app.application()
    seen: dict = {}

    def probe() -> None:  # first event-loop turn: the window was shown
        seen["elapsed"] = time.perf_counter() - start
        if os.environ.get(READY_ENV):  # bench/startup.py times the start to this line
            sys.stdout.write("READY  window\n")
            sys.stdout.flush()
        windows = [w for w in qapp.topLevelWidgets() if w.isVisible() and w.isWindow()]
        seen["titles"] = [w.windowTitle() for w in windows]
        for w in windows:
            w.close()
        qapp.quit()

    def give_up() -> None:
        seen.setdefault("timeout", True)
        qapp.quit()

    start = time.perf_counter()
    QTimer.singleShot(0, probe)
    QTimer.singleShot(WINDOW_TIMEOUT_S * 1000, give_up)
    gui_app.run(None)
    if "elapsed" not in seen:
        raise StepFailed(f"the main window did not open within {WINDOW_TIMEOUT_S} s")
    if not seen["titles"]:
        raise StepFailed("the event loop ran but no window was shown")
    platform = qapp.platformName()
    return f"main window {seen['titles'][0]!r} shown in {seen['elapsed']:.2f} s (Qt platform {platform})"


RUNNERS = {"load": step_load, "segment": step_segment, "model": step_model, "place": step_place,
           "simulate": step_simulate, "report": step_report, "window": step_window}


def _plain(obj):
    """JSON fallback for numpy values in the plan."""
    import numpy as np

    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    return str(obj)


def run_steps(ctx: Context, steps, out=sys.stdout) -> dict[str, bool]:
    """Run ``steps`` in order, print one PASS/FAIL/SKIP line each; ``{step: passed}``."""
    passed: dict[str, bool] = {}
    for step in steps:
        missing = [n for n in NEEDS.get(step, ()) if not passed.get(n)]
        if missing:
            passed[step] = False
            out.write(f"SKIP  {step:<9}   -    needs {', '.join(missing)}\n")
            out.flush()
            continue
        t0 = time.perf_counter()
        try:
            detail = RUNNERS[step](ctx)
            ok = True
        except StepFailed as err:
            detail, ok = str(err), False
        except Exception as err:  # noqa: BLE001 (any error is this step's failure)
            detail, ok = f"{type(err).__name__}: {err}", False
            traceback.print_exc(file=sys.stderr)
        passed[step] = ok
        out.write(f"{'PASS' if ok else 'FAIL'}  {step:<9} {time.perf_counter() - t0:5.1f} s  {detail}\n")
        out.flush()
    return passed


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="hearttwin --self-test",
        description="Run the whole pipeline on the bundled sample case, headless, and print one "
        "PASS/FAIL line per step. Exit status 0 when every step passed.")
    p.add_argument("-o", "--output", metavar="DIR", help="keep the outputs (meshes, plan, report) in DIR")
    p.add_argument("--steps", metavar="LIST", default=",".join(STEPS),
                   help=f"comma-separated steps to run (default: all of {','.join(STEPS)}); "
                   "steps they need are added")
    return p


def _expand(names: list[str]) -> list[str]:
    wanted = set(names)
    for name in names:
        wanted.update(NEEDS.get(name, ()))
    return [s for s in STEPS if s in wanted]


def main(argv: list[str] | None = None) -> int:
    """Entry of ``hearttwin --self-test [-o DIR] [--steps LIST]``; returns the exit status."""
    args = _parser().parse_args(argv)
    names = [s.strip() for s in args.steps.split(",") if s.strip()]
    unknown = [s for s in names if s not in STEPS]
    if unknown or not names:
        sys.stderr.write(f"hearttwin --self-test: unknown step(s) {', '.join(unknown) or '(none)'}; "
                         f"choose from {', '.join(STEPS)}\n")
        return 2
    headless_gl()
    from . import __version__
    from .core.errors import HeartTwinError

    try:
        sample = sample_dir()
    except HeartTwinError as err:
        sys.stderr.write(f"hearttwin --self-test: {err}\n")
        return 1
    out = Path(args.output) if args.output else Path(tempfile.mkdtemp(prefix="hearttwin-selftest-"))
    out.mkdir(parents=True, exist_ok=True)
    frozen = " (frozen bundle)" if getattr(sys, "frozen", False) else ""
    sys.stdout.write(f"HeartTwin {__version__} self-test{frozen}: sample {sample}, outputs in {out}\n")
    sys.stdout.flush()
    t0 = time.perf_counter()
    try:
        passed = run_steps(Context(sample=sample, out=out), _expand(names))
    finally:
        if not args.output:
            shutil.rmtree(out, ignore_errors=True)
    good = sum(passed.values())
    verdict = "passed" if good == len(passed) else "FAILED"
    sys.stdout.write(f"Self-test {verdict}: {good}/{len(passed)} steps in {time.perf_counter() - t0:.1f} s\n")
    return 0 if good == len(passed) else 1
