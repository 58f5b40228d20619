from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from ...errors import field_error
from .base import FieldType, Lookup, RecordLookup
from .casting import to_str
from .email import domain_allowed
from .limits import domain_errors


class UrlField(FieldType):
    name = "url"
    defaults = {"exceptDomains": [], "onlyDomains": [], "required": False}

    def validate_options(self, field: dict[str, Any], ctx: Lookup) -> dict[str, Any]:
        return domain_errors(field)

    def prepare(self, value: Any, field: dict[str, Any]) -> str:
        return to_str(value).strip()

    def validate_value(self, value: str, field: dict[str, Any], ctx: RecordLookup) -> dict[str, Any] | None:
        try:
            parts = urlsplit(value)
        except ValueError:
            parts = None
        if not parts or not parts.scheme or not parts.hostname or any(c.isspace() for c in value):
            return field_error("validation_invalid_url", "Must be a valid url.")
        if not domain_allowed(parts.netloc.rpartition("@")[2], field):  # Go's url.Host: the port stays
            return field_error("validation_url_domain_not_allowed", "Url domain is not allowed.")
        return None
