"""The 3D scene of a plan: label surfaces and the placed device, as VTK actors.

:func:`build_scene` turns a label map (and optionally a plan) into a
:class:`Scene`: one actor per heart structure in its labels.json colour and,
when a plan is given, the device envelope at its pose, coloured per vertex by
how deep each point lies in the wall (:func:`device_penetration`). The scene
is data only; :mod:`.offscreen` draws it from a :mod:`.views` camera. Works
without a display (no Qt here).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from vtkmodules.util.numpy_support import numpy_to_vtk
from vtkmodules.vtkCommonDataModel import vtkPolyData
from vtkmodules.vtkFiltersCore import vtkPolyDataNormals
from vtkmodules.vtkRenderingCore import vtkActor, vtkPolyDataMapper

from ..core import jobs
from ..core.errors import InputError
from .colours import label_rgb, penetration_rgb, unit_rgb

#: surface material of the heart structures and the device
_SPECULAR = 0.15


@dataclass
class Scene:
    """Actors of one plan, in LPS millimetres.

    Attributes
    ----------
    anatomy : dict
        ``{label: vtkActor}`` of the heart structures.
    device : vtkActor or None
        The device envelope (per-vertex colours), when a plan was given.
    device_pose : ndarray (4, 4) or None
        Device -> LPS; column 2 is the device axis, column 3 its inflow centre.
    device_centre : ndarray (3,) or None
        Centre of the device envelope's bounding box (LPS).
    penetration_mm : ndarray (N,) or None
        Penetration (mm) of each device vertex into the wall.
    device_position : str or None
        The device family's position (``"aortic"``, ``"laa"``, ...).
    flat : bool
        Unlit colours (each surface shows exactly its colour), for checks.
    """

    anatomy: dict = field(default_factory=dict)
    device: vtkActor | None = None
    device_pose: np.ndarray | None = None
    device_centre: np.ndarray | None = None
    penetration_mm: np.ndarray | None = None
    device_position: str | None = None
    flat: bool = False

    def actors(self) -> list:
        """Every actor, anatomy first."""
        return list(self.anatomy.values()) + ([self.device] if self.device is not None else [])

    def bounds(self, which: str = "all") -> np.ndarray:
        """(2, 3) LPS box [min, max] of the ``"all"``, ``"anatomy"`` or ``"device"`` actors."""
        actors = {"all": self.actors(), "anatomy": list(self.anatomy.values()),
                  "device": [self.device] if self.device is not None else []}[which]
        if not actors:
            raise InputError(f"The scene has no {which} to show.")
        b = np.array([a.GetBounds() for a in actors], float)  # (n, 6): xmin, xmax, ymin, ...
        return np.array([b[:, 0::2].min(axis=0), b[:, 1::2].max(axis=0)])


def surface_actor(poly: vtkPolyData, rgb, *, opacity: float = 1.0, flat: bool = False) -> vtkActor:
    """Actor of a surface in one 0-255 RGB colour (``flat``: unlit, exactly that colour)."""
    mapper = vtkPolyDataMapper()
    mapper.SetInputData(poly)
    mapper.ScalarVisibilityOff()
    actor = vtkActor()
    actor.SetMapper(mapper)
    prop = actor.GetProperty()
    prop.SetColor(*unit_rgb(rgb))
    prop.SetOpacity(float(opacity))
    _material(prop, flat)
    back = actor.GetBackfaceProperty() or _new_property()
    back.DeepCopy(prop)  # inside walls (seen through a cut) darker than outside ones
    back.SetColor(*unit_rgb(tuple(0.6 * c for c in rgb)))
    actor.SetBackfaceProperty(back)
    return actor


def _new_property():
    from vtkmodules.vtkRenderingCore import vtkProperty

    return vtkProperty()


def device_actor(points_lps, triangles, penetration_mm=None, *, flat: bool = False) -> vtkActor:
    """Actor of a device mesh coloured per vertex by its penetration (mm) into the wall.

    Parameters
    ----------
    points_lps : array_like (N, 3)
    triangles : array_like (M, 3)
    penetration_mm : array_like (N,), optional
        Depth of each vertex in the wall; default 0 everywhere (device colour).
    flat : bool
        Unlit: each vertex shows exactly its colour.
    """
    from ..core.devices.geometry import DeviceMesh

    points = np.asarray(points_lps, float)
    pen = np.zeros(len(points)) if penetration_mm is None else np.asarray(penetration_mm, float)
    if pen.shape != (len(points),):
        raise InputError(f"the penetration map has {pen.size} values for {len(points)} device vertices")
    poly = DeviceMesh(points, np.asarray(triangles)).to_polydata()
    colours = numpy_to_vtk(penetration_rgb(pen), deep=True)
    colours.SetName("Colours")
    poly.GetPointData().SetScalars(colours)
    normals = vtkPolyDataNormals()  # smooth shading; keeps the point colours
    normals.SetInputData(poly)
    normals.SplittingOff()
    normals.ConsistencyOn()
    normals.Update()
    mapper = vtkPolyDataMapper()
    mapper.SetInputData(normals.GetOutput())
    mapper.ScalarVisibilityOn()
    mapper.SetColorModeToDirectScalars()
    mapper.SetScalarModeToUsePointData()
    actor = vtkActor()
    actor.SetMapper(mapper)
    _material(actor.GetProperty(), flat)
    return actor


def _material(prop, flat: bool) -> None:
    if flat:  # the rendered pixel is the colour itself
        prop.SetAmbient(1.0)
        prop.SetDiffuse(0.0)
        prop.SetSpecular(0.0)
    else:
        prop.SetAmbient(0.15)
        prop.SetDiffuse(0.85)
        prop.SetSpecular(_SPECULAR)
        prop.SetSpecularPower(20.0)


def device_mesh(plan: dict, n_around: int = 64):
    """The plan's device envelope in LPS (a :class:`~hearttwin.core.devices.geometry.DeviceMesh`)."""
    from ..core.devices.catalogue import get_device
    from ..core.devices.geometry import surface

    try:
        device, pose = plan["device"], np.asarray(plan["pose_lps"], float)
    except (KeyError, TypeError, ValueError):
        raise InputError("The plan has no device or pose to show (plan the device first).") from None
    family = get_device(device["id"])
    return surface(family, device["size"], n_around=n_around).transformed(pose)


