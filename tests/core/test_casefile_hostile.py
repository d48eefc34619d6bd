"""Hostile and damaged archives are refused with specific messages, before anything is read."""

import hashlib
import json
import stat
import struct
import zipfile

import numpy as np
import pytest

from hearttwin.core import casefile
from hearttwin.core.archive_guard import ArchiveLimits, HostileArchiveError
from hearttwin.core.case import Case
from hearttwin.core.casefile_codec import volume_to_nrrd
from hearttwin.core.errors import CorruptDataError, InputError
from hearttwin.core.imaging.volume import Volume


def _good(tmp_path) -> bytes:
    case = Case()
    case.set_labels(Volume(np.eye(8, dtype=np.uint8)[None].repeat(4, 0), (1, 1, 1)))
    case.set_measurements({"annulus": {"area_mm2": 400.0}})
    return casefile.save(case, tmp_path / "good.htwin").read_bytes()


def _members(data: bytes, path) -> dict:
    path.write_bytes(data)
    with zipfile.ZipFile(path) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def _zip(path, entries, manifest_for=None):
    """Write ``entries`` [(name or ZipInfo, bytes)], plus a manifest listing them when asked."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        listed = {}
        for name, data in entries:
            zf.writestr(name, data)
            listed[getattr(name, "filename", name)] = {"sha256": hashlib.sha256(data).hexdigest()}
        if manifest_for is not None:
            zf.writestr("manifest.json", json.dumps({"format": "hearttwin-case", "format_version": "1.0",
                                                     "members": listed}))
    return path


@pytest.mark.parametrize("name, words", [
    ("../evil.txt", "climbs out"),
    ("meshes/../../evil.txt", "climbs out"),
    ("/etc/evil", "absolute"),
    ("C:/Windows/evil", "absolute"),
    ("meshes\\..\\evil", "backslash"),
])
def test_zip_slip_and_absolute_paths(tmp_path, name, words):
    path = _zip(tmp_path / "x.htwin", [(name, b"x"), ("case.json", b"{}")], manifest_for=True)
    with pytest.raises(HostileArchiveError, match=words):
        casefile.load(path)
    assert not (tmp_path.parent / "evil.txt").exists()


def test_symlink_entry(tmp_path):
    link = zipfile.ZipInfo("case.json")
    link.create_system = 3
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    path = _zip(tmp_path / "x.htwin", [(link, b"/etc/passwd")], manifest_for=True)
    with pytest.raises(HostileArchiveError, match="symbolic link"):
        casefile.load(path)


def test_too_many_entries(tmp_path):
    path = _zip(tmp_path / "x.htwin", [(f"meshes/{i}.npz", b"") for i in range(10_000)])
    with pytest.raises(HostileArchiveError, match="10000 entries.*at most 1000"):
        casefile.load(path)


def test_zip_bomb_by_ratio(tmp_path):
    path = _zip(tmp_path / "x.htwin", [("labels.nrrd", bytes(16 * 1024 * 1024))], manifest_for=True)
    assert zipfile.ZipFile(path).getinfo("labels.nrrd").compress_size < 100_000
    with pytest.raises(HostileArchiveError, match="zip bomb"):
        casefile.load(path)


def _declare_size(path, member: str, size: int) -> None:
    """Patch the central directory so ``member`` declares ``size`` uncompressed bytes."""
    raw = bytearray(path.read_bytes())
    start = 0
    while (start := raw.find(b"PK\x01\x02", start)) >= 0:
        name_len = struct.unpack_from("<H", raw, start + 28)[0]
        if raw[start + 46:start + 46 + name_len].decode() == member:
            struct.pack_into("<I", raw, start + 24, size)
        start += 4
    path.write_bytes(bytes(raw))


def test_declared_size_beyond_the_limit(tmp_path):
    path = _zip(tmp_path / "x.htwin", [("image.nrrd", b"x" * 1000), ("case.json", b"{}")], manifest_for=True)
    _declare_size(path, "image.nrrd", 0xFFFF0000)  # claims 4 GB
    with pytest.raises(HostileArchiveError, match="declares 4096 MB, over the 1024 MB limit"):
        casefile.load(path, limits=ArchiveLimits(max_member_bytes=1024 ** 3))


def test_total_declared_size_and_env_limit(tmp_path, monkeypatch):
    path = _zip(tmp_path / "x.htwin", [(f"m{i}", bytes(range(256)) * 4096) for i in range(3)], manifest_for=True)
    monkeypatch.setenv("HEARTTWIN_MAX_CASE_MB", "2")
    with pytest.raises(HostileArchiveError, match="more than 2 MB"):
        casefile.load(path)


def test_a_member_hiding_more_data_than_it_declares(tmp_path):
    path = _zip(tmp_path / "x.htwin", [("case.json", b"{}" * 500)], manifest_for=True)
    _declare_size(path, "case.json", 10)
    with pytest.raises(CorruptDataError):
        casefile.load(path)


def test_hash_mismatch(tmp_path):
    members = _members(_good(tmp_path), tmp_path / "good.htwin")
    doc = json.loads(members["case.json"])
    doc["measurements"]["annulus"]["area_mm2"] = 999.0  # altered after saving
    members["case.json"] = json.dumps(doc).encode()
    path = _zip(tmp_path / "x.htwin", list(members.items()))
    with pytest.raises(CorruptDataError, match="'case.json'.*SHA-256"):
        casefile.load(path)


def test_unlisted_and_missing_members(tmp_path):
    members = _members(_good(tmp_path), tmp_path / "good.htwin")
    path = _zip(tmp_path / "x.htwin", [*members.items(), ("payload.exe", b"MZ")])
    with pytest.raises(HostileArchiveError, match="does not list"):
        casefile.load(path)
    del members["labels.nrrd"]
    path = _zip(tmp_path / "y.htwin", list(members.items()))
    with pytest.raises(CorruptDataError, match="incomplete"):
        casefile.load(path)


def test_duplicate_member_names(tmp_path):
    members = _members(_good(tmp_path), tmp_path / "good.htwin")
    with pytest.warns(UserWarning, match="Duplicate name"):
        path = _zip(tmp_path / "x.htwin", [*members.items(), ("case.json", b"{}")])
    with pytest.raises(HostileArchiveError, match="twice"):
        casefile.load(path)


def _with_member(tmp_path, name: str, data: bytes, doc_change=None):
    """The good case with member ``name`` replaced by ``data``, manifest hashes made valid."""
    members = _members(_good(tmp_path), tmp_path / "good.htwin")
    members[name] = data
    if doc_change:
        doc = json.loads(members["case.json"])
        doc_change(doc)
        members["case.json"] = json.dumps(doc).encode()
    manifest = json.loads(members.pop("manifest.json"))
    manifest["members"] = {n: {"sha256": hashlib.sha256(d).hexdigest()} for n, d in members.items()}
    return _zip(tmp_path / "x.htwin", [*members.items(), ("manifest.json", json.dumps(manifest).encode())])


def test_label_map_declaring_a_huge_volume_is_refused_before_decompression(tmp_path):
    nrrd = volume_to_nrrd(Volume(np.zeros((2, 2, 2), np.uint8), (1, 1, 1)))
    hostile = nrrd.replace(b"sizes: 2 2 2", b"sizes: 4000 4000 4000")
    assert hostile != nrrd
    with pytest.raises(InputError, match="label map"):
        casefile.load(_with_member(tmp_path, "labels.nrrd", hostile))


def test_garbage_members_and_fields(tmp_path):
    with pytest.raises(CorruptDataError, match="label map.*damaged"):
        casefile.load(_with_member(tmp_path, "labels.nrrd", b"NRRD0004\ntype: uint8\n\x00\x01"))
    with pytest.raises(CorruptDataError, match="not valid JSON"):
        casefile.load(_with_member(tmp_path, "case.json", b"{nope"))
    with pytest.raises(InputError):
        casefile.load(_with_member(tmp_path, "case.json", json.dumps({"devices": [{"id": "x", "pose_lps": 3}]})
                                   .encode()))


def test_a_hostile_case_id_cannot_steer_the_autosave_file_name(tmp_path):
    def change(doc):
        doc["case_id"] = "../../../etc/cron.d/x"

    case = casefile.load(_with_member(tmp_path, "labels.nrrd", _members(_good(tmp_path), tmp_path / "g.htwin")[
        "labels.nrrd"], change))
    assert case.case_id.isalnum() and len(case.case_id) == 32
