"""Masking run-specific values (ids, dates, tokens, random name parts) so two servers' answers compare."""

from __future__ import annotations

import re
from typing import Any

DATE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}Z$")
JWT = re.compile(r"^eyJ[\w-]+\.[\w-]+\.[\w-]+$")
RANDOM_PART = re.compile(r"_[a-z0-9]{10}(?=\.|$)")
SHORT_PAD = re.compile(r"(?<![a-z0-9_])([a-z0-9]{1,2})[a-z0-9]{10}_")


class Masker:
    """Replaces run-specific values with stable placeholders, numbering ids by first sight."""

    def __init__(self) -> None:
        self.ids: dict[str, str] = {}

    def name(self, value: str) -> str:
        return RANDOM_PART.sub("_<rand>", SHORT_PAD.sub(r"\1<pad>_", value))

    def __call__(self, value: Any) -> Any:
        if isinstance(value, dict):
            return {k: self(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self(v) for v in value]
        if not isinstance(value, str):
            return value
        if DATE.match(value):
            return "<date>"
        if JWT.match(value):
            return "<token>"
        if re.fullmatch(r"[a-z0-9]{15}", value):
            return self.ids.setdefault(value, f"<id{len(self.ids)}>")
        return self.name(value)


def undated(value: Any) -> Any:
    """The body with every `created`/`updated` stamp masked (they differ per run)."""
    if isinstance(value, dict):
        return {k: "<date>" if k in ("created", "updated") else undated(v) for k, v in value.items()}
    if isinstance(value, list):
        return [undated(v) for v in value]
    return value
