"""Display surfaces: decimated to a budget, and rebuilt exactly after crossing the process boundary."""

import pickle

import numpy as np

from hearttwin.core.imaging import Volume
from hearttwin.gui.surfaces import display_surfaces, polydata_from_arrays, surface_arrays


def _labels():
    z, y, x = np.indices((60, 64, 64))
    lab = np.zeros((60, 64, 64), np.uint8)
    lab[((x - 32) ** 2 + (y - 32) ** 2 + (z - 30) ** 2) < 24 ** 2] = 1
    lab[((x - 32) ** 2 + (y - 32) ** 2 + (z - 30) ** 2) < 8 ** 2] = 2
    return Volume(lab, (0.8, 0.8, 1.0), (-20.0, 5.0, 100.0))


def test_budget_and_round_trip():
    labels = _labels()
    full = display_surfaces(labels, budget=10**9)  # no simplification
    small = display_surfaces(labels, budget=6000)
    assert full[1].GetNumberOfPolys() > 10000
    assert small[1].GetNumberOfPolys() < 0.6 * full[1].GetNumberOfPolys()
    # the simplified sphere keeps its place and size (LPS mm)
    assert np.allclose(small[1].GetBounds(), full[1].GetBounds(), atol=1.5)
    arrays = pickle.loads(pickle.dumps(surface_arrays(labels, budget=6000)))
    for label, poly in small.items():
        back = polydata_from_arrays(arrays[label])
        assert back.GetNumberOfPolys() == poly.GetNumberOfPolys()
        assert back.GetNumberOfPoints() == poly.GetNumberOfPoints()
        assert np.allclose(back.GetBounds(), poly.GetBounds(), atol=1e-4)
        assert back.GetPointData().GetNormals().GetNumberOfTuples() == poly.GetNumberOfPoints()
