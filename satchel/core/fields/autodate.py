from __future__ import annotations

from typing import Any

from ...errors import field_error
from .base import COMMON_DEFAULTS, Errors, FieldType, Lookup


class AutodateField(FieldType):
    """Set by the server on create and/or update; submitted values are ignored."""

    name = "autodate"
    common = {k: v for k, v in COMMON_DEFAULTS.items() if k != "help"}  # the reference's autodate has no help text
    defaults = {"onCreate": False, "onUpdate": False}

    def validate_options(self, field: dict[str, Any], ctx: Lookup) -> Errors:
        if field.get("onCreate") or field.get("onUpdate"):
            return {}
        error = field_error("validation_required", "Either onCreate or onUpdate must be enabled.")
        return {"onCreate": error, "onUpdate": error}

    def is_blank(self, value: Any) -> bool:
        return False
