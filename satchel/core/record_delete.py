"""Deleting a record, and what that does to the records whose relations point at it.

PocketBase's rules, all in the delete's one transaction: a relation drops the deleted id
(single → "", multiple → the id taken out of the list); a relation left empty whose field
has `cascadeDelete` deletes its record too (recursively, through the same rules); a
required relation left empty refuses the whole delete. Without this a deleted user's
records would pass to whoever signs up next with the same id.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ..db import store
from ..errors import bad_request
from ..storage import keys
from .collection_model import Collection
from .fields import field_type
from .fields.date import now
from .schema import Schema
from .state import Satchel

log = logging.getLogger("satchel.records")

REQUIRED_REFERENCE = "Failed to delete record. Make sure that the record is not part of a required relation reference."
BATCH = 4000  # referencing rows read at once, as PocketBase does

Deleted = tuple[Collection, str]


def references(schema: Schema, target: Collection) -> list[tuple[Collection, dict[str, Any]]]:
    """Every relation field pointing at `target` (its own included), by collection name then field order."""
    return [
        (collection, field)
        for collection in sorted(schema.all(), key=lambda c: c.name)
        for field in collection.fields
        if field["type"] == "relation" and field.get("collectionId") == target.id
    ]


def delete_cascading(conn: Connection, schema: Schema, collection: Collection, record_id: str) -> list[Deleted]:
    """Delete a record and settle its references; returns every record deleted.

    The walk is PocketBase's recursion (a referencing record is deleted, with everything
    that follows from it, before the next one is looked at), run on an explicit stack so
    that a long chain can't exhaust Python's."""
    deleted: list[Deleted] = []
    stack = [_delete_one(conn, schema, collection, record_id, deleted)]
    while stack:
        child = next(stack[-1], None)
        if child is None:
            stack.pop()
        else:
            stack.append(_delete_one(conn, schema, *child, deleted))
    return deleted


def _delete_one(conn: Connection, schema: Schema, collection: Collection, record_id: str, deleted: list[Deleted]) -> Iterator[Deleted]:
    """Delete one row, then settle each reference to it; yields each referencing record to delete in turn.

    The row goes first, so a cycle of cascades finds nothing left to come back to."""
    store.delete_record(conn, schema.table(collection), record_id)
    deleted.append((collection, record_id))
    for ref_collection, field in references(schema, collection):
        table = schema.table(ref_collection)
        multiple = field_type(field).is_multiple(field)
        while True:
            rows = store.select_referencing(conn, table, field["name"], record_id, multiple, BATCH)
            stale = False
            for row in rows:
                if stale:  # a cascade since the batch was read may have changed or deleted this row
                    row = store.select_record(conn, table, row["id"])
                    if row is None:
                        continue
                ids = [i for i in field_type(field).as_list(row[field["name"]]) if i != record_id]
                if field.get("cascadeDelete") and not ids:
                    yield ref_collection, row["id"]
                    stale = True
                elif field.get("required") and not ids:
                    raise bad_request(REQUIRED_REFERENCE)
                else:
                    store.update_record(conn, table, row["id"], _unlinked(ref_collection, field, ids))
            if len(rows) < BATCH:
                break


def _unlinked(collection: Collection, field: dict[str, Any], ids: list[str]) -> dict[str, Any]:
    """The columns a reference update writes: the relation without the id, and the update stamps.

    Saved without validation, as PocketBase does: another relation of the record may still
    name a record deleted earlier in this same transaction."""
    ftype = field_type(field)
    values = {field["name"]: ftype.to_db(ftype.shape(ids, field), field)}
    stamp = now()
    for other in collection.fields:
        if other["type"] == "autodate" and other.get("onUpdate"):
            values[other["name"]] = field_type(other).to_db(stamp, other)
    return values


async def delete(sat: Satchel, collection: Collection, record_id: str) -> None:
    """Delete in one transaction, then remove the files of every record that went (orphans at worst)."""
    try:
        deleted = await sat.db.write(delete_cascading, sat.schema, collection, record_id)
    except sa.exc.SQLAlchemyError as exc:  # e.g. a deadlock with another instance: PocketBase's one answer
        log.warning("record delete failed: %s", exc)
        raise bad_request(REQUIRED_REFERENCE) from exc
    for owner, gone_id in deleted:
        if not owner.file_fields():
            continue
        try:
            await sat.storage().delete_prefix(keys.record_prefix(owner.id, gone_id))
        except Exception:  # noqa: BLE001 - the rows are gone; leftover files are orphans, not lost data
            log.warning("could not delete the files of %s/%s", owner.id, gone_id, exc_info=True)
