"""PocketBase's stored values as Satchel stores them.

PocketBase keeps text, numbers, 0/1 booleans and JSON text in SQLite. Text (dates, password
hashes, tokenKeys, single select/relation/file values) and JSON fields are carried as they
are; numbers and booleans become the column's type; multiple values and geo points take the
form Satchel writes, which is PocketBase's.
"""

from __future__ import annotations

from typing import Any

from ..collection_model import Collection
from ..fields import MultiValueField, field_type
from ..fields.casting import to_bool, to_float


def column_value(field: dict[str, Any], raw: Any) -> Any:
    """One PocketBase column value as Satchel's column for `field` holds it."""
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8", "replace")
    ftype = field_type(field)
    kind = ftype.column_kind(field)
    if field["type"] == "json":
        return None if raw is None else str(raw)
    if field["type"] == "geoPoint" or isinstance(ftype, MultiValueField):
        return ftype.to_db(ftype.from_db(raw, field), field)
    if kind == "number":
        return to_float(raw)
    if kind == "bool":
        return to_bool(raw)
    return "" if raw is None else str(raw)


def record_row(collection: Collection, raw: dict[str, Any]) -> dict[str, Any]:
    """A PocketBase row as the row Satchel stores: one column per field, by name."""
    return {f["name"]: column_value(f, raw.get(f["name"])) for f in collection.fields}


def file_names(collection: Collection, row: dict[str, Any]) -> list[str]:
    """The file names a (converted) row's file fields hold."""
    names: list[str] = []
    for field in collection.file_fields():
        ftype = field_type(field)
        assert isinstance(ftype, MultiValueField)
        names.extend(n for n in ftype.as_list(ftype.from_db(row[field["name"]], field)) if n)
    return names
