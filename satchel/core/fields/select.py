from __future__ import annotations

from typing import Any

import orjson

from ...errors import field_error
from .base import FieldType, Lookup, RecordLookup
from .casting import to_str_list
from .limits import range_error


class MultiValueField(FieldType):
    """Select, relation and file: a single string, or a JSON list when maxSelect > 1."""

    def is_multiple(self, field: dict[str, Any]) -> bool:
        return (field.get("maxSelect") or 0) > 1

    def column_kind(self, field: dict[str, Any]) -> str:
        return "json" if self.is_multiple(field) else "text"

    def column_default(self, field: dict[str, Any]) -> Any:
        return "[]" if self.is_multiple(field) else ""

    def zero(self, field: dict[str, Any]) -> Any:
        return [] if self.is_multiple(field) else ""

    def prepare(self, value: Any, field: dict[str, Any]) -> Any:
        return self.shape(to_str_list(value), field)

    def shape(self, values: list[str], field: dict[str, Any]) -> Any:
        """A single field keeps only the last value."""
        if self.is_multiple(field):
            return values
        return values[-1] if values else ""

    def as_list(self, value: Any) -> list[str]:
        return to_str_list(value)

    def to_db(self, value: Any, field: dict[str, Any]) -> Any:
        return orjson.dumps(self.as_list(value)).decode() if self.is_multiple(field) else (value or "")

    def from_db(self, value: Any, field: dict[str, Any]) -> Any:
        return self.shape(to_str_list(value), field) if self.is_multiple(field) else (value or "")


class SelectField(MultiValueField):
    name = "select"
    defaults = {"maxSelect": 0, "required": False, "values": []}

    def validate_options(self, field: dict[str, Any], ctx: Lookup) -> dict[str, Any]:
        errors = {}
        if not field.get("values"):
            errors["values"] = field_error("validation_required", "Cannot be blank.")
        if error := range_error(field.get("maxSelect"), 0, len(field.get("values") or []) or 1):
            errors["maxSelect"] = error
        return errors

    def validate_value(self, value: Any, field: dict[str, Any], ctx: RecordLookup) -> dict[str, Any] | None:
        values = self.as_list(value)
        for item in values:
            if item not in field.get("values", []):
                return field_error("validation_invalid_value", f"Invalid value {item}.", {"value": item})
        limit = max(field.get("maxSelect") or 0, 1)
        if len(values) > limit:
            return field_error("validation_too_many_values", f"Select no more than {limit}.", {"maxSelect": limit})
        return None
