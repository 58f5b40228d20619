from __future__ import annotations

from typing import Any

from ...errors import field_error
from ..email_format import is_email_format
from .base import FieldType, Lookup, RecordLookup
from .casting import to_str
from .limits import domain_errors


def domain_allowed(domain: str, field: dict[str, Any]) -> bool:
    """Exact, case-sensitive matches, as the reference compares them."""
    only = field.get("onlyDomains") or []
    return (not only or domain in only) and domain not in (field.get("exceptDomains") or [])


class EmailField(FieldType):
    name = "email"
    defaults = {"exceptDomains": [], "onlyDomains": [], "required": False}

    def validate_options(self, field: dict[str, Any], ctx: Lookup) -> dict[str, Any]:
        return domain_errors(field)

    def prepare(self, value: Any, field: dict[str, Any]) -> str:
        return to_str(value).strip()

    def validate_value(self, value: str, field: dict[str, Any], ctx: RecordLookup) -> dict[str, Any] | None:
        if not is_email_format(value):
            return field_error("validation_is_email", "Must be a valid email address.")
        if not domain_allowed(value.rsplit("@", 1)[1], field):
            return field_error("validation_email_domain_not_allowed", "Email domain is not allowed.")
        return None
