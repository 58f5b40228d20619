from __future__ import annotations

from typing import Any

from ...errors import field_error
from .base import FieldType, Lookup, RecordLookup
from .casting import to_str
from .limits import MAX_SAFE_INT, bounded

DEFAULT_MAX_SIZE = 5 << 20


class EditorField(FieldType):
    name = "editor"
    defaults = {"convertURLs": False, "maxSize": 0, "required": False}

    def prepare(self, value: Any, field: dict[str, Any]) -> str:
        return to_str(value)

    def validate_options(self, field: dict[str, Any], ctx: Lookup) -> dict[str, Any]:
        return bounded(field, {"maxSize": (0, MAX_SAFE_INT)})

    def max_size(self, field: dict[str, Any]) -> int:
        size: int = field.get("maxSize") or DEFAULT_MAX_SIZE
        return size

    def body_allowance(self, field: dict[str, Any]) -> int:
        return self.max_size(field)

    def validate_value(self, value: str, field: dict[str, Any], ctx: RecordLookup) -> dict[str, Any] | None:
        limit = self.max_size(field)
        if len(value.encode()) > limit:
            return field_error("validation_content_size_limit", f"The maximum allowed content size is {limit} bytes.", {"maxSize": limit})
        return None
