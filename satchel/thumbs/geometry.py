"""Thumb geometry: which crop and resize steps turn a source size into a thumb (spec §6).

Pure integer/float arithmetic that mirrors disintegration/imaging v1.6.2 (`Resize`, `Fit`,
`Fill`, `CropAnchor`) step for step, floats evaluated in the same order, so that every
output size equals PocketBase's. No pixels here: `generate` applies the plan.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .spec import ThumbSize

Box = tuple[int, int, int, int]  # left, top, right, bottom (Pillow's crop order)
Size = tuple[int, int]


@dataclass(frozen=True)
class Plan:
    """Steps in order: crop the source, resize, crop the result. None means "skip"."""

    size: Size  # the final thumb size
    crop_before: Box | None = None
    resize_to: Size | None = None
    crop_after: Box | None = None


def resize_size(src_w: int, src_h: int, width: int, height: int) -> Size:
    """The size `Resize` produces: a 0 side follows the aspect ratio, rounded, at least 1."""
    if width == 0:
        width = int(max(1.0, math.floor(height * src_w / src_h + 0.5)))
    if height == 0:
        height = int(max(1.0, math.floor(width * src_h / src_w + 0.5)))
    return width, height


def fit_size(src_w: int, src_h: int, max_w: int, max_h: int) -> Size:
    """The size `Fit` produces: never larger than the source; the short side is truncated."""
    if src_w <= max_w and src_h <= max_h:
        return src_w, src_h
    src_aspect = src_w / src_h
    if src_aspect > max_w / max_h:
        width, height = max_w, int(max_w / src_aspect)
    else:
        width, height = int(max_h * src_aspect), max_h
    return resize_size(src_w, src_h, width, height)


def anchor_box(outer_w: int, outer_h: int, width: int, height: int, mode: str) -> Box:
    """A width x height box inside the outer size, placed like `CropAnchor`, clipped to it."""
    left = int((outer_w - width) / 2)  # Go integer division truncates toward zero
    if mode == "t":
        top = 0
    elif mode == "b":
        top = outer_h - height
    else:
        top = int((outer_h - height) / 2)
    return max(left, 0), max(top, 0), min(left + width, outer_w), min(top + height, outer_h)


def _box_size(box: Box) -> Size:
    return box[2] - box[0], box[3] - box[1]


def _resize_step(src: Size, dst: Size) -> Size | None:
    return None if src == dst else dst


def fill_plan(src_w: int, src_h: int, width: int, height: int, mode: str) -> Plan:
    """`Fill`: cover width x height, crop the overflow at the anchor (centre, top, bottom)."""
    if (src_w, src_h) == (width, height):
        return Plan(size=(width, height))
    src_aspect, dst_aspect = src_w / src_h, width / height
    if src_w >= 100 and src_h >= 100:
        # Big enough: crop to the target aspect ratio first, then resize.
        if src_aspect < dst_aspect:
            crop = (src_w, int(max(1.0, src_w * height / width) + 0.5))
        else:
            crop = (int(max(1.0, src_h * width / height) + 0.5), src_h)
        box = anchor_box(src_w, src_h, *crop, mode)
        return Plan(
            size=(width, height),
            crop_before=box,
            resize_to=_resize_step(_box_size(box), (width, height)),
        )
    # Small source: resize so it covers the target, then crop.
    if src_aspect < dst_aspect:
        scaled = resize_size(src_w, src_h, width, 0)
    else:
        scaled = resize_size(src_w, src_h, 0, height)
    box = anchor_box(*scaled, width, height, mode)
    return Plan(size=_box_size(box), resize_to=_resize_step((src_w, src_h), scaled), crop_after=box)


def plan_thumb(src_w: int, src_h: int, thumb: ThumbSize) -> Plan:
    """The plan PocketBase's `CreateThumb` follows for this source size and thumb size."""
    if thumb.width == 0 or thumb.height == 0:
        size = resize_size(src_w, src_h, thumb.width, thumb.height)  # the mode is ignored here
    elif thumb.mode == "f":
        size = fit_size(src_w, src_h, thumb.width, thumb.height)
    else:
        return fill_plan(src_w, src_h, thumb.width, thumb.height, thumb.mode)
    return Plan(size=size, resize_to=_resize_step((src_w, src_h), size))
