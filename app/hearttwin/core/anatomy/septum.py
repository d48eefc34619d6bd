"""The interatrial septum and an atrial septal defect, from a label map.

The septum is the wall between the left (3) and right (4) atrial blood pools
where they come closest: the LA voxels within :data:`BAND_MM` of the closest
approach to the RA, and the RA voxels likewise, face each other across it.
The normal runs from the mean of the first to the mean of the second
(LA -> RA), the centre is half-way, and the thickness is the closest
approach. Where the two blood
pools touch face to face there is a defect (the pools communicate through
the wall); its size is the area of that contact, reported as an
area-derived diameter, and its centre is where a septal occluder goes.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from .annulus import fit_plane, interface_points

LA, RA = 3, 4

#: the septal surfaces: blood voxels within this distance of the closest approach
BAND_MM = 3.0
#: a wall thicker than this is reported (a phantom's or a diseased septum)
THICK_MM = 10.0


def _box(arr: np.ndarray, pad: int = 4):
    idx = np.argwhere((arr == LA) | (arr == RA))
    lo = np.maximum(idx.min(axis=0) - pad, 0)
    hi = np.minimum(idx.max(axis=0) + pad + 1, arr.shape)
    return tuple(slice(a, b) for a, b in zip(lo, hi)), lo


def measure_septum(labels) -> tuple[dict, list[str]]:
    """Septum centre/normal and the defect, if any (JSON-ready), and warnings."""
    arr = np.asarray(labels.array)
    if not (arr == LA).any() or not (arr == RA).any():
        return {}, ["Interatrial septum not measured: the LA (3) or RA (4) is missing."]
    box, lo = _box(arr)
    sub = arr[box]
    sampling = np.asarray(labels.spacing, float)[::-1]
    d_la = ndimage.distance_transform_edt(sub != LA, sampling=sampling)
    d_ra = ndimage.distance_transform_edt(sub != RA, sampling=sampling)
    gap = float(d_la[sub == RA].min())
    face_la = (sub == LA) & (d_ra <= gap + BAND_MM)
    face_ra = (sub == RA) & (d_la <= gap + BAND_MM)
    contact = interface_points(labels, LA, RA)

    def lps(mask):
        return labels.index_to_lps((np.argwhere(mask) + lo)[:, ::-1].astype(float))

    a, b = lps(face_la).mean(axis=0), lps(face_ra).mean(axis=0)
    normal = b - a
    if np.linalg.norm(normal) < 1e-6:
        normal = fit_plane(np.vstack([lps(face_la), lps(face_ra)]))[1]
    normal = normal / np.linalg.norm(normal)
    centre = 0.5 * (a + b)
    warnings = []
    if gap > THICK_MM:
        warnings.append(f"The atria are {gap:.0f} mm apart at their closest: the septum is "
                        "taken there (a thin septum is 2-6 mm).")
    out: dict = {"centre_lps": [round(float(v), 2) for v in centre],
                 "normal_lps": [round(float(v), 4) for v in normal],
                 "thickness_mm": round(max(gap - float(min(labels.spacing)), 0.0), 1)}
    if len(contact) >= 4:
        # each contact point is one shared voxel face: sum of face areas, projected on the septum
        sx, sy, sz = labels.spacing
        area = _contact_area(labels, normal, (sy * sz, sx * sz, sx * sy))
        out["defect"] = True
        out["defect_centre_lps"] = [round(float(v), 2) for v in contact.mean(axis=0)]
        out["defect_area_mm2"] = round(area, 1)
        out["defect_diameter_mm"] = round(2.0 * float(np.sqrt(area / np.pi)), 2)
        vox = float(max(labels.spacing))
        out["defect_diameter_mm_range"] = [round(max(out["defect_diameter_mm"] - 2 * vox, 0.0), 2),
                                           round(out["defect_diameter_mm"] + 2 * vox, 2)]
    else:
        out["defect"] = False
    return out, warnings


def _contact_area(labels, normal, face_areas) -> float:
    """Area (mm2) of the LA-RA contact projected on the septal plane."""
    arr = np.asarray(labels.array)
    total = 0.0
    for axis, face in zip(range(3), face_areas[::-1]):  # array axes (z, y, x)
        lo = [slice(None)] * 3
        hi = [slice(None)] * 3
        lo[axis], hi[axis] = slice(0, -1), slice(1, None)
        x, y = arr[tuple(lo)], arr[tuple(hi)]
        n = int((((x == LA) & (y == RA)) | ((x == RA) & (y == LA))).sum())
        # the face normal along this array axis, in LPS
        d = np.asarray(labels.direction, float).reshape(3, 3)[:, 2 - axis]
        total += n * face * abs(float(np.dot(d, normal)))
    return total
