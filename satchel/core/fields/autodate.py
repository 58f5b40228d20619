from __future__ import annotations

from typing import Any

from .base import FieldType


class AutodateField(FieldType):
    """Set by the server on create and/or update; submitted values are ignored."""

    name = "autodate"
    defaults = {"onCreate": True, "onUpdate": False}

    def is_blank(self, value: Any) -> bool:
        return False
