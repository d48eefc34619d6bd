"""packaging/shared_libs.py: the system libraries only a left-out plugin linked."""

import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("shared_libs", ROOT / "packaging" / "shared_libs.py")
shared_libs = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(shared_libs)

# a miniature bundle: what each collected file links (DT_NEEDED), by source path
LINKS = {
    "/src/gtk3.so": {"libgtk-3.so.0", "libcairo.so.2", "libglib-2.0.so.0", "libQt6Gui.so.6"},
    "/src/libcairo.so.2": {"libpixman-1.so.0", "libfreetype.so.6"},
    "/src/libpixman-1.so.0": set(),
    "/src/libfreetype.so.6": {"libz.so.1"},
    "/src/libz.so.1": set(),
    "/src/libglib-2.0.so.0": {"libpcre2-8.so.0"},
    "/src/libpcre2-8.so.0": set(),
    "/src/libQt6Gui.so.6": {"libfreetype.so.6", "libglib-2.0.so.0"},
    "/src/xcb.so": {"libQt6Gui.so.6"},
    "/src/_ext.cpython-311-x86_64-linux-gnu.so": {"libz.so.1"},
    "/src/libpython3.11.so.1.0": set(),
}


def _toc(*pairs):
    return [(dest, src, "BINARY") for dest, src in pairs]


def test_only_what_nothing_kept_links_is_orphaned():
    kept = _toc(("PySide6/Qt/lib/libQt6Gui.so.6", "/src/libQt6Gui.so.6"),
                ("PySide6/Qt/plugins/platforms/xcb.so", "/src/xcb.so"),
                ("libcairo.so.2", "/src/libcairo.so.2"), ("libpixman-1.so.0", "/src/libpixman-1.so.0"),
                ("libfreetype.so.6", "/src/libfreetype.so.6"), ("libz.so.1", "/src/libz.so.1"),
                ("libglib-2.0.so.0", "/src/libglib-2.0.so.0"), ("libpcre2-8.so.0", "/src/libpcre2-8.so.0"),
                ("_ext.cpython-311-x86_64-linux-gnu.so", "/src/_ext.cpython-311-x86_64-linux-gnu.so"),
                ("libpython3.11.so.1.0", "/src/libpython3.11.so.1.0"))
    left_out = _toc(("PySide6/Qt/plugins/platformthemes/gtk3.so", "/src/gtk3.so"))
    # cairo and pixman served the theme only; freetype, glib (and what they link) serve Qt too;
    # libpython is linked by nothing, but nothing left out reached it either
    assert shared_libs.orphaned(kept, left_out, LINKS.__getitem__) == {"libcairo.so.2", "libpixman-1.so.0"}


def test_nothing_left_out_orphans_nothing():
    kept = _toc(("libcairo.so.2", "/src/libcairo.so.2"), ("libpixman-1.so.0", "/src/libpixman-1.so.0"))
    assert shared_libs.orphaned(kept, [], LINKS.__getitem__) == set()


def test_needed_reads_a_real_elf_file():
    names = shared_libs.needed(str(Path(sys.executable).resolve()))
    assert any(n.startswith(("libc.so", "libpython")) for n in names)
    assert shared_libs.needed(str(ROOT / "pyproject.toml")) == set()
