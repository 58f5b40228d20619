from __future__ import annotations

import re
import secrets
from typing import Any

from ...errors import field_error
from .base import FieldType, Lookup, RecordLookup
from .casting import to_str

DEFAULT_MAX_LENGTH = 5000
_ID_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"
_TOKEN_ALPHABET = _ID_ALPHABET + "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def generate(pattern: str) -> str:
    """Values for the autogenerate patterns PocketBase itself uses (`[a-z0-9]{15}`, ...)."""
    m = re.fullmatch(r"\[(a-z0-9|a-zA-Z0-9)\]\{(\d+)\}", pattern)
    if not m:
        return ""
    alphabet = _ID_ALPHABET if m.group(1) == "a-z0-9" else _TOKEN_ALPHABET
    return "".join(secrets.choice(alphabet) for _ in range(int(m.group(2))))


class TextField(FieldType):
    name = "text"
    defaults = {"autogeneratePattern": "", "max": 0, "min": 0, "pattern": "", "primaryKey": False, "required": False}

    def prepare(self, value: Any, field: dict[str, Any]) -> str:
        return to_str(value)

    def validate_options(self, field: dict[str, Any], ctx: Lookup) -> dict[str, Any]:
        errors = {}
        if field.get("pattern"):
            try:
                re.compile(field["pattern"])
            except re.error:
                errors["pattern"] = field_error("validation_invalid_regex", "Invalid regular expression.")
        return errors

    def validate_value(self, value: str, field: dict[str, Any], ctx: RecordLookup) -> dict[str, Any] | None:
        length = len(value)
        if field.get("min") and length < field["min"]:
            return field_error("validation_min_text_constraint", f"Must be at least {field['min']} character(s).", {"min": field["min"]})
        maximum = field.get("max") or DEFAULT_MAX_LENGTH
        if length > maximum:
            return field_error("validation_max_text_constraint", f"Must be no more than {maximum} character(s).", {"max": maximum})
        if field.get("pattern") and not re.search(field["pattern"], value):
            return field_error("validation_invalid_format", "Invalid value format.")
        return None
