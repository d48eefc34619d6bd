"""Property test: shuffled, jittered, gappy, duplicated, re-scaled series load right or fail right."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydicom import dcmread

import dicom_factory as f
from hearttwin.core.errors import GeometryError
from hearttwin.core.imaging import load_volume


@st.composite
def series_cases(draw):
    nz = draw(st.integers(3, 8))
    step = draw(st.sampled_from([0.5, 0.625, 1.0, 1.25, 2.5, 3.0]))
    jitter = draw(st.lists(st.floats(-0.01, 0.01), min_size=nz, max_size=nz))  # fraction of step
    drop = draw(st.none() | st.integers(0, nz - 1))
    dup = draw(st.none() | st.integers(0, nz - 1))
    slopes = draw(st.lists(st.sampled_from([1, 2]), min_size=nz, max_size=nz))
    intercepts = draw(st.lists(st.sampled_from([-1024, -1000, 0, -512]), min_size=nz, max_size=nz))
    seed = draw(st.integers(0, 1000))
    return nz, step, jitter, drop, dup, slopes, intercepts, seed


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=series_cases())
def test_loader_is_right_or_says_where(case):
    nz, step, jitter, drop, dup, slopes, intercepts, seed = case
    vol = (f.phantom((nz, 6, 5), seed=seed) // 2) * 2  # even: slope 2 stays exact
    z = [30.0 + k * step + jitter[k] * step for k in range(nz)]
    positions = [(-10.0, -20.0, zk) for zk in z]
    keep = [k for k in range(nz) if k != drop]
    folder = Path(tempfile.mkdtemp(prefix="ht-prop-"))
    try:
        paths = f.ct_series(vol[keep], folder, positions=[positions[k] for k in keep],
                            slopes=[slopes[k] for k in keep], intercepts=[intercepts[k] for k in keep],
                            signed=True, seed=seed)
        if dup is not None and dup in keep:
            ds = dcmread(paths[keep.index(dup)])
            ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = f"1.2.826.0.1.3680043.8.498.{seed + 1}7"
            f.write(ds, folder / "zz_duplicate")
        # with only two slices left, a gap is indistinguishable from a larger spacing
        interior_gap = drop is not None and 0 < drop < nz - 1 and len(keep) >= 3
        if interior_gap:
            with pytest.raises(GeometryError) as err:
                load_volume(folder)
            text = str(err.value)
            assert "missing slice" in text
            assert f"between z={z[drop - 1]:.1f} and z={z[drop + 1]:.1f} mm" in text
            return
        v = load_volume(folder)
        np.testing.assert_array_equal(v.array, vol[keep])
        zk = [z[k] for k in keep]
        assert v.origin[2] == pytest.approx(zk[0], abs=1e-4)
        assert v.spacing[2] == pytest.approx((zk[-1] - zk[0]) / (len(zk) - 1), abs=1e-4)
        assert v.spacing[:2] == (0.7, 0.7)
        if dup is not None and dup in keep:
            assert any("duplicate slice" in w for w in v.meta["warnings"])
    finally:
        shutil.rmtree(folder, ignore_errors=True)
