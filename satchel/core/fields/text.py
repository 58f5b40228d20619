from __future__ import annotations

import json
import re
import secrets
from typing import Any

from ...errors import field_error
from ..go_regexp import GoRegexError, check, to_python
from .base import FieldType, Lookup, RecordLookup, required_error
from .casting import to_str
from .limits import MAX_SAFE_INT, range_error
from .regex_sample import sample

DEFAULT_MAX_LENGTH = 5000
DEFAULT_ID_PATTERN = "^[a-z0-9]+$"
_FORBIDDEN_KEY_CHARS = (".", "/", "\\", "|", '"', "'", "`", "<", ">", ":", "?", "*", "%", "$", "\0", "\t", "\n", "\r", " ")
_RESERVED_KEYS = frozenset({"CON", "PRN", "AUX", "NUL", *(f"{name}{n}" for name in ("COM", "LPT") for n in range(1, 10))})
_ID_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"
_TOKEN_ALPHABET = _ID_ALPHABET + "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def generate(pattern: str) -> str:
    """Values for the autogenerate patterns PocketBase itself uses (`[a-z0-9]{15}`, ...)."""
    m = re.fullmatch(r"\[(a-z0-9|a-zA-Z0-9)\]\{(\d+)\}", pattern)
    if not m:
        return ""
    alphabet = _ID_ALPHABET if m.group(1) == "a-z0-9" else _TOKEN_ALPHABET
    return "".join(secrets.choice(alphabet) for _ in range(int(m.group(2))))


def regex_error(pattern: Any) -> dict[str, Any] | None:
    """Go's parse error of a non-empty pattern, worded as the reference words it."""
    if not pattern:
        return None
    try:
        check(pattern)
    except GoRegexError as exc:
        text = str(exc)
        return field_error("validation_invalid_regex", text[0].upper() + text[1:] + ".")
    return None


class TextField(FieldType):
    name = "text"
    defaults = {"autogeneratePattern": "", "max": 0, "min": 0, "pattern": "", "primaryKey": False, "required": False}

    def prepare(self, value: Any, field: dict[str, Any]) -> str:
        return to_str(value)

    def validate_options(self, field: dict[str, Any], ctx: Lookup) -> dict[str, Any]:
        """The reference's rules, in its order; a primary key must be a required, visible `id` with a pattern."""
        key = bool(field.get("primaryKey"))
        found = {
            "name": field_error("validation_in_invalid", 'The primary key must be named "id".') if key and field.get("name") != "id" else None,
            "min": range_error(field.get("min"), 0, MAX_SAFE_INT),
            "max": range_error(field.get("max"), field.get("min") or 0, MAX_SAFE_INT),
            "pattern": required_error() if key and not field.get("pattern") else regex_error(field.get("pattern")),
            "hidden": field_error("validation_empty", "Must be blank.") if key and field.get("hidden") else None,
            "required": required_error() if key and not field.get("required") else None,
            "autogeneratePattern": regex_error(field.get("autogeneratePattern")) or self._autogenerate_error(field),
        }
        return {k: v for k, v in found.items() if v is not None}

    def _autogenerate_error(self, field: dict[str, Any]) -> dict[str, Any] | None:
        """Ten values drawn from the pattern must all pass the field's own checks."""
        if not field.get("autogeneratePattern"):
            return None
        for _ in range(10):
            value = sample(field["autogeneratePattern"])
            if value is None:
                return None
            if self._plain_error(value, field) is not None:
                example = json.dumps(value, ensure_ascii=False)  # Go's %q, near enough
                message = f"The provided autogenerate pattern could produce invalid field values, ex.: {example}."
                return field_error("validation_invalid_autogenerate_pattern_value", message)
        return None

    def _plain_error(self, value: str, field: dict[str, Any]) -> dict[str, Any] | None:
        if not value:
            return required_error() if field.get("required") or field.get("primaryKey") else None
        if regex_error(field.get("pattern")):  # Go matches nothing against a pattern it can't read
            return field_error("validation_invalid_format", "Invalid value format.")
        return length_or_format_error(value, field)

    def validate_value(self, value: str, field: dict[str, Any], ctx: RecordLookup) -> dict[str, Any] | None:
        return length_or_format_error(value, field)


def length_or_format_error(value: str, field: dict[str, Any]) -> dict[str, Any] | None:
    """A non-empty value's length and pattern checks, which need nothing from the records."""
    length = len(value)
    if field.get("min") and length < field["min"]:
        return field_error("validation_min_text_constraint", f"Must be at least {field['min']} character(s).", {"min": field["min"]})
    maximum = field.get("max") or DEFAULT_MAX_LENGTH
    if length > maximum:
        return field_error("validation_max_text_constraint", f"Must be no more than {maximum} character(s).", {"max": maximum})
    pattern = to_python(field["pattern"]) if field.get("pattern") else None
    if pattern is not None and not pattern.search(value):
        return field_error("validation_invalid_format", "Invalid value format.")
    if field.get("primaryKey") and field.get("pattern") != DEFAULT_ID_PATTERN:
        return _key_error(value)
    return None


def _key_error(value: str) -> dict[str, Any] | None:
    """A record id is often a file or directory name: the reference keeps out what a filesystem
    can't take, unless the id pattern is the default one (which can't produce them)."""
    for char in _FORBIDDEN_KEY_CHARS:
        if char in value:
            return field_error("validation_forbidden_pk_character", f"'{char}' is not a valid primary key character.", {"ch": char})
    if value.upper() in _RESERVED_KEYS:
        return field_error("validation_reserved_pk", f"The primary key '{value.upper()}' is reserved and cannot be used.", {"reserved": value.upper()})
    return None