def device_penetration(labels, plan: dict, points_lps, progress=None) -> np.ndarray:
    """Penetration (mm, >= 0) of LPS points into the wall of the plan device's lumen."""
    from ..core.devices.catalogue import get_device
    from ..core.devices.field import AnatomyField
    from ..core.devices.fit import penetration_map

    family = get_device(plan["device"]["id"])
    pts = np.asarray(points_lps, float)
    centre = 0.5 * (pts.min(axis=0) + pts.max(axis=0))
    reach = 0.5 * float(np.linalg.norm(np.ptp(pts, axis=0))) + 5.0
    anatomy = AnatomyField.from_labels(labels, family.position, centre_lps=centre, radius_mm=reach,
                                       progress=progress)
    return penetration_map(pts, anatomy)


def build_scene(labels, plan: dict | None = None, *, surfaces: dict | None = None,
                labels_wanted=None, flat: bool = False, progress=None) -> Scene:
    """The scene of a label map and (optionally) its planned device.

    Parameters
    ----------
    labels : Volume
        Label map (DESIGN.md labels).
    plan : dict, optional
        :func:`hearttwin.core.devices.plan.plan_static` result; adds the device.
    surfaces : dict, optional
        ``{label: vtkPolyData}`` already extracted (default: extracted here with
        :func:`hearttwin.core.mesh.surfaces_from_labels`).
    labels_wanted : iterable of int, optional
        Structures to show (default all present).
    flat : bool
        Unlit colours (for pixel checks).
    progress : jobs.Progress, optional

    Returns
    -------
    Scene
    """
    from ..core.devices.catalogue import get_device
    from ..core.mesh import surfaces_from_labels

    if surfaces is None:
        surfaces = surfaces_from_labels(labels, labels_wanted=labels_wanted,
                                        progress=jobs.SubProgress(progress, 0, 80, 100))
    elif labels_wanted is not None:
        keep = {int(v) for v in labels_wanted}
        surfaces = {k: v for k, v in surfaces.items() if int(k) in keep}
    jobs.check(progress)
    scene = Scene(flat=flat)
    scene.anatomy = {int(k): surface_actor(poly, label_rgb(k), flat=flat) for k, poly in surfaces.items()}
    if plan is not None:
        jobs.report(progress, 80, 100, "Device contact map")
        mesh = device_mesh(plan)
        pen = device_penetration(labels, plan, mesh.points, jobs.SubProgress(progress, 80, 100, 100))
        scene.device = device_actor(mesh.points, mesh.triangles, pen, flat=flat)
        scene.device_pose = np.asarray(plan["pose_lps"], float)
        scene.device_centre = 0.5 * (mesh.points.min(axis=0) + mesh.points.max(axis=0))
        scene.penetration_mm = pen
        scene.device_position = get_device(plan["device"]["id"]).position
    jobs.report(progress, 100, 100, "Scene ready")
    return scene
