"""Collection changes, each checked against the stored schema under the schema lock.

`Satchel.change_schema` runs them after every earlier change has committed, on whichever
instance it was made, and hands them the schema as stored, never a cached copy. So two
superusers editing one collection at once both succeed one after the other: the last writer
wins as in PocketBase (a PATCH carries the whole field list), and the table always matches
the stored definition.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Connection

from ..db import store
from ..errors import bad_request, not_found
from . import record_refs, schema
from .collection_model import Collection
from .collections import new_collection, updated_collection
from .record_delete import references
from .schema import Schema


def create(conn: Connection, stored: Schema, body: dict[str, Any]) -> Collection:
    collection = new_collection(body, stored)
    schema.create_collection(conn, collection)
    return collection


def update(conn: Connection, stored: Schema, id_or_name: str, body: dict[str, Any]) -> Collection:
    current = _find(stored, id_or_name)
    collection = updated_collection(current, body, stored)
    schema.update_collection(conn, current, collection)
    return collection


def delete(conn: Connection, stored: Schema, id_or_name: str) -> Collection:
    collection = _find(stored, id_or_name)
    # A relation elsewhere would point into a dropped table: refused, as PocketBase does.
    referencing = sorted({c.name for c, _ in references(stored, collection) if c.id != collection.id})
    if collection.data.get("system") or referencing:
        reason = f" probably due to existing reference in {', '.join(referencing)}" if referencing else ""
        raise bad_request(f"Failed to delete collection{reason}.")
    for internal, rows in record_refs.owned_rows(conn, stored, collection):
        store.delete_records(conn, stored.table(internal), [row["id"] for row in rows])
    schema.delete_collection(conn, collection)
    return collection


def _find(stored: Schema, id_or_name: str) -> Collection:
    found = stored.find_collection(id_or_name)
    if found is None:  # deleted by another superuser since this request looked
        raise not_found()
    return found
