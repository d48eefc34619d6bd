"""Phantom parameters: what is drawn at random, separated from how it is drawn.

``PhantomParams.sample(seed, preset)`` draws every size, angle, intensity and
acquisition setting from ``numpy.random.default_rng(seed)``; the generator is
then a deterministic function of the parameters (and the same seed for
noise). Explicit overrides (``sample(7, "small", phases=4, calcium=False)``)
replace any sampled field by name, so tests can ask for exactly the phantom
they need.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np

from ..errors import InputError

#: acquisition presets: matrix, pixel-spacing range, slice range, z coverage (mm)
PRESETS = {
    "small": {"matrix": (112, 112), "pixel": (1.6, 1.75), "slice": (1.6, 1.75), "z_mm": 160.0},
    "sample": {"matrix": (256, 256), "pixel": (0.86, 0.9), "slice": (1.0, 1.0), "z_mm": 144.0},
    "standard": {"matrix": (512, 512), "pixel": (0.43, 0.49), "slice": (0.5, 0.75), "z_mm": 165.0},
}


@dataclass
class GeometryParams:
    """The voxel grid: size (nx, ny, nz), spacing (sx, sy, sz) in mm, FOV centre shift."""

    size: tuple[int, int, int] = (112, 112, 96)
    spacing: tuple[float, float, float] = (1.7, 1.7, 1.7)
    #: FOV centre relative to the heart anchor (aortic annulus), LPS mm
    fov_offset: tuple[float, float, float] = (18.0, -8.0, 5.0)


@dataclass
class AnatomyParams:
    """Sizes, positions and orientations at end-diastole (mm, degrees)."""

    heart_shift: tuple[float, float, float] = (0.0, 0.0, 0.0)
    lv_azimuth_deg: float = 52.0      # long axis, from anterior towards patient-left
    lv_elevation_deg: float = 24.0    # apex below the axial plane
    lv_roll_deg: float = 0.0
    lv_radius: float = 26.0           # inner short semi-axis at ED
    lv_length: float = 84.0           # base plane to inner apex at ED
    myo_thickness: float = 10.0
    lv_ef: float = 0.62
    es_phase: float = 0.37
    rv_scale: float = 1.0
    rv_ef: float = 0.52
    la_radii: tuple[float, float, float] = (27.0, 18.0, 22.0)
    ra_radii: tuple[float, float, float] = (23.0, 22.0, 27.0)
    atrial_emptying: float = 0.42
    annulus_diameter: float = 24.0    # area-derived
    annulus_eccentricity: float = 0.18
    annulus_rotation_deg: float = 0.0
    root_tilt_deg: tuple[float, float] = (0.0, 0.0)
    sinus_bulge: float = 5.0
    stj_ratio: float = 1.12
    stj_height: float = 20.0
    asc_radius: float = 15.5
    desc_radius: float = 11.5
    ostium_height_left: float = 13.0
    ostium_height_right: float = 12.5
    laa_radius: float = 10.0
    laa_length: float = 34.0
    laa_flatten: float = 0.7
    pa_radius: float = 13.0
    body_radii: tuple[float, float] = (165.0, 115.0)
    fat_thickness: float = 15.0
    muscle_thickness: float = 11.0
    calcium_nodules: int = 3


@dataclass
class IntensityParams:
    """Tissue Hounsfield units and image-quality settings."""

    blood_left: float = 380.0
    right_mix: float = 0.75
    myocardium: float = 110.0
    fat: float = -100.0
    lung: float = -850.0
    muscle: float = 50.0
    soft: float = 40.0
    liver: float = 70.0
    cortical: float = 1250.0
    marrow: float = 320.0
    calcium: float = 1000.0
    noise_std: float = 25.0
    psf_fwhm_mm: float = 0.8


@dataclass
class PhantomParams:
    """Everything that defines one phantom (see :meth:`sample`)."""

    seed: int = 0
    preset: str = "small"
    phases: int = 1
    calcium: bool = True
    geometry: GeometryParams = field(default_factory=GeometryParams)
    anatomy: AnatomyParams = field(default_factory=AnatomyParams)
    intensity: IntensityParams = field(default_factory=IntensityParams)

    @classmethod
    def sample(cls, seed: int = 0, preset: str = "standard", **overrides) -> "PhantomParams":
        """Draw a plausible phantom for ``seed``; keyword arguments override fields.

        Parameters
        ----------
        seed : int
            Seed of ``numpy.random.default_rng``.
        preset : {"small", "sample", "standard"}
            Acquisition preset (matrix, spacing ranges, coverage).
        **overrides
            Any field of this class or of its geometry/anatomy/intensity
            groups, by name (e.g. ``spacing=(1, 1, 1)``, ``lv_ef=0.6``).
        """
        if preset not in PRESETS:
            raise InputError(f"Unknown phantom preset {preset!r}; choose one of "
                             f"{', '.join(PRESETS)}.")
        rng = np.random.default_rng(seed)
        u = rng.uniform
        pre = PRESETS[preset]
        pixel = round(float(u(*pre["pixel"])), 3)
        slice_mm = round(float(u(*pre["slice"])), 3)
        nz = int(round(pre["z_mm"] / slice_mm))
        geometry = GeometryParams(
            size=(pre["matrix"][0], pre["matrix"][1], nz),
            spacing=(pixel, pixel, slice_mm),
            fov_offset=(float(u(14, 22)), float(u(-12, -4)), float(u(2, 8))),
        )
        la = np.array([27.0, 18.0, 22.0]) * u(0.9, 1.12)
        ra = np.array([23.0, 22.0, 27.0]) * u(0.9, 1.12)
        anatomy = AnatomyParams(
            heart_shift=tuple(float(v) for v in rng.normal(0.0, 3.0, 3)),
            lv_azimuth_deg=float(u(48, 58)), lv_elevation_deg=float(u(18, 28)),
            lv_roll_deg=float(u(-5, 5)),
            lv_radius=float(u(24, 28)), lv_length=float(u(78, 90)),
            myo_thickness=float(u(7.5, 10.5)),
            lv_ef=float(u(0.56, 0.68)), es_phase=float(u(0.34, 0.40)),
            rv_scale=float(u(0.92, 1.08)), rv_ef=float(u(0.48, 0.58)),
            la_radii=tuple(float(v) for v in la), ra_radii=tuple(float(v) for v in ra),
            atrial_emptying=float(u(0.35, 0.5)),
            annulus_diameter=float(u(21, 27)), annulus_eccentricity=float(u(0.10, 0.25)),
            annulus_rotation_deg=float(u(-12, 12)),
            root_tilt_deg=(float(u(-5, 5)), float(u(-5, 5))),
            sinus_bulge=float(u(4.0, 6.0)), stj_ratio=float(u(1.05, 1.2)),
            stj_height=float(u(17, 23)),
            asc_radius=float(u(14, 17)), desc_radius=float(u(10, 13)),
            ostium_height_left=float(u(11, 16)), ostium_height_right=float(u(10, 15)),
            laa_radius=float(u(9, 12)), laa_length=float(u(28, 40)),
            laa_flatten=float(u(0.6, 0.8)), pa_radius=float(u(12, 15)),
            body_radii=(float(u(155, 180)), float(u(105, 125))),
            fat_thickness=float(u(8, 22)), muscle_thickness=float(u(8, 14)),
            calcium_nodules=int(rng.integers(1, 5)),
        )
        blood = float(u(250, 500))
        intensity = IntensityParams(
            blood_left=blood, right_mix=float(u(0.6, 0.9)),
            myocardium=float(u(85, 135)), fat=float(u(-115, -85)),
            lung=float(u(-870, -820)), muscle=float(u(40, 60)), soft=float(u(30, 50)),
            liver=float(u(55, 80)), cortical=float(u(1000, 1500)), marrow=float(u(250, 400)),
            calcium=float(u(700, 1400)), noise_std=float(u(15, 35)),
            psf_fwhm_mm=float(u(0.6, 1.0)),
        )
        params = cls(seed=int(seed), preset=preset, geometry=geometry, anatomy=anatomy,
                     intensity=intensity)
        return params.with_overrides(**overrides)

    def with_overrides(self, **overrides) -> "PhantomParams":
        """A copy with fields replaced by name (top level or inside a group)."""
        top, groups = {}, {"geometry": {}, "anatomy": {}, "intensity": {}}
        for key, value in overrides.items():
            if key in {f.name for f in dataclasses.fields(self)}:
                top[key] = value
                continue
            for gname in groups:
                if key in {f.name for f in dataclasses.fields(getattr(self, gname))}:
                    groups[gname][key] = value
                    break
            else:
                raise InputError(f"Unknown phantom parameter {key!r}.")
        for gname, kw in groups.items():
            if kw:
                top[gname] = dataclasses.replace(getattr(self, gname), **kw)
        out = dataclasses.replace(self, **top)
        out.validate()
        return out

    def validate(self) -> None:
        """Raise :class:`InputError` for parameters that cannot make a phantom."""
        g = self.geometry
        if len(g.size) != 3 or min(g.size) < 8:
            raise InputError(f"Phantom size must be three numbers of at least 8, got {g.size}.")
        if len(g.spacing) != 3 or not all(0.05 <= s <= 10.0 for s in g.spacing):
            raise InputError(f"Phantom spacing must be three values in 0.05-10 mm, got {g.spacing}.")
        if not 1 <= int(self.phases) <= 40:
            raise InputError(f"Number of phases must be 1-40, got {self.phases}.")
        if np.prod(g.size) * int(self.phases) > 2.5e9:
            raise InputError("The requested phantom is too large (over 2.5 billion voxels).")

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)
