from __future__ import annotations

from typing import Any

from ...errors import field_error
from ...thumbs.spec import is_valid_thumb
from .base import Lookup
from .select import MultiValueField

DEFAULT_MAX_SIZE = 5 << 20
MAX_SAFE_INT = 2**53 - 1


class FileField(MultiValueField):
    """Holds file names; uploads, their checks and storage live in core/record_files.py."""

    name = "file"
    defaults = {"maxSelect": 0, "maxSize": 0, "mimeTypes": [], "protected": False, "required": False, "thumbs": []}

    def max_size(self, field: dict[str, Any]) -> int:
        size: int = field.get("maxSize") or 0
        return size if size > 0 else DEFAULT_MAX_SIZE

    def max_select(self, field: dict[str, Any]) -> int:
        return max(field.get("maxSelect") or 0, 1)

    def body_allowance(self, field: dict[str, Any]) -> int:
        return self.max_size(field) * self.max_select(field)

    def validate_options(self, field: dict[str, Any], ctx: Lookup) -> dict[str, Any]:
        errors: dict[str, Any] = {}
        for key in ("maxSelect", "maxSize"):
            value = field.get(key) or 0
            if value < 0:
                errors[key] = field_error("validation_min_greater_equal_than_required", "Must be no less than 0.", {"threshold": 0})
            elif value > MAX_SAFE_INT:
                errors[key] = field_error("validation_max_less_equal_than_required", f"Must be no greater than {MAX_SAFE_INT}.", {"threshold": MAX_SAFE_INT})
        thumb_errors = {}
        for index, thumb in enumerate(field.get("thumbs") or []):
            if thumb in ("0x0", "0x0t", "0x0b", "0x0f"):
                thumb_errors[str(index)] = field_error("validation_not_in_invalid", "Must not be in list.")
            elif not is_valid_thumb(thumb):
                thumb_errors[str(index)] = field_error("validation_match_invalid", "Must be in a valid format.")
        if thumb_errors:
            errors["thumbs"] = thumb_errors
        return errors
