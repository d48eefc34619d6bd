"""Benchmark: start-up to a ready main window (headless), source install and frozen bundle.

Each run is a fresh process ``hearttwin --self-test --steps window``: it opens
the real main window through ``hearttwin.gui.app.run`` (offscreen Qt, OSMesa
VTK) and prints a READY line as soon as the window is up; the time measured is
from starting the process to that line. The first run after dropping the page
cache (when this user may: root on Linux) is the cold start; the median of the
others is the warm start. Also times ``hearttwin --version`` (CLI start-up,
no Qt) and records the bundle's unpacked size and what dominates it.
Targets: ready window <= 3 s, bundle <= 600 MB unpacked.

    python bench/startup.py [--bundle build/packaging/dist/hearttwin] [--repeats 3] [--json]

Without --bundle the frozen bundle is looked for in build/packaging/dist/hearttwin
and /opt/hearttwin; the source install is this interpreter's ``-m hearttwin``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET_WINDOW_S = 3.0
TARGET_BUNDLE_MB = 600
READY_PREFIX = "READY  window"  # printed by the self-test on the first event-loop turn
DEFAULT_BUNDLES = (ROOT / "build" / "packaging" / "dist" / "hearttwin", Path("/opt/hearttwin"))


def headless_env() -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    env.setdefault("VTK_DEFAULT_OPENGL_WINDOW", "vtkOSOpenGLRenderWindow")
    env["HEARTTWIN_SELFTEST_READY_LINE"] = "1"
    return env


def drop_page_cache() -> bool:
    """Empty the kernel's page cache so the next start reads from disk (root only)."""
    try:
        os.sync()
        Path("/proc/sys/vm/drop_caches").write_text("3\n")
        return True
    except OSError:
        return False


def time_to_window(command: list[str], timeout: float = 120.0) -> float:
    """Seconds from starting ``command ... --self-test --steps window`` to its READY line.

    The self-test prints that line on the event loop's first turn with the window
    shown (its PASS line comes only after the window has closed again).
    """
    t0 = time.perf_counter()
    proc = subprocess.Popen([*command, "--self-test", "--steps", "window"], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True, env=headless_env())
    ready = None
    for line in proc.stdout:
        if line.startswith(READY_PREFIX) and ready is None:
            ready = time.perf_counter() - t0
        elif line.startswith("FAIL"):
            proc.kill()
            raise RuntimeError(f"{' '.join(command)}: {line.strip()}")
    proc.wait(timeout=timeout)
    if ready is None or proc.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} --self-test --steps window exited {proc.returncode} "
                           "without a ready window")
    return ready


def time_version(command: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run([*command, "--version"], check=True, capture_output=True, env=headless_env())
    return time.perf_counter() - t0


def measure(command: list[str], repeats: int) -> dict:
    load = os.getloadavg()[0]  # other work on the machine slows a start: recorded with the figures
    cold_dropped = drop_page_cache()
    cold = time_to_window(command)
    warm = [time_to_window(command) for _ in range(max(1, repeats))]
    return {"command": " ".join(command), "load_1min": round(load, 2), "cold_s": round(cold, 2),
            "cold_after_cache_drop": cold_dropped,
            "warm_median_s": round(statistics.median(warm), 2), "warm_s": [round(w, 2) for w in warm],
            "version_s": round(min(time_version(command) for _ in range(3)), 2)}


def folder_mb(path: Path) -> float:
    total = 0
    for p in path.rglob("*"):
        if p.is_file() and not p.is_symlink():
            total += p.stat().st_size
    return total / 1e6


def bundle_sizes(bundle: Path, top: int = 12) -> dict:
    """Unpacked size and the largest entries of ``_internal`` (MB)."""
    internal = bundle / "_internal"
    entries = []
    for p in internal.iterdir():
        size = folder_mb(p) if p.is_dir() else (p.stat().st_size / 1e6 if not p.is_symlink() else 0.0)
        entries.append((p.name, round(size, 1)))
    entries.sort(key=lambda e: -e[1])
    return {"path": str(bundle), "unpacked_mb": round(folder_mb(bundle), 1), "largest_mb": entries[:top]}


def find_bundle(given: str | None) -> Path | None:
    candidates = [Path(given)] if given else list(DEFAULT_BUNDLES)
    for c in candidates:
        if (c / "hearttwin").is_file() and os.access(c / "hearttwin", os.X_OK):
            return c
    if given:
        sys.exit(f"startup.py: no executable bundle at {given} (expected {given}/hearttwin)")
    return None


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bundle", help="folder of the frozen bundle (holding the hearttwin executable)")
    ap.add_argument("--repeats", type=int, default=3, help="warm starts per install (default 3)")
    ap.add_argument("--skip-source", action="store_true", help="only the frozen bundle")
    ap.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    args = ap.parse_args()

    results: dict = {"target_window_s": TARGET_WINDOW_S, "target_bundle_mb": TARGET_BUNDLE_MB}
    if not args.skip_source:
        results["source"] = measure([sys.executable, "-m", "hearttwin"], args.repeats)
    bundle = find_bundle(args.bundle)
    if bundle is not None:
        results["frozen"] = measure([str(bundle / "hearttwin")], args.repeats)
        results["bundle"] = bundle_sizes(bundle)
    ok = all(r["cold_s"] <= TARGET_WINDOW_S for k, r in results.items() if k in ("source", "frozen"))
    if "bundle" in results:
        ok = ok and results["bundle"]["unpacked_mb"] <= TARGET_BUNDLE_MB
    results["within_targets"] = ok

    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    for key in ("source", "frozen"):
        if key in results:
            r = results[key]
            cache = "after dropping the page cache" if r["cold_after_cache_drop"] else "page cache not dropped"
            print(f"{key:<7} ready window: cold {r['cold_s']:.2f} s ({cache}), warm median "
                  f"{r['warm_median_s']:.2f} s; --version {r['version_s']:.2f} s; load average "
                  f"{r['load_1min']:.2f} on {os.cpu_count()} CPUs   [{r['command']}]")
    if "bundle" in results:
        b = results["bundle"]
        print(f"bundle  {b['unpacked_mb']:.0f} MB unpacked ({b['path']}); largest:")
        for name, mb in b["largest_mb"]:
            print(f"  {mb:8.1f} MB  {name}")
    else:
        print("bundle  not built (packaging/build.sh) - frozen start-up and size not measured")
    print(f"targets: window <= {TARGET_WINDOW_S:.0f} s, bundle <= {TARGET_BUNDLE_MB} MB: "
          f"{'met' if ok else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
