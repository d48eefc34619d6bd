"""Choosing a device size from the patient's measurements and the family's sizing chart.

The chart (catalogue ``sizing.chart``) lists, per size, the inclusive range of
the sizing measurement (annulus area, perimeter, landing-zone or defect
diameter) the size is made for. A value inside one range gives that size;
inside two overlapping ranges (a borderline zone) the size whose range it sits
more centrally in, with the other as alternative; between two ranges the
nearer size, flagged as off-chart; outside the chart no size. The reason
string says which and why, with the resulting oversizing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..errors import InputError
from .catalogue import SIZING_KEYS, DeviceFamily

#: positions where fit is judged by how much the device is squeezed (self-expanding
#: plugs, occluders and stents) rather than by area oversizing
_COMPRESSION_POSITIONS = ("laa", "septal", "vessel")


@dataclass(frozen=True)
class Recommendation:
    """A size chosen from the chart, with the measurement it rests on and why.

    ``size`` is None when no size of the family fits the measurement (or the
    measurement is missing); ``reason`` then says why. Percentages are of the
    device at nominal diameter against the patient's measurement, as sizing
    charts define them: ``compression_percent`` here assumes the tissue does not
    yield (the per-phase fit in ``fit.py`` shares the mismatch with the tissue by
    ``mechanics.radial_stiffness``, so its compression is smaller). ``in_chart``
    is False for a size picked between two chart ranges.
    """

    size: float | None
    by: str
    value: float | None
    reason: str
    oversizing_area_percent: float | None = None
    oversizing_perimeter_percent: float | None = None
    alternatives: tuple[float, ...] = ()
    compression_percent: float | None = None
    in_chart: bool = False

    def to_json(self) -> dict:
        def num(x):
            if x is None:
                return None
            return int(x) if float(x).is_integer() else round(float(x), 2)

        return {"size": num(self.size), "by": self.by, "value": self.value,
                "reason": self.reason, "in_chart": self.in_chart,
                "oversizing_area_percent": _round(self.oversizing_area_percent),
                "oversizing_perimeter_percent": _round(self.oversizing_perimeter_percent),
                "compression_percent": _round(self.compression_percent),
                "alternatives": [num(a) for a in self.alternatives]}


def _round(x):
    return None if x is None else round(float(x), 1)


def _fmt(x: float) -> str:
    return f"{round(float(x), 1):g}"


def oversizing(family: DeviceFamily, size: float, measurements: dict) -> dict:
    """Oversizing of ``size`` (nominal diameter) against whatever the measurements allow.

    Parameters
    ----------
    family : DeviceFamily
    size : float
        A size of the family.
    measurements : dict
        Flat measurement dict (keys of ``catalogue.SIZING_KEYS`` and others).

    Returns
    -------
    dict
        ``oversizing_area_percent``, ``oversizing_perimeter_percent`` and
        ``compression_percent`` (None where not computable). Area and perimeter
        come from the annulus area/perimeter when given, else from the family's
        sizing diameter; compression = (device - measured diameter) / device.
    """
    d = family.size(size).nominal_diameter_mm
    area_key = "mitral_annulus_area_mm2" if family.position == "mitral" else "annulus_area_mm2"
    out = {"oversizing_area_percent": None, "oversizing_perimeter_percent": None,
           "compression_percent": None}
    area = _value(measurements, area_key)
    if area is not None and family.position in ("aortic", "mitral"):
        out["oversizing_area_percent"] = (math.pi * d * d / 4.0 / area - 1.0) * 100.0
    perimeter = _value(measurements, "annulus_perimeter_mm")
    if perimeter is not None and family.position == "aortic":
        out["oversizing_perimeter_percent"] = (math.pi * d / perimeter - 1.0) * 100.0
    by = family.sizing["by"]
    if by.endswith("diameter_mm") and _value(measurements, by) is not None:
        ratio = d / _value(measurements, by)
        out["oversizing_area_percent"] = (ratio * ratio - 1.0) * 100.0
        out["oversizing_perimeter_percent"] = (ratio - 1.0) * 100.0
        out["compression_percent"] = (1.0 - 1.0 / ratio) * 100.0
    return out


def _value(measurements: dict, key: str) -> float | None:
    v = measurements.get(key)
    if v is None:
        return None
    try:
        v = float(v)
    except (TypeError, ValueError):
        raise InputError(f"The measurement {key} must be a number, not {v!r}.") from None
    if math.isnan(v):
        return None
    if not math.isfinite(v) or v <= 0:
        raise InputError(f"The measurement {key} = {v:g} is not a positive size; "
                         "check the measurement.")
    return v


def recommend_size(family: DeviceFamily, measurements: dict) -> Recommendation:
    """The chart size for ``measurements`` and the reason.

    Parameters
    ----------
    family : DeviceFamily
    measurements : dict
        Flat dict holding at least the family's sizing key (``family.sizing["by"]``).

    Returns
    -------
    Recommendation
        Never raises for an out-of-chart value: ``size`` is None and ``reason``
        explains. A missing measurement also gives ``size`` None.

    Raises
    ------
    InputError
        When the sizing measurement is present but not a positive number.
    """
    by = family.sizing["by"]
    what, unit = SIZING_KEYS[by]
    value = _value(measurements, by)
    if value is None:
        return Recommendation(None, by, None, f"no {what} ({by}) measured: cannot size "
                              f"{family.family}")
    chart = family.sizing["chart"]
    said = f"{what} {_fmt(value)} {unit}"

    def span(row):
        return f"{_fmt(row['min'])}-{_fmt(row['max'])} {unit}"

    inside = [r for r in chart if r["min"] <= value <= r["max"]]
    if inside:
        # most central range first: borderline values fall to the size they suit best
        inside.sort(key=lambda r: abs(value - (r["min"] + r["max"]) / 2) / (r["max"] - r["min"]
                                                                         or 1.0))
        row, others = inside[0], inside[1:]
        text = f"{said} -> {_fmt(row['size'])} mm (chart {span(row)})"
        tail = ("; borderline: also within " + ", ".join(
            f"{_fmt(o['size'])} mm ({span(o)})" for o in others)) if others else ""
        return _result(family, measurements, row["size"], by, value, text, tail,
                       tuple(o["size"] for o in others), in_chart=True)
    low, high = chart[0], max(chart, key=lambda r: r["max"])
    if value < low["min"]:
        return Recommendation(None, by, value, f"{said} is below the sizing chart (smallest: "
                              f"{_fmt(low['size'])} mm from {_fmt(low['min'])} {unit}): no size "
                              f"of {family.id} fits", alternatives=(low["size"],))
    if value > high["max"]:
        return Recommendation(None, by, value, f"{said} is above the sizing chart (largest: "
                              f"{_fmt(high['size'])} mm up to {_fmt(high['max'])} {unit}): no "
                              f"size of {family.id} fits",
                              alternatives=(high["size"],))
    below = max((r for r in chart if r["max"] < value), key=lambda r: r["max"])
    above = min((r for r in chart if r["min"] > value), key=lambda r: r["min"])
    near, other = ((below, above) if value - below["max"] <= above["min"] - value
                   else (above, below))
    text = (f"{said} falls between the chart ranges of {_fmt(below['size'])} mm ({span(below)}) "
            f"and {_fmt(above['size'])} mm ({span(above)}): nearest {_fmt(near['size'])} mm")
    return _result(family, measurements, near["size"], by, value, text,
                   " (off-chart: confirm the size with the heart team)", (other["size"],),
                   in_chart=False)


def _sized(percent: float, how: str) -> str:
    word = "oversizing" if percent >= -0.5 else "undersizing"
    return f", {abs(percent):.0f}% {word} by {how}"


def _result(family, measurements, size, by, value, text, tail, alternatives, in_chart):
    o = oversizing(family, size, measurements)
    if family.position in _COMPRESSION_POSITIONS and o["compression_percent"] is not None:
        text += f", {o['compression_percent']:.0f}% compression"
    elif by in ("annulus_area_mm2", "mitral_annulus_area_mm2") \
            and o["oversizing_area_percent"] is not None:
        text += _sized(o["oversizing_area_percent"], "area")
    elif o["oversizing_perimeter_percent"] is not None:
        how = "diameter" if by.endswith("diameter_mm") else "perimeter"
        text += _sized(o["oversizing_perimeter_percent"], how)
    text += tail
    return Recommendation(size, by, value, text, o["oversizing_area_percent"],
                          o["oversizing_perimeter_percent"], tuple(alternatives),
                          o["compression_percent"], in_chart)


__all__ = ["Recommendation", "recommend_size", "oversizing"]
