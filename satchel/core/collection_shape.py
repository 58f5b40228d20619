"""The JSON types a collection body must have before it is read at all.

The reference decodes the body into typed Go structs, so a value of the wrong JSON type
(`"maxSelect": "x"`, `"name": 5`, a field without a type) is its "invalid formatting" 400
before any validation; `null` leaves the default. The expected types come from the option
defaults: a bool, a whole number (Go's int: no fraction, within 64 bits), text, a list of
text, or an object checked the same way. A `None` default is a number that may be null.
"""

from __future__ import annotations

import functools
from typing import Any

from ..errors import bad_request
from .auth_defaults import AUTH_DEFAULTS, PROVIDER_DEFAULTS, TOKEN_OPTIONS
from .collection_model import AUTH_RULES, RULES
from .fields import FIELD_TYPES

INVALID = "Failed to load the submitted data due to invalid formatting."
INVALID_TYPE = "Failed to load the collection type data due to invalid formatting."
INT64 = 1 << 63


def fits(value: Any, template: Any) -> bool:
    """Whether Go would decode `value` into a Go value shaped like `template`."""
    if value is None:
        return True
    if isinstance(template, bool):
        return isinstance(value, bool)
    if template is None or isinstance(template, float):
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if isinstance(template, int):
        return isinstance(value, int) and not isinstance(value, bool) and -INT64 <= value < INT64
    if isinstance(template, str):
        return isinstance(value, str)
    if isinstance(template, list):
        item = template[0] if template else ""
        return isinstance(value, list) and all(fits(v, item) for v in value)
    if isinstance(template, dict):
        return isinstance(value, dict) and all(fits(value[k], t) for k, t in template.items() if k in value)
    return True


@functools.cache
def _collection() -> dict[str, Any]:
    """The collection's own options, as templates."""

    return {
        "id": "", "system": False, "indexes": [""], "viewQuery": "", **dict.fromkeys(RULES + AUTH_RULES, ""),
        **AUTH_DEFAULTS, "oauth2": {**AUTH_DEFAULTS["oauth2"], "providers": [{**PROVIDER_DEFAULTS, "pkce": False}]},
        **{name: {"duration": 0, "secret": ""} for name in TOKEN_OPTIONS},
    }


def check_body(body: dict[str, Any]) -> None:
    """Refuse a collection body the reference could not decode (400), before anything reads it."""
    if not all(isinstance(body.get(k), (str, type(None))) for k in ("name", "type")):
        raise bad_request(INVALID_TYPE)
    if not fits(body, _collection()):
        raise bad_request(INVALID)
    fields = body.get("fields")
    if fields is None:
        return
    if not isinstance(fields, list):
        raise bad_request(INVALID)
    for field in fields:
        kind = field.get("type") if isinstance(field, dict) else None
        ftype = FIELD_TYPES.get(kind) if isinstance(kind, str) else None
        if ftype is None or not fits(field, {"id": "", "name": "", **ftype.common, **ftype.defaults}):
            raise bad_request(INVALID)
