"""The reference's range checks on field options (ozzo-validation's Min/Max and is.Domain).

Its threshold rules skip a zero value, so `max: 0` means "no limit" and is never out of range;
the error names the bound it broke as `threshold`.
"""

from __future__ import annotations

import re
from typing import Any

from ...errors import field_error

MAX_SAFE_INT = 2**53 - 1
# ozzo's pattern as it is, stray space before "xn--" included: a punycode top-level domain is refused.
_DOMAIN = re.compile(r"(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-z0-9])?\.)+(?:[a-zA-Z]{1,63}| xn--[a-z0-9]{1,59})")


def range_error(value: Any, low: int | None = 0, high: int | None = MAX_SAFE_INT) -> dict[str, Any] | None:
    """The first bound a non-zero whole number breaks, as ozzo's Min(low) then Max(high) say it."""
    if not value:
        return None
    if low is not None and value < low:
        return field_error("validation_min_greater_equal_than_required", f"Must be no less than {low}.", {"threshold": low})
    if high is not None and value > high:
        return field_error("validation_max_less_equal_than_required", f"Must be no greater than {high}.", {"threshold": high})
    return None


def bounded(field: dict[str, Any], limits: dict[str, tuple[int | None, int | None]]) -> dict[str, Any]:
    """Errors of the options named in `limits`, each against its (low, high)."""
    errors = {}
    for key, (low, high) in limits.items():
        if error := range_error(field.get(key), low, high):
            errors[key] = error
    return errors


def domain_errors(field: dict[str, Any]) -> dict[str, Any]:
    """exceptDomains and onlyDomains: one of them at most, each item a domain name."""
    only, excepted = field.get("onlyDomains") or [], field.get("exceptDomains") or []
    if only and excepted:
        blank = field_error("validation_empty", "Must be blank.")
        return {"exceptDomains": blank, "onlyDomains": blank}
    errors = {}
    for key, names in (("exceptDomains", excepted), ("onlyDomains", only)):
        bad = {str(i): field_error("validation_is_domain", "Must be a valid domain.") for i, name in enumerate(names) if name and not _is_domain(name)}
        if bad:
            errors[key] = bad
    return errors


def _is_domain(name: str) -> bool:
    return len(name) <= 255 and _DOMAIN.fullmatch(name) is not None
