"""Member encodings of a ``.htwin`` case file: volumes as NRRD, meshes as NPZ, the case as JSON.

Volumes (label map, embedded image) are gzip NRRD in LPS through pynrrd, the
format 3D Slicer and ITK read; meshes are ``numpy.savez_compressed`` archives
with ``points`` (LPS mm) and ``triangles``, read with ``allow_pickle=False``.
Decoding checks the declared NRRD size against the volume limits before any
voxel is decompressed, so a hostile header cannot exhaust memory.
"""

from __future__ import annotations

import io
import re

import numpy as np

from .errors import CorruptDataError, HeartTwinError
from .history import json_safe
from .imaging.limits import Limits, check_volume
from .imaging.volume import Volume

_NRRD_TYPES = {"int8", "uint8", "int16", "uint16", "int32", "uint32", "float32", "float64"}
#: NRRD type names (as HeartTwin and common writers spell them) -> numpy
_NRRD_TO_NUMPY = {**{t: t for t in _NRRD_TYPES}, "uchar": "uint8", "unsigned char": "uint8",
                  "short": "int16", "signed short": "int16", "ushort": "uint16", "unsigned short": "uint16",
                  "int": "int32", "signed int": "int32", "uint": "uint32", "unsigned int": "uint32",
                  "float": "float32", "double": "float64"}
_SAFE_NAME = re.compile(r"[^A-Za-z0-9_.-]+")


def meta_json(meta: dict) -> dict:
    """The JSON-safe part of a Volume's ``meta`` (values that cannot be stored are dropped)."""
    out = {}
    for key, value in (meta or {}).items():
        try:
            out[str(key)] = json_safe(value)
        except TypeError:
            continue
    return out


def volume_to_nrrd(volume: Volume, level: int = 1) -> bytes:
    """``volume`` as gzip NRRD bytes (LPS, C order)."""
    import nrrd

    arr = np.ascontiguousarray(volume.array)
    if arr.dtype.name not in _NRRD_TYPES:
        arr = arr.astype(np.float32)
    header = {
        "type": arr.dtype.name,
        "dimension": 3,
        "space": "left-posterior-superior",
        # one row per file axis (i, j, k): that axis' step in mm
        "space directions": (volume.direction * np.asarray(volume.spacing)[None, :]).T,
        "space origin": np.asarray(volume.origin, dtype=float),
        "kinds": ["domain", "domain", "domain"],
        "encoding": "gzip",
    }
    buf = io.BytesIO()
    nrrd.write(buf, arr, header, index_order="C", compression_level=level)
    return buf.getvalue()


def nrrd_to_volume(data: bytes, what: str, meta: dict | None = None, limits: Limits | None = None) -> Volume:
    """Decode NRRD bytes of member ``what`` ("label map", "image") into a Volume."""
    import nrrd

    fh = io.BytesIO(data)
    try:
        header = nrrd.read_header(fh)
        sizes = [int(s) for s in header["sizes"]]
        if str(header.get("type")) not in _NRRD_TO_NUMPY:
            raise CorruptDataError(f"The {what} in the case file has an unsupported voxel type.")
        dtype = np.dtype(_NRRD_TO_NUMPY[str(header["type"])])
        if len(sizes) != 3:
            raise CorruptDataError(f"The {what} in the case file is not 3D.")
        check_volume(f"The {what} in the case file", tuple(sizes[::-1]), dtype.itemsize, limits or Limits.from_env())
        array = nrrd.read_data(header, fh, index_order="C")
        steps = np.asarray(header["space directions"], dtype=float)
        origin = np.asarray(header.get("space origin", np.zeros(3)), dtype=float)
    except HeartTwinError:
        raise
    except Exception as err:  # pynrrd raises many types on damaged input
        raise CorruptDataError(f"The {what} in the case file is damaged ({type(err).__name__}).") from None
    spacing = np.linalg.norm(steps, axis=1)
    if array.shape != tuple(sizes[::-1]) or not np.all(spacing > 0) or not np.all(np.isfinite(steps)):
        raise CorruptDataError(f"The {what} in the case file has an invalid geometry.")
    direction = (steps / spacing[:, None]).T
    return Volume(array=array, spacing=tuple(spacing), origin=tuple(origin), direction=direction,
                  meta=dict(meta or {}))


def mesh_arrays(mesh) -> tuple[np.ndarray, np.ndarray]:
    """(points, triangles) of a vtkPolyData or of a ``{"points", "triangles"}`` dict."""
    if isinstance(mesh, dict):
        return np.asarray(mesh["points"], float), np.asarray(mesh["triangles"], np.int64)
    from .mesh.vtk_bridge import points, triangles

    return points(mesh), triangles(mesh)


def mesh_to_npz(mesh) -> bytes:
    """NPZ bytes with ``points`` (float64, LPS mm) and ``triangles`` (int32)."""
    pts, tris = mesh_arrays(mesh)
    buf = io.BytesIO()
    np.savez_compressed(buf, points=pts.astype(np.float64), triangles=tris.astype(np.int32))
    return buf.getvalue()


def npz_to_mesh(data: bytes, what: str):
    """A vtkPolyData from NPZ bytes."""
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as z:
            pts, tris = np.asarray(z["points"], float), np.asarray(z["triangles"], np.int64)
    except Exception as err:
        raise CorruptDataError(f"The mesh {what!r} in the case file is damaged ({type(err).__name__}).") from None
    if pts.ndim != 2 or pts.shape[1] != 3 or tris.ndim != 2 or tris.shape[1] != 3 or \
            (tris.size and (tris.min() < 0 or tris.max() >= len(pts))):
        raise CorruptDataError(f"The mesh {what!r} in the case file is damaged (bad point indices).")
    from .mesh.vtk_bridge import poly_from_arrays

    return poly_from_arrays(pts, tris)


def mesh_member(name: str, index: int) -> str:
    """A safe member name for mesh ``name`` (the real name is kept in case.json)."""
    return f"meshes/{index:03d}-{_SAFE_NAME.sub('_', str(name))[:40]}.npz"


def labels_meta_from_json(meta: dict) -> dict:
    """Restore integer keys of ``segments`` that JSON turned into strings."""
    out = dict(meta or {})
    segs = out.get("segments")
    if isinstance(segs, dict):
        out["segments"] = {int(k) if str(k).isdigit() else k: v for k, v in segs.items()}
    return out
