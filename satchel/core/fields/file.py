from __future__ import annotations

from typing import Any

from ...errors import field_error
from ...thumbs.spec import is_valid_thumb
from .base import Lookup
from .limits import MAX_SAFE_INT, bounded
from .select import MultiValueField

DEFAULT_MAX_SIZE = 5 << 20


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
        errors = bounded(field, {"maxSelect": (0, MAX_SAFE_INT), "maxSize": (0, MAX_SAFE_INT)})
        thumb_errors = {}
        for index, thumb in enumerate(field.get("thumbs") or []):
            if not thumb:
                continue
            if thumb in ("0x0", "0x0t", "0x0b", "0x0f"):
                thumb_errors[str(index)] = field_error("validation_not_in_invalid", "Must not be in list.")
            elif not is_valid_thumb(thumb):
                thumb_errors[str(index)] = field_error("validation_match_invalid", "Must be in a valid format.")
        if thumb_errors:
            errors["thumbs"] = thumb_errors
        return errors
