"""PocketBase's stored values as Satchel stores them.

PocketBase keeps text, numbers, 0/1 booleans and JSON text in SQLite. Text (dates, password
hashes, tokenKeys, single select/relation/file values) and JSON fields are carried as they
are; numbers and booleans become the column's type; multiple values and geo points take the
form Satchel writes, which is PocketBase's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

from ..collection_model import Collection
from ..fields import MultiValueField, field_type
from ..fields.casting import to_bool, to_float

Convert = Callable[[Any], Any]


def _text(raw: Any) -> str:
    return "" if raw is None else str(raw)


def _json(raw: Any) -> str | None:
    return None if raw is None else str(raw)


def _list_of(field: dict[str, Any], ftype: MultiValueField) -> Convert:
    def convert(raw: Any) -> Any:
        # The common case, a JSON list of distinct names, straight through orjson; the rest the field's way.
        if isinstance(raw, str) and raw.startswith("["):
            try:
                items = orjson.loads(raw)
            except orjson.JSONDecodeError:
                items = None
            if isinstance(items, list) and all(isinstance(i, str) and i for i in items) and len(set(items)) == len(items):
                return orjson.dumps(items).decode()
        return ftype.to_db(ftype.from_db(raw, field), field)

    return convert


def converter(field: dict[str, Any]) -> Convert:
    """How one PocketBase column value becomes the value of Satchel's column for `field`."""
    ftype = field_type(field)
    kind = ftype.column_kind(field)
    if field["type"] == "json":
        return _json
    if isinstance(ftype, MultiValueField) and ftype.is_multiple(field):
        return _list_of(field, ftype)
    if field["type"] == "geoPoint" or isinstance(ftype, MultiValueField):
        return lambda raw: ftype.to_db(ftype.from_db(raw, field), field)
    if kind == "number":
        return to_float
    if kind == "bool":
        return to_bool
    return _text


class RowConverter:
    """A PocketBase row of one collection as the row Satchel stores: one column per field, by name."""

    def __init__(self, collection: Collection) -> None:
        self.collection = collection
        self.columns = [(f["name"], converter(f)) for f in collection.fields]
        self.files = [(f["name"], f, field_type(f)) for f in collection.file_fields()]

    def __call__(self, raw: dict[str, Any]) -> dict[str, Any]:
        return {name: convert(_decoded(raw.get(name))) for name, convert in self.columns}

    def file_names(self, row: dict[str, Any]) -> list[str]:
        """The file names a converted row's file fields hold."""
        names: list[str] = []
        for name, field, ftype in self.files:
            assert isinstance(ftype, MultiValueField)
            names.extend(n for n in ftype.as_list(ftype.from_db(row[name], field)) if n)
        return names


def _decoded(raw: Any) -> Any:
    return raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
