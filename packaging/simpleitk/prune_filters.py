"""Trim a SimpleITK source tree to the filters HeartTwin uses, before it is built.

SimpleITK generates one C++ class per JSON description in Code/BasicFilters/json and
instantiates it for every pixel type and dimension; the stock wheel has ~300 of them in one
270 MB library. HeartTwin calls about fifteen. This script keeps:
  - every filter named in HeartTwin's code and tests (``sitk.Name``, ``sitk.NameImageFilter``),
  - the filters SimpleITK's own C++ needs (SIMPLEITK_NEEDS below),
and deletes the other JSON files. Masked assignment (``image[mask] = value``) needs ITK's
SimpleITKFilters remote module, which cannot be fetched without GitHub; its two wrapper
methods are removed (HeartTwin assigns through numpy). So are the image operators
(``image + 1``, ``image < 3``, ``image *= 2``, ...): each is a filter instantiated for every
pixel type, and HeartTwin computes on numpy arrays.

Usage: prune_filters.py SIMPLEITK_SOURCE_DIR HEARTTWIN_ROOT   prune (prints what it kept)
       prune_filters.py --used HEARTTWIN_ROOT                   the SimpleITK names HeartTwin uses
       prune_filters.py --check HEARTTWIN_ROOT                  fail unless the installed
                                                                SimpleITK has every one of them
"""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path

# What SimpleITK's own C++ needs: Cast's helpers, the procedures of sitkAdditionalProcedures.cxx,
# the filters SimpleITK.h includes, slicing (image[...]) and extra.py's MinimumMaximum.
SIMPLEITK_NEEDS = {
    "Compose", "VectorIndexSelectionCast", "LabelImageToLabelMap", "LabelMapToLabel",
    "Resample", "DiscreteGaussian", "SmoothingRecursiveGaussian", "PatchBasedDenoising",
    "JoinSeries", "Slice", "MinimumMaximum",
}
SUFFIXES = ("ImageFilter", "Filter", "ImageSource")
USE = re.compile(r"\bsitk\.([A-Z][A-Za-z0-9]+)")
MASKED_ASSIGN = re.compile(r"\n\s*Image __imasked_assign\(.*?\n\s*return \*\$self;\n\s*\}", re.S)
# Image arithmetic and comparison operators (image + image, image * 2, image < 3, ...): each calls
# a filter instantiated for every pixel type; HeartTwin computes on numpy arrays instead
IN_PLACE_OPERATORS = re.compile(r"\n\s*Image __iadd__ \( const Image &i \).*?(?=\n\s*// A wrapper for performing the paste)", re.S)
OPERATORS_HEADER = re.compile(r"^#include <sitkImageOperators\.h>\n", re.M)
PYTHON_OPERATORS = re.compile(r"\n\s*# mathematical operators\n.*?(?=\n\s*# iterator and container methods)", re.S)
# FFT factories are attached to per-module libraries that no longer exist once emptied, and one
# such library is linked to another (ImageIntensity to ImageFilterBase)
FACTORY = re.compile(r"^(sitk_target_use_itk_factory\(\s*(\S+)\s.*\))$", re.M)
MODULE_LINK = re.compile(r"^(target_link_libraries \( (SimpleITK_\w+) PRIVATE (SimpleITK_\w+) \))$", re.M)


def used_names(root: Path) -> set[str]:
    """Every ``sitk.Name`` attribute in HeartTwin's code and tests."""
    names: set[str] = set()
    for folder in ("app", "tests", "bench", "scripts"):
        for path in (root / folder).rglob("*.py"):
            names |= set(USE.findall(path.read_text(encoding="utf-8", errors="ignore")))
    return names


def short_name(filter_name: str) -> str:
    for suffix in SUFFIXES:
        if filter_name.endswith(suffix):
            return filter_name[: -len(suffix)]
    return filter_name


def prune(source: Path, root: Path) -> tuple[list[str], int]:
    wanted = used_names(root) | SIMPLEITK_NEEDS
    json_dir = source / "Code" / "BasicFilters" / "json"
    kept, removed = [], 0
    for path in sorted(json_dir.glob("*.json")):
        name = json.loads(path.read_text(encoding="utf-8"))["name"]
        if name in wanted or short_name(name) in wanted:
            kept.append(name)
        else:
            path.unlink()
            removed += 1
    image_i = source / "Wrapping" / "Python" / "sitkImage.i"
    text = image_i.read_text(encoding="utf-8")
    for pattern, expected, what in ((MASKED_ASSIGN, 2, "masked-assignment methods"),
                                    (IN_PLACE_OPERATORS, 1, "block of in-place operators"),
                                    (PYTHON_OPERATORS, 1, "block of Python operators")):
        text, n = pattern.subn("", text)
        if n != expected:
            raise SystemExit(f"prune_filters: expected {expected} {what} in {image_i}, found {n}")
    image_i.write_text(text, encoding="utf-8")
    common_i = source / "Wrapping" / "Common" / "SimpleITK_Common.i"
    text, n = OPERATORS_HEADER.subn("", common_i.read_text(encoding="utf-8"))
    if n != 1:
        raise SystemExit(f"prune_filters: expected one include of sitkImageOperators.h in {common_i}, found {n}")
    common_i.write_text(text, encoding="utf-8")
    cmake = source / "Code" / "BasicFilters" / "src" / "CMakeLists.txt"
    text = FACTORY.sub(r"if(TARGET \2)\n  \1\nendif()", cmake.read_text(encoding="utf-8"))
    text = MODULE_LINK.sub(r"if(TARGET \2 AND TARGET \3)\n  \1\nendif()", text)
    cmake.write_text(text, encoding="utf-8")
    return kept, removed


def check(root: Path) -> int:
    import SimpleITK as sitk

    used = used_names(root)
    missing = sorted(n for n in used if not hasattr(sitk, n))
    if missing:
        print(f"prune_filters: the installed SimpleITK lacks {', '.join(missing)}", file=sys.stderr)
        return 1
    print(f"prune_filters: SimpleITK {sitk.Version.VersionString()} has all "
          f"{len(used)} names HeartTwin uses")
    return 0


def main(argv: list[str]) -> int:
    if len(argv) == 3 and argv[1] == "--used":
        print("\n".join(sorted(used_names(Path(argv[2])))))
        return 0
    if len(argv) == 3 and argv[1] == "--check":
        return check(Path(argv[2]))
    if len(argv) != 3 or argv[1].startswith("--"):
        print(__doc__.split("Usage:")[1], file=sys.stderr)
        return 2
    kept, removed = prune(Path(argv[1]), Path(argv[2]))
    print(f"prune_filters: kept {len(kept)} filters, removed {removed}: {' '.join(kept)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
