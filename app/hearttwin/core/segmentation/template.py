"""The anatomical shape prior: a noise-free phantom drawn with DEFAULT parameters.

The prior is the phantom generator's mean heart (``AnatomyParams()`` and
``IntensityParams()`` defaults, no noise, no calcium) on a 2 mm grid. It is
never built from the case being segmented nor from any ground truth: it only
says roughly where each structure lies relative to the others. The automatic
pipeline registers it to the scan (:mod:`.register`) and uses it for the
anatomical assignment of the blood pool and for the valve planes; the image
decides the extent of every structure.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ..imaging.volume import Volume

#: grid of the prior: 2 mm, 240 x 240 x 200 mm around the heart anchor
TEMPLATE_SPACING = 2.0
TEMPLATE_SIZE = (120, 120, 100)
TEMPLATE_FOV_OFFSET = (10.0, 0.0, 5.0)


@dataclass(frozen=True)
class Template:
    image: Volume    # noise-free HU image (float32)
    labels: Volume   # uint8, DESIGN.md labels


@lru_cache(maxsize=1)
def default_template() -> Template:
    """The prior (built once per process, ~1 s)."""
    from ..phantom.generate import generate_phantom
    from ..phantom.params import GeometryParams, IntensityParams, PhantomParams

    params = PhantomParams(
        seed=0, preset="small", phases=1, calcium=False,
        geometry=GeometryParams(size=TEMPLATE_SIZE, spacing=(TEMPLATE_SPACING,) * 3,
                                fov_offset=TEMPLATE_FOV_OFFSET),
        intensity=IntensityParams(noise_std=0.0),
    )
    phase = generate_phantom(params).phases[0]
    image = Volume(phase.image.array.astype(np.float32), phase.image.spacing,
                   phase.image.origin, phase.image.direction)
    return Template(image=image, labels=phase.labels)
