"""Plan -> VTK scene -> offscreen images (no Qt; works without a display).

Public API
----------
build_scene(labels, plan=None, *, surfaces=None, labels_wanted=None, flat=False, progress=None)
    :class:`Scene`: one actor per heart structure in its labels.json colour,
    and the plan's device coloured per vertex by its penetration into the
    wall (:mod:`.scene`).
standard_views(scene, measurements=None) / anterior / coplanar / en_face
    Parallel cameras in LPS (:mod:`.views`).
render(scene, view, size=(800, 600), background=(255, 255, 255))
    ``(h, w, 3)`` uint8 RGB image, checked to be a real render (:mod:`.offscreen`).
png_bytes(image) / write_png(image, path)
    PNG encoding.

Colours (:mod:`.colours`): ``label_rgb``, ``label_name``, ``penetration_rgb``.
"""

from .colours import DEVICE_RGB, PENETRATION_FULL_MM, PENETRATION_RGB, label_name, label_rgb, penetration_rgb
from .offscreen import check_image, png_bytes, render, write_png
from .scene import Scene, build_scene, device_actor, device_mesh, device_penetration, surface_actor
from .views import View, anterior, c_arm_label, coplanar, en_face, standard_views

__all__ = ["Scene", "build_scene", "device_actor", "device_mesh", "device_penetration", "surface_actor",
           "View", "anterior", "coplanar", "en_face", "standard_views", "c_arm_label",
           "render", "png_bytes", "write_png", "check_image",
           "label_rgb", "label_name", "penetration_rgb", "DEVICE_RGB", "PENETRATION_RGB",
           "PENETRATION_FULL_MM"]
