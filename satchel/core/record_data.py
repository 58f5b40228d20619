"""Turning a submitted body into field values: modifiers (`n+`, `tags-`, `+files`) and casts.

PocketBase applies plain keys first and modifier keys after them, shortest key first.
"""

from __future__ import annotations

from typing import Any

from .collection_model import Collection
from .fields import MultiValueField, field_type
from .fields.casting import to_float, to_str_list

# Fields a client never sets through the records API.
READONLY = {"tokenKey"}


def split_key(key: str) -> tuple[str, str]:
    """("name", modifier) where modifier is "", "+" (append), "^" (prepend) or "-" (remove)."""
    if key.startswith("+"):
        return key[1:], "^"
    if key.endswith("+"):
        return key[:-1], "+"
    if key.endswith("-"):
        return key[:-1], "-"
    return key, ""


def takes_modifier(field: dict[str, Any], modifier: str) -> bool:
    """Whether the field has a setter for `name+`, `+name` or `name-` (else the key names no
    field, as in the reference): numbers add and subtract, select, relation and file fields all three."""
    if field["type"] == "number":
        return modifier in ("+", "-")
    return isinstance(field_type(field), MultiValueField)


def apply_modifier(field: dict[str, Any], current: Any, modifier: str, value: Any) -> Any:
    ftype = field_type(field)
    if field["type"] == "number":
        delta = to_float(value)
        return to_float(current) + (delta if modifier == "+" else -delta)
    assert isinstance(ftype, MultiValueField), "callers ask takes_modifier first"
    old = to_str_list(current)
    if modifier == "-":
        drop = set(to_str_list(value))
        return ftype.shape([v for v in old if v not in drop], field)
    new = to_str_list(value)
    merged = old + new if modifier == "+" else new + old
    return ftype.prepare(merged, field)


def apply_body(
    collection: Collection,
    values: dict[str, Any],
    body: dict[str, Any],
    is_superuser: bool,
) -> set[str]:
    """Apply body keys onto `values` in place; return the names of the fields that were set."""
    touched: set[str] = set()
    for key in sorted(body, key=len):
        name, modifier = split_key(key)
        field = collection.field(name)
        if field is None or name in READONLY or field["type"] in ("autodate", "file") or modifier and not takes_modifier(field, modifier):
            continue
        if field.get("hidden") and not is_superuser and field["type"] != "password":
            continue
        if modifier:
            values[name] = apply_modifier(field, values.get(name), modifier, body[key])
        else:
            values[name] = field_type(field).prepare(body[key], field)
        touched.add(name)
    return touched
