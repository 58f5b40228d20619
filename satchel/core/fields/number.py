from __future__ import annotations

import math
from typing import Any

from ...errors import field_error
from .base import FieldType, Lookup, RecordLookup
from .casting import format_number, to_float


class NumberField(FieldType):
    name = "number"
    defaults = {"max": None, "min": None, "onlyInt": False, "required": False}
    column = "number"

    def prepare(self, value: Any, field: dict[str, Any]) -> float:
        return to_float(value)

    def validate_options(self, field: dict[str, Any], ctx: Lookup) -> dict[str, Any]:
        """With onlyInt the bounds are whole; max below min is refused, zero included (both set)."""
        low, high = field.get("min"), field.get("max")
        errors = {}
        if field.get("onlyInt") and low is not None and low != int(low):
            errors["min"] = _only_int()
        if field.get("onlyInt") and high is not None and high != int(high):
            errors["max"] = _only_int()
        elif low is not None and high is not None and high < low:
            errors["max"] = field_error("validation_min_number_constraint", f"Must be greater or equal than {format_number(low)}.", {"min": low})
        return errors

    def validate(self, value: float, field: dict[str, Any], ctx: RecordLookup) -> dict[str, Any] | None:
        if not math.isfinite(value):
            return field_error("validation_not_a_number", "The submitted number is not properly formatted.")
        return super().validate(value, field, ctx)

    def validate_value(self, value: float, field: dict[str, Any], ctx: RecordLookup) -> dict[str, Any] | None:
        if field.get("onlyInt") and value != int(value):
            return _only_int()
        if field.get("min") is not None and value < field["min"]:
            return field_error("validation_min_number_constraint", f"Must be greater or equal than {format_number(field['min'])}.", {"min": field["min"]})
        if field.get("max") is not None and value > field["max"]:
            return field_error("validation_max_number_constraint", f"Must be less or equal than {format_number(field['max'])}.", {"max": field["max"]})
        return None

    def to_json(self, value: Any, field: dict[str, Any]) -> int | float:
        return format_number(float(value or 0))


def _only_int() -> dict[str, Any]:
    return field_error("validation_only_int_constraint", "Decimal numbers are not allowed.")
