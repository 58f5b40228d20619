"""Thumb size strings (`100x100`, `0x50`, `40x30t`...) and which ones a request may use."""

from __future__ import annotations

import re
from dataclasses import dataclass

# [0-9], not \d: Python's \d also matches non-ASCII digits, Go's does not.
_THUMB_RE = re.compile(r"([0-9]+)x([0-9]+)(t|b|f)?")

# PocketBase rejects exactly these strings in a field's `thumbs` option (so "00x0" passes).
_ZERO_SIZES = frozenset({"0x0", "0x0t", "0x0b", "0x0f"})

DEFAULT_THUMB = "100x100"


@dataclass(frozen=True)
class ThumbSize:
    width: int
    height: int
    mode: str  # "" fill from centre, "t" fill from top, "b" fill from bottom, "f" fit


def parse_thumb(value: str) -> ThumbSize:
    """Parse a thumb string; raise ValueError when it is malformed or both sides are 0."""
    match = _THUMB_RE.fullmatch(value)
    if match is None:
        raise ValueError(f"thumb size must be in WxH, WxHt, WxHb or WxHf format: {value!r}")
    size = ThumbSize(int(match[1]), int(match[2]), match[3] or "")
    if size.width == 0 and size.height == 0:
        raise ValueError("thumb width and height cannot be zero at the same time")
    return size


def is_valid_thumb(value: str) -> bool:
    """Whether `value` may appear in a file field's `thumbs` option."""
    return _THUMB_RE.fullmatch(value) is not None and value not in _ZERO_SIZES


def thumb_allowed(value: str, field_thumbs: list[str]) -> bool:
    """Whether a `?thumb=` value is honoured: exact string match, `100x100` always allowed."""
    return value == DEFAULT_THUMB or value in field_thumbs
