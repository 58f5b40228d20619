from __future__ import annotations

import re
from typing import Any

from ...api.errors import field_error
from .base import FieldType
from .casting import to_str

# The shape ozzo-validation's is.EmailFormat accepts, without a DNS lookup.
_EMAIL = re.compile(r"^[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$")


def domain_allowed(domain: str, field: dict[str, Any]) -> bool:
    domain = domain.lower()
    only = [d.lower() for d in field.get("onlyDomains") or []]
    excluded = [d.lower() for d in field.get("exceptDomains") or []]
    return (not only or domain in only) and domain not in excluded


class EmailField(FieldType):
    name = "email"
    defaults = {"exceptDomains": [], "onlyDomains": [], "required": False}

    def prepare(self, value: Any, field: dict[str, Any]) -> str:
        return to_str(value).strip()

    def validate_value(self, value: str, field: dict[str, Any], ctx: Any) -> dict[str, Any] | None:
        if len(value) > 254 or not _EMAIL.match(value):
            return field_error("validation_is_email", "Must be a valid email address.")
        if not domain_allowed(value.rsplit("@", 1)[1], field):
            return field_error("validation_email_domain_not_allowed", "Email domain is not allowed.")
        return None
