"""Choose the series a cardiac CT workflow should use, and say why.

Preference, most important first: loadable without errors, CT modality, not a
localizer/scout, ORIGINAL over DERIVED/SECONDARY images, AXIAL, a real volume
(more than a few slices), thinner slices, more slices.
"""

from __future__ import annotations

from ..errors import SeriesSelectionError


def _traits(info) -> dict:
    image_type = info.image_type.split("\\") if info.image_type else []
    return {
        "loadable": info.loadable,
        "ct": info.modality == "CT",
        "not_localizer": not info.is_localizer,
        "original": "DERIVED" not in image_type[:1] and "SECONDARY" not in image_type[1:2],
        "axial": "AXIAL" in image_type or not image_type,
        "volume": info.slices >= 10,
    }


def _score(info) -> tuple:
    t = _traits(info)
    thickness = round(info.spacing_mm[2], 1) if info.spacing_mm else 99.0
    return (t["loadable"], t["ct"], t["not_localizer"], t["original"], t["axial"], t["volume"],
            -thickness, info.slices)


def why_not(info, best) -> str:
    """Short reason a series was not chosen, compared with the chosen one."""
    t = _traits(info)
    if not t["loadable"]:
        return "cannot be loaded (see warnings)"
    if not t["ct"]:
        return f"not CT ({info.modality or 'unknown modality'})"
    if not t["not_localizer"]:
        return "localizer (scout) image, not a volume"
    if not t["original"]:
        return "derived or secondary reconstruction"
    if not t["axial"]:
        return "not an axial series"
    if not t["volume"]:
        return f"too few slices ({info.slices})"
    if best is not None and info.spacing_mm and best.spacing_mm and \
            round(info.spacing_mm[2], 1) > round(best.spacing_mm[2], 1):
        return f"thicker slices ({info.spacing_mm[2]:.2f} mm vs {best.spacing_mm[2]:.2f} mm)"
    return "fewer slices" if best is not None and info.slices < best.slices else "another series ranked first"


def why_chosen(info, candidates) -> str:
    t = _traits(info)
    parts = ["CT" if t["ct"] else f"{info.modality or 'unknown'} (no CT series available)"]
    if t["original"] and t["axial"]:
        parts.append("original axial images")
    parts.append(f"{info.spacing_mm[2]:.2f} mm slice spacing, {info.slices} slices")
    n_ct = sum(1 for c in candidates if c.modality == "CT" and c.loadable and not c.is_localizer)
    if n_ct > 1:
        parts.append(f"best of {n_ct} CT series")
    return "chosen: " + ", ".join(parts)


def choose_default(series: list) -> int | None:
    """Index of the best series (None if nothing can be loaded); sets reasons."""
    if not series:
        return None
    ranked = sorted(range(len(series)), key=lambda i: _score(series[i]), reverse=True)
    best_i = ranked[0] if series[ranked[0]].loadable else None
    best = series[best_i] if best_i is not None else None
    for i, info in enumerate(series):
        info.selected = i == best_i
        info.reason = why_chosen(info, series) if i == best_i else "not chosen: " + why_not(info, best)
    return best_i


def find_series(series: list, wanted) -> int:
    """Index of the series the user asked for: a label ('3', '3.2'), a number, or '#I' (0-based index)."""
    text = str(wanted).strip()
    if text.startswith("#") and text[1:].isdigit():
        i = int(text[1:])
        if 0 <= i < len(series):
            return i
    else:
        matches = [i for i, s in enumerate(series) if s.label == text]
        if not matches and text.lstrip("-").isdigit():
            matches = [i for i, s in enumerate(series) if s.number == int(text)]
            if len(matches) > 1:  # several sub-series: prefer the best-ranked one
                matches.sort(key=lambda i: _score(series[i]), reverse=True)
        if matches:
            return matches[0]
    labels = ", ".join(s.label for s in series) or "none"
    raise SeriesSelectionError(
        f"There is no series {text} here (available: {labels}; use the series number, "
        "e.g. 3 or 3.2 for a sub-series, or #0 for the first listed)."
    )
