"""Relation values that name records which no longer exist: finding them, and the repair.

A Satchel before stop 16 deleted records without settling the relations that named them
(record_delete.py does that now, as PocketBase does). A database it wrote may still hold such
ids, and a rule like `owner = @request.auth.id` then lets whoever signs up with a dangling id
(ids may be chosen) into the old owner's records. `satchel repair-relations` lists them and,
asked to, does what PocketBase's delete would have done where that is an edit of the value:
- the relation keeps its other ids, or is neither required nor cascading: the missing ids go;
- it would be left empty and cascades: PocketBase would have deleted the record (and, through
  it, more); deleting records now, maybe long after they were last edited, is the operator's
  call, so it is only reported;
- it would be left empty and is required: PocketBase would have refused the delete, a state
  that can't be reached any more: reported, for the operator to settle.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ..db import store
from .collection_model import Collection
from .fields import MultiValueField, field_type_as
from .record_delete import CASCADE, DROP, REQUIRED, settling, unlinked
from .schema import Schema

BATCH = 4000  # rows read at once

__all__ = ["CASCADE", "DROP", "REQUIRED", "Dangling", "find", "repair"]


@dataclass(frozen=True)
class Dangling:
    """One record's relation field naming records that don't exist."""

    collection: str
    record: str
    field: str
    missing: tuple[str, ...]
    kept: tuple[str, ...]
    action: str  # DROP: the repair takes the ids out; CASCADE, REQUIRED: reported only


def find(conn: Connection, schema: Schema) -> list[Dangling]:
    """Every dangling relation value, by collection name, field order and record id."""
    return [found for collection, field in _relation_fields(schema) for found in _in_field(conn, schema, collection, field)]


def repair(conn: Connection, schema: Schema) -> list[Dangling]:
    """Find them and take the missing ids out where PocketBase's delete would have (DROP);
    run it in one write transaction. Returns everything found, repaired or not."""
    found = find(conn, schema)
    for dangling in found:
        if dangling.action != DROP:
            continue
        collection = schema.find_collection(dangling.collection)
        assert collection is not None
        field = next(f for f in collection.fields if f["name"] == dangling.field)
        store.update_record(conn, schema.table(collection), dangling.record, unlinked(collection, field, list(dangling.kept)))
    return found


def _relation_fields(schema: Schema) -> Iterator[tuple[Collection, dict[str, Any]]]:
    for collection in sorted(schema.all(), key=lambda c: c.name):
        if collection.is_view:  # a view's relations are its sources' own
            continue
        for field in collection.fields:
            if field["type"] == "relation":
                yield collection, field


def _in_field(conn: Connection, schema: Schema, collection: Collection, field: dict[str, Any]) -> Iterator[Dangling]:
    target = schema.find_collection(field.get("collectionId") or "")
    target_table = schema.table(target) if target is not None and target.id == field.get("collectionId") else None
    table = schema.table(collection)
    column = table.c[field["name"]]
    ftype = field_type_as(field, MultiValueField)
    after = ""
    while True:  # by id, a batch at a time: a big table is never read whole
        query = sa.select(table.c.id, column).where(table.c.id > after, column.is_not(None), column.not_in(["", "[]"]))
        rows = conn.execute(query.order_by(table.c.id).limit(BATCH)).all()
        if not rows:
            return
        after = rows[-1][0]
        values = {record_id: ftype.as_list(value) for record_id, value in rows}
        existing = _existing(conn, target_table, sorted({i for ids in values.values() for i in ids}))
        for record_id, ids in values.items():
            missing = tuple(i for i in ids if i not in existing)
            if missing:
                kept = tuple(i for i in ids if i in existing)
                yield Dangling(collection.name, record_id, field["name"], missing, kept, settling(field, kept))


def _existing(conn: Connection, table: sa.Table | None, ids: list[str]) -> set[str]:
    """Which of `ids` are rows of `table` (None: the target collection itself is gone)."""
    if table is None:
        return set()
    return {found for start in range(0, len(ids), BATCH) for found in store.select_columns(conn, table, [], ids[start : start + BATCH])}

