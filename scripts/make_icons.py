"""Render resources/icons/hearttwin.svg to the PNG sizes the window and the Linux desktop use
and a Windows .ico, beside it.

Run once after changing the SVG (the outputs are committed):
``.venv/bin/python scripts/make_icons.py``. Uses Qt's SVG renderer
(PySide6) and Pillow (installed with matplotlib) for the .ico.
"""

import sys
from pathlib import Path

from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

HERE = Path(__file__).resolve().parents[1] / "resources" / "icons"
SIZES = (48, 128, 256)


def render(svg: Path, size: int, out: Path) -> None:
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    QSvgRenderer(str(svg)).render(painter)
    painter.end()
    if not image.save(str(out)):
        sys.exit(f"cannot write {out}")


def main() -> None:
    app = QGuiApplication.instance() or QGuiApplication(["make_icons", "-platform", "offscreen"])
    svg = HERE / "hearttwin.svg"
    for size in SIZES:
        render(svg, size, HERE / f"hearttwin-{size}.png")
    Image.open(HERE / "hearttwin-256.png").save(HERE / "hearttwin.ico", sizes=[(s, s) for s in (16, 32, 48, 256)])
    del app


if __name__ == "__main__":
    main()
