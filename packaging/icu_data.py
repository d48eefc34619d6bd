"""Slim the ICU data library that Qt loads (``libicudata.so.NN``, 31 MB in PySide6 6.x).

QtCore calls ICU for four things only: collation (``ucol_*``: sorting names in file
dialogs), legacy text codecs (``ucnv_*``), time zones (``ucal_*``: ids and display names)
and locale-aware case mapping (``u_strToUpper``/``u_strToLower``, whose tables are built
into libicuuc). The data package also holds what other ICU services need and Qt never
calls: break iteration, currency/language/region/unit display names, spelled-out numbers,
transliteration, character names and spoof detection. Those items are removed with ICU's
own package tool (``icupkg -r``), and the rest is compiled back into a library with the
same soname and entry point (``genccode``), as ICU documents for customising its data.
Collation for every locale, every converter, time-zone names and locale data stay.

Usage: icu_data.py LIBICUDATA OUT_LIBRARY   (prints the sizes before and after)
Needs icupkg and genccode (Debian: icu-devtools), objcopy and gcc.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

#: package items Qt never asks ICU for (prefix match on the item names icupkg lists)
UNUSED = ("brkitr/", "curr/", "lang/", "rbnf/", "region/", "translit/", "unit/",
          "unames.icu", "confusables.cfu")
TOOLS = ("icupkg", "genccode", "objcopy", "nm", "gcc")


def _tool(name: str) -> str | None:
    # Debian installs icupkg and genccode in /usr/sbin, which a user's PATH may not hold
    return shutil.which(name, path=os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"]))


def missing_tools() -> list[str]:
    return [t for t in TOOLS if _tool(t) is None]


def _run(tool: str, *args) -> str:
    proc = subprocess.run([_tool(tool) or tool, *map(str, args)], capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{tool} failed: {(proc.stderr or proc.stdout).strip()[-400:]}")
    return proc.stdout


def _data_symbol(lib: Path, version: str) -> int:
    """Size of the ``icudtNN_dat`` symbol, which must be the library's whole .rodata."""
    for line in _run("nm", "-D", "-S", "--defined-only", lib).splitlines():
        parts = line.split()
        if len(parts) == 4 and parts[3] == f"icudt{version}_dat":
            return int(parts[1], 16)
    raise RuntimeError(f"{lib.name} has no icudt{version}_dat symbol: not an ICU data library")


def slim(lib: Path, out: Path) -> tuple[int, int]:
    """Write a slimmed copy of the ICU data library ``lib`` to ``out``; returns both sizes."""
    m = re.fullmatch(r"libicudata\.so\.(\d+)", lib.name)
    if not m:
        raise ValueError(f"{lib.name} is not named libicudata.so.NN")
    version = m.group(1)
    before = lib.stat().st_size
    package = f"icudt{version}l"  # little-endian package; icupkg names items after the file
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "in").mkdir()
        (tmp / "out").mkdir()
        full = tmp / "in" / f"{package}.dat"
        _run("objcopy", "-O", "binary", "-j", ".rodata", lib, full)
        if full.stat().st_size != _data_symbol(lib, version):
            raise RuntimeError(f"{lib.name}: .rodata holds more than the ICU data; not slimming it")
        items = _run("icupkg", "-l", full).split()
        unused = [i for i in items if i.startswith(UNUSED)]
        if not unused or len(unused) == len(items):
            raise RuntimeError(f"{lib.name}: unexpected ICU package contents ({len(items)} items)")
        (tmp / "unused.txt").write_text("\n".join(unused) + "\n")
        kept = tmp / "out" / f"{package}.dat"
        _run("icupkg", "-r", tmp / "unused.txt", full, kept)
        _run("genccode", "-q", "-a", "gcc", "-e", f"icudt{version}", "-f", "data", "-d", tmp, kept)
        built = tmp / lib.name
        _run("gcc", "-shared", "-nostdlib", f"-Wl,-soname,{lib.name}", "-Wl,-z,noexecstack",
             "-o", built, tmp / "data.S")
        shutil.copyfile(built, out)  # out may be lib itself: it has been read by now
    return before, out.stat().st_size


#: what Qt asks ICU for, run against the library folder given (LD_LIBRARY_PATH comes before
#: the Qt libraries' $ORIGIN run path); prints one line per failure
_QT_CHECK = """
from PySide6.QtCore import QCollator, QLocale, QStringDecoder, QTimeZone
checks = {
    "German collation (Ä before Z)": QCollator(QLocale("de_DE")).compare("Äpfel", "Zebra") < 0,
    "Swedish collation (Ö after Z)": QCollator(QLocale("sv_SE")).compare("Ö", "Z") > 0,
    "Shift_JIS converter": QStringDecoder("Shift_JIS").isValid(),
    "time-zone display name": QTimeZone(b"Europe/Paris").displayName(
        QTimeZone.TimeType.StandardTime, QTimeZone.NameType.LongName, QLocale("en_US")) != "",
    "Turkish upper case": QLocale("tr_TR").toUpper("i") == "\u0130",
}
for name, ok in checks.items():
    if not ok:
        print(name)
"""


def qt_problems(lib_dir: Path) -> list[str]:
    """What QtCore cannot do with the ICU libraries in ``lib_dir`` (empty when all is well)."""
    env = {**os.environ, "LD_LIBRARY_PATH": str(lib_dir), "QT_QPA_PLATFORM": "offscreen"}
    proc = subprocess.run([sys.executable, "-c", _QT_CHECK], capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        return [f"QtCore did not run: {proc.stderr.strip()[-300:]}"]
    # Qt reports a collator it cannot open on stderr and falls back to code-point order
    return proc.stdout.split("\n")[:-1] + [line for line in proc.stderr.splitlines() if "collator" in line]


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print(__doc__.split("Usage:")[1], file=sys.stderr)
        return 2
    if missing_tools():
        print(f"icu_data: needs {', '.join(missing_tools())} (apt-get install icu-devtools binutils gcc)",
              file=sys.stderr)
        return 1
    before, after = slim(Path(argv[1]), Path(argv[2]))
    print(f"icu_data: {Path(argv[1]).name} {before / 2**20:.1f} MiB -> {after / 2**20:.1f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
