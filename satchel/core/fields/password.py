from __future__ import annotations

from typing import Any

import bcrypt

from ...errors import field_error
from ..go_regexp import to_python
from .base import FieldType, Lookup, RecordLookup
from .casting import to_str
from .limits import bounded
from .text import regex_error

BCRYPT_MAX_BYTES = 72
DEFAULT_COST = 10


def hash_password(plain: str, cost: int = 0) -> str:
    # "$2a$" is the prefix Go's bcrypt writes; the algorithm is the same as "$2b$".
    hashed = bcrypt.hashpw(plain.encode(), bcrypt.gensalt(rounds=cost or DEFAULT_COST)).decode()
    return "$2a$" + hashed[4:]


def check_password(plain: str, hashed: str) -> bool:
    if not hashed or not plain:
        return False
    try:
        return bcrypt.checkpw(plain.encode()[:BCRYPT_MAX_BYTES], hashed.encode())
    except ValueError:
        return False


class PasswordField(FieldType):
    """Holds the bcrypt hash; the plain text only lives for the request that sets it."""

    name = "password"
    defaults = {"cost": 0, "max": 0, "min": 0, "pattern": "", "required": False}

    def prepare(self, value: Any, field: dict[str, Any]) -> str:
        return to_str(value)

    def validate_options(self, field: dict[str, Any], ctx: Lookup) -> dict[str, Any]:
        """Lengths within bcrypt's 71 usable bytes, a cost bcrypt takes (4 to 31), a Go pattern."""
        errors = bounded(field, {"min": (1, 71), "max": (field.get("min") or 0, 71), "cost": (4, 31)})
        if error := regex_error(field.get("pattern")):
            errors["pattern"] = error
        return errors

    def validate_value(self, value: str, field: dict[str, Any], ctx: RecordLookup) -> dict[str, Any] | None:
        if field.get("min") and len(value) < field["min"]:
            return field_error("validation_min_text_constraint", f"Must be at least {field['min']} character(s).")
        maximum = field.get("max") or 71
        if len(value.encode()) > maximum:
            return field_error("validation_max_text_constraint", f"Must be no more than {maximum} character(s).", {"max": maximum})
        pattern = to_python(field["pattern"]) if field.get("pattern") else None
        if pattern is not None and not pattern.search(value):
            return field_error("validation_invalid_format", "Invalid value format.")
        return None

    def to_json(self, value: Any, field: dict[str, Any]) -> str:
        return ""
