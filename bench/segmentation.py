"""Benchmark of the automatic heart segmentation on held-out phantoms.

Prints, per phantom seed, the Dice of each structure, the mean Dice, the
volume error of the four chambers and the seconds per case; then a summary,
the time and peak memory (RSS) of a 512 x 512 x 300 case (run in a separate
process so its memory is measured alone) and PASS/FAIL against the targets.

The seeds default to 0-11, which were never used for tuning (tuning used
seeds 100-119; the bundled sample is seed 2024).

    python bench/segmentation.py                 # 12 'sample' phantoms + large case
    python bench/segmentation.py --quick         # 10 'small' phantoms, no large case
    python bench/segmentation.py --seeds 0-19 --preset standard
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time

import numpy as np

KEYS = ["LV", "RV", "LA", "RA", "MYO", "AO", "PA"]
TARGETS = {"mean_dice": 0.90, "min_dice": 0.85, "chamber_volume_error": 0.05,
           "large_seconds": 20.0, "large_peak_gb": 3.0}


def parse_seeds(text: str) -> list[int]:
    out = []
    for part in text.split(","):
        if "-" in part:
            a, b = part.split("-")
            out += list(range(int(a), int(b) + 1))
        elif part:
            out.append(int(part))
    return out


def dice(a: np.ndarray, b: np.ndarray) -> float:
    s = int(a.sum()) + int(b.sum())
    return 2.0 * int((a & b).sum()) / s if s else 1.0


def run_case(seed: int, preset: str):
    from hearttwin.core.phantom.generate import generate_phantom
    from hearttwin.core.phantom.params import PhantomParams
    from hearttwin.core.segmentation.auto import segment_heart

    phase = generate_phantom(PhantomParams.sample(seed, preset)).phases[0]
    truth = phase.labels.array
    t0 = time.perf_counter()
    result = segment_heart(phase.image)
    seconds = time.perf_counter() - t0
    lab = result.labels.array
    d = [dice(lab == k, truth == k) for k in range(1, 8)]
    verr = [(int((lab == k).sum()) - int((truth == k).sum())) / max(int((truth == k).sum()), 1)
            for k in range(1, 5)]
    return d, verr, seconds, result.missing


def large_child(path: str) -> None:
    """In the child process: load the saved case, segment, print seconds and peak RSS."""
    from hearttwin.core.imaging.volume import Volume
    from hearttwin.core.segmentation.auto import segment_heart

    data = np.load(path)
    vol = Volume(data["array"], tuple(data["spacing"]), tuple(data["origin"]))
    del data
    t0 = time.perf_counter()
    segment_heart(vol)
    seconds = time.perf_counter() - t0
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"{seconds:.3f} {peak_kb / 1024 / 1024:.3f}")


def large_case(threads: int) -> tuple[float, float]:
    from hearttwin.core.phantom.generate import generate_phantom
    from hearttwin.core.phantom.params import PhantomParams

    params = PhantomParams.sample(5, "standard", size=(512, 512, 300), spacing=(0.45, 0.45, 0.55))
    phase = generate_phantom(params).phases[0]
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "large.npz")
        np.savez(path, array=phase.image.array, spacing=np.array(phase.image.spacing),
                 origin=np.array(phase.image.origin))
        del phase
        env = dict(os.environ, ITK_GLOBAL_DEFAULT_NUMBER_OF_THREADS=str(threads),
                   OMP_NUM_THREADS=str(threads), OPENBLAS_NUM_THREADS=str(threads))
        out = subprocess.run([sys.executable, __file__, "--child", path], env=env,
                             capture_output=True, text=True, check=True)
    seconds, gb = (float(v) for v in out.stdout.split()[-2:])
    return seconds, gb


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", default=None, help="e.g. 0-11 or 0,3,5 (default 0-11)")
    ap.add_argument("--preset", default=None, help="small | sample | standard (default sample)")
    ap.add_argument("--quick", action="store_true", help="small phantoms, no large case")
    ap.add_argument("--threads", type=int, default=2, help="threads for the large case")
    ap.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        large_child(args.child)
        return 0
    seeds = parse_seeds(args.seeds) if args.seeds else list(range(12 if not args.quick else 10))
    preset = args.preset or ("small" if args.quick else "sample")

    head = f"{'seed':>4} " + " ".join(f"{k:>5}" for k in KEYS) + "   mean " + \
        " ".join(f"{'dV' + k:>6}" for k in KEYS[:4]) + "      s  missing"
    print(f"Automatic segmentation, preset {preset!r}, held-out seeds {seeds}")
    print(head)
    dices, verrs, secs = [], [], []
    for seed in seeds:
        d, v, s, missing = run_case(seed, preset)
        dices.append(d)
        verrs.append(v)
        secs.append(s)
        print(f"{seed:>4} " + " ".join(f"{x:5.3f}" for x in d) + f"  {np.mean(d):5.3f} " +
              " ".join(f"{100 * x:+5.1f}%" for x in v) + f" {s:6.2f}  {','.join(missing)}",
              flush=True)
    D, V = np.array(dices), np.abs(np.array(verrs))
    print("\nSummary over", len(seeds), "cases")
    print("  mean Dice per structure: " + ", ".join(f"{k} {x:.3f}" for k, x in zip(KEYS, D.mean(0))))
    print("  worst Dice per structure: " + ", ".join(f"{k} {x:.3f}" for k, x in zip(KEYS, D.min(0))))
    print("  mean |volume error|: " + ", ".join(f"{k} {100 * x:.1f}%" for k, x in zip(KEYS, V.mean(0))))
    print("  max  |volume error|: " + ", ".join(f"{k} {100 * x:.1f}%" for k, x in zip(KEYS, V.max(0))))
    print(f"  seconds per case: mean {np.mean(secs):.2f}, max {np.max(secs):.2f}")
    checks = [
        ("mean Dice over the 7 structures >= 0.90", D.mean() >= TARGETS["mean_dice"],
         f"{D.mean():.3f}"),
        ("every structure's mean Dice >= 0.85", D.mean(0).min() >= TARGETS["min_dice"],
         f"lowest {KEYS[int(D.mean(0).argmin())]} {D.mean(0).min():.3f}"),
        ("chamber volume error (mean per chamber) <= 5%",
         V.mean(0).max() <= TARGETS["chamber_volume_error"], f"worst {100 * V.mean(0).max():.1f}%"),
    ]
    if not args.quick:
        seconds, gb = large_case(args.threads)
        print(f"\n512 x 512 x 300 case ({args.threads} threads): {seconds:.1f} s, "
              f"peak RSS {gb:.2f} GB")
        checks += [
            ("512x512x300 in <= 20 s", seconds <= TARGETS["large_seconds"], f"{seconds:.1f} s"),
            ("peak memory <= 3 GB", gb <= TARGETS["large_peak_gb"], f"{gb:.2f} GB"),
        ]
    print()
    for name, ok, value in checks:
        print(f"{'PASS' if ok else 'FAIL'}  {name}: {value}")
    return 0 if all(ok for _, ok, _ in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
