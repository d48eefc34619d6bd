"""Enhanced multi-frame images (Enhanced CT/MR/XA...): one file, many frames.

Geometry and rescale live in functional groups: the shared group applies to
every frame, the per-frame group overrides it for one frame. Each frame is
turned into a :class:`SliceRecord` so grouping, phase splitting and geometry
treat it exactly like a classic single-frame slice.
"""

from __future__ import annotations

from .headers import SliceRecord, float_or_none, floats, int_or_none

SHARED = "SharedFunctionalGroupsSequence"
PER_FRAME = "PerFrameFunctionalGroupsSequence"
NOMINAL_PERCENT = (0x0020, 0x9241)


def is_enhanced(ds) -> bool:
    """True when the dataset describes its frames with functional groups."""
    return SHARED in ds or PER_FRAME in ds


def _first_item(group, keyword: str):
    """The first item of ``group.<keyword>`` (a one-item sequence), or None."""
    if group is None:
        return None
    seq = group.get(keyword)
    if seq is None or len(seq) == 0:
        return None
    return seq[0]


def _lookup(groups, macro: str, attr):
    """Value of ``attr`` in functional group ``macro``: per-frame first, then shared."""
    for group in groups:
        item = _first_item(group, macro)
        if item is not None and attr in item:
            value = item[attr].value if not isinstance(attr, str) else item.get(attr)
            if value is not None and value != "":
                return value
    return None


def records_from_enhanced(ds, common: dict) -> list[SliceRecord]:
    """One record per frame of an enhanced multi-frame dataset."""
    fmt = common["fmt"]
    shared_seq = ds.get(SHARED)
    shared = shared_seq[0] if shared_seq else None
    per_frame = ds.get(PER_FRAME) or []
    image_type = common["image_type"]
    records = []
    for index in range(fmt.n_frames):
        frame_group = per_frame[index] if index < len(per_frame) else None
        groups = [g for g in (frame_group, shared) if g is not None]
        position = floats(_lookup(groups, "PlanePositionSequence", "ImagePositionPatient"), 3)
        orientation = floats(_lookup(groups, "PlaneOrientationSequence", "ImageOrientationPatient"), 6)
        spacing = floats(_lookup(groups, "PixelMeasuresSequence", "PixelSpacing"), 2)
        thickness = float_or_none(_lookup(groups, "PixelMeasuresSequence", "SliceThickness"))
        slope = float_or_none(_lookup(groups, "PixelValueTransformationSequence", "RescaleSlope"))
        intercept = float_or_none(_lookup(groups, "PixelValueTransformationSequence", "RescaleIntercept"))
        if slope is None:  # some writers keep rescale at the top level
            slope = float_or_none(ds.get("RescaleSlope"))
        if intercept is None:
            intercept = float_or_none(ds.get("RescaleIntercept"))
        temporal = int_or_none(_lookup(groups, "FrameContentSequence", "TemporalPositionIndex"))
        trigger = float_or_none(_lookup(groups, "CardiacSynchronizationSequence", "NominalCardiacTriggerDelayTime"))
        percent = float_or_none(_lookup(groups, "CardiacSynchronizationSequence", NOMINAL_PERCENT))
        if percent is None:
            percent = float_or_none(_lookup(groups, "FrameContentSequence", NOMINAL_PERCENT))
        frame_type = _lookup(groups, "CTImageFrameTypeSequence", "FrameType")
        ftype = image_type
        if frame_type is not None:
            values = [frame_type] if isinstance(frame_type, str) else list(frame_type)
            ftype = tuple(str(v).upper() for v in values)
        records.append(
            SliceRecord(
                frame=index,
                position=position,
                orientation=orientation,
                pixel_spacing=spacing,
                slice_thickness=thickness,
                slope=1.0 if slope is None else slope,
                intercept=0.0 if intercept is None else intercept,
                trigger_time=trigger,
                temporal_index=temporal,
                cardiac_percent=percent,
                **{**common, "image_type": ftype},
            )
        )
    return records
