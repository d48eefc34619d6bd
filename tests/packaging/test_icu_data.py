"""packaging/icu_data.py: Qt's ICU data without the parts Qt never calls.

Runs on the libicudata that PySide6 installed in this environment, as the spec does on the
bundle's copy, then has QtCore collate, convert and name time zones with the result.
"""

import importlib.util
import shutil
from pathlib import Path

import pytest

import PySide6

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("icu_data", ROOT / "packaging" / "icu_data.py")
icu_data = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(icu_data)

QT_LIB = Path(PySide6.__file__).parent / "Qt" / "lib"
STOCK = sorted(QT_LIB.glob("libicudata.so.*"))

pytestmark = [
    pytest.mark.skipif(not STOCK, reason="this PySide6 build does not ship ICU (not Linux)"),
    pytest.mark.skipif(bool(icu_data.missing_tools()),
                       reason=f"needs {icu_data.missing_tools()} (scripts/setup.sh --test installs them)"),
]


def _with_icu_code(tmp_path: Path) -> Path:
    """``tmp_path``, which holds the slimmed data, with the stock ICU code libraries beside it."""
    for lib in QT_LIB.glob("libicu*.so.*"):
        if not lib.name.startswith("libicudata"):
            shutil.copy(lib, tmp_path / lib.name)
    return tmp_path


def test_slimmed_data_is_half_the_size_and_serves_everything_qt_asks(tmp_path):
    stock = STOCK[0]
    out = tmp_path / stock.name
    before, after = icu_data.slim(stock, out)
    assert before == stock.stat().st_size  # the stock library is read, not changed
    assert after == out.stat().st_size and after < 0.6 * before
    assert icu_data._data_symbol(out, stock.name.rsplit(".", 1)[1]) > 10 * 2**20
    assert icu_data.qt_problems(_with_icu_code(tmp_path)) == []


def test_the_qt_check_catches_data_that_lost_what_qt_needs(tmp_path, monkeypatch):
    stock = STOCK[0]
    monkeypatch.setattr(icu_data, "UNUSED", icu_data.UNUSED + ("coll/", "zone/"))
    out = tmp_path / stock.name
    icu_data.slim(stock, out)
    problems = icu_data.qt_problems(_with_icu_code(tmp_path))
    assert "German collation (Ä before Z)" in problems
    assert "time-zone display name" in problems
    assert "Shift_JIS converter" not in problems  # converters were kept


def test_a_library_that_is_not_icu_data_is_refused(tmp_path):
    impostor = tmp_path / STOCK[0].name
    shutil.copy(next(QT_LIB.glob("libicuuc.so.*")), impostor)  # ICU code, not ICU data
    with pytest.raises(RuntimeError, match="icudt.*_dat|ICU"):
        icu_data.slim(impostor, tmp_path / "out.so")
    with pytest.raises(ValueError, match="not named"):
        icu_data.slim(next(QT_LIB.glob("libicuuc.so.*")), tmp_path / "out.so")
