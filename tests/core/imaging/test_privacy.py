"""No patient-identifying value ever reaches a message, a warning, the JSON or the logs."""

from __future__ import annotations

import json
import logging

import numpy as np

import dicom_factory as f
from hearttwin.cli import main
from hearttwin.core.errors import HeartTwinError
from hearttwin.core.imaging import load_volume, scan

SECRETS = [f.PATIENT_NAME, "Zyxwvut", "Quentinella", f.PATIENT_ID, f.BIRTH_DATE, f.ACCESSION, f.INSTITUTION]


def _check(text: str) -> None:
    for secret in SECRETS:
        assert secret.lower() not in text.lower(), f"patient data {secret!r} leaked"


def _broken_folders(tmp_path):
    """Folders that each trigger a different error or warning path."""
    vol = f.phantom((6, 8, 8))
    cases = {}
    d = tmp_path / "gap"
    positions = f.slice_positions(6)
    del positions[2]
    f.ct_series(vol[:5], d, positions=positions)
    cases["gap"] = d
    d = tmp_path / "dup"
    paths = f.ct_series(vol, d)
    other = f.ct_slice(vol[0] + 1, f.slice_positions(6)[3], series_uid="1.2.3.9")
    f.ct_series(vol, d, series_uid="1.2.3.9", seed=5)
    f.write(other, d / "conflict")
    cases["dup"] = d
    d = tmp_path / "nogeo"
    f.ct_series(vol, d, per_slice=lambda k, ds: delattr(ds, "PixelSpacing") or ds)
    cases["nogeo"] = d
    d = tmp_path / "trunc"
    paths = f.ct_series(vol, d)
    paths[1].write_bytes(paths[1].read_bytes()[:-50])
    cases["trunc"] = d
    d = tmp_path / "split"
    f.ct_series(vol, d, series_uid="1.2.3.7")
    f.ct_series(f.phantom((2, 6, 6)), d, series_uid="1.2.3.7", seed=3, origin=(0, 0, 300))
    cases["split"] = d
    return cases


def test_messages_warnings_json_and_logs_are_anonymous(tmp_path, caplog, capsys):
    caplog.set_level(logging.DEBUG)
    texts = []
    for name, folder in _broken_folders(tmp_path).items():
        result = scan(folder)
        texts.append(json.dumps(result.to_dict()))
        try:
            load_volume(folder)
        except HeartTwinError as err:
            texts.append(str(err))
        for info in result.series:
            texts.extend(info.warnings)
        assert main(["info", str(folder), "--json", "-q"]) == 0
    out = capsys.readouterr()
    texts += [out.out, out.err, caplog.text]
    assert any("missing slice" in t for t in texts) and any("two different images" in t for t in texts)
    assert f.ct_slice(np.zeros((2, 2)), (0, 0, 0)).PatientName == f.PATIENT_NAME  # the files do carry it
    for t in texts:
        _check(t)


def test_description_is_kept(tmp_path):
    f.ct_series(f.phantom((4, 8, 8)), tmp_path, description="Cardiac 0.6 CTA 75%")
    assert scan(tmp_path).series[0].description == "Cardiac 0.6 CTA 75%"
