"""The outcome of a segmentation run: label map, warnings and provenance."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..imaging.volume import Volume


@dataclass
class SegmentationResult:
    """A 7-label heart segmentation on the input image's grid.

    Attributes
    ----------
    labels : Volume
        uint8 label map (DESIGN.md numbering), same grid as the input image.
    warnings : list of str
        User-readable messages, e.g. why a structure was not found.
    missing : list of str
        Keys (``"LV"``, ``"PA"``, ...) of structures that were not found.
    seconds : float
        Wall-clock time of the run.
    method : str
        ``"auto"`` or ``"seeded"``.
    params : dict
        Parameters and estimated quantities (contrast levels, thresholds,
        registration transform), for provenance and replay.
    """

    labels: Volume
    warnings: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    seconds: float = 0.0
    method: str = "auto"
    params: dict = field(default_factory=dict)
