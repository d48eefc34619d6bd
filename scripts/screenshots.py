"""Regenerate the README walkthrough screenshots in docs/screenshots/.

Runs the walkthrough GUI test on sample_dicom (headless: offscreen Qt, OSMesa
VTK) with ``HEARTTWIN_SCREENSHOTS`` pointing at a temporary folder, then saves
each ``walkthrough_*.png`` downscaled and palette-quantised (small enough for
the repository). Usage: ``.venv/bin/python scripts/screenshots.py``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "screenshots"
#: width of the saved images (px) and colours of their palette
WIDTH, COLOURS = 960, 128


def shrink(src: Path, dst: Path) -> int:
    """Save ``src`` at :data:`WIDTH` px wide with a :data:`COLOURS`-colour palette; returns bytes."""
    img = Image.open(src).convert("RGB")
    height = round(img.height * WIDTH / img.width)
    img = img.resize((WIDTH, height), Image.Resampling.LANCZOS)
    img = img.quantize(colors=COLOURS, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    img.save(dst, optimize=True)
    return dst.stat().st_size


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, HEARTTWIN_SCREENSHOTS=tmp, QT_QPA_PLATFORM="offscreen",
                   VTK_DEFAULT_OPENGL_WINDOW="vtkOSOpenGLRenderWindow")
        test = "tests/gui/test_plan_steps.py::test_walkthrough_on_the_sample_case"
        status = subprocess.call([sys.executable, "-m", "pytest", test, "-q", "-p", "no:cacheprovider"],
                                 cwd=ROOT, env=env)
        if status:
            return status
        shots = sorted(Path(tmp).glob("walkthrough_*.png"))
        if not shots:
            print("no screenshots were written", file=sys.stderr)
            return 1
        OUT.mkdir(parents=True, exist_ok=True)
        total = 0
        for src in shots:
            size = shrink(src, OUT / src.name)
            total += size
            print(f"{OUT.relative_to(ROOT) / src.name}: {size / 1024:.0f} KB")
        print(f"total {total / 1024:.0f} KB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
