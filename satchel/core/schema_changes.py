"""Collection changes, each checked against the stored schema under the schema lock.

`Satchel.change_schema` runs them after every earlier change has committed, on whichever
instance it was made, and hands them the schema as stored, never a cached copy. So two
superusers editing one collection at once both succeed one after the other: the last writer
wins as in PocketBase (a PATCH carries the whole field list), and the table always matches
the stored definition. Every update and delete rebuilds the view collections over the new
schema (views.py), so a change a view can't survive is refused.
"""

from __future__ import annotations

from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ..db import store
from ..db.tables import table_exists
from ..db.views import error_message
from ..errors import ApiError, bad_request, field_error, not_found
from . import record_refs, schema, views
from .collection_model import Collection
from .collections import new_collection, updated_collection, view_query
from .record_delete import references
from .schema import Schema
from .state import SETTINGS_KEY, stored_settings

UPDATE_REFUSED = "Failed to update collection. Raw error: \n[{view}] {error}."
DELETE_REFUSED = "Failed to delete collection."


def create(conn: Connection, stored: Schema, body: dict[str, Any]) -> Collection:
    query = view_query(body)
    view = views.infer(conn, stored, query) if query is not None else None
    collection = new_collection(body, stored, view=view)
    _check_free_name(conn, stored, collection, "Failed to create collection.")
    try:
        schema.create_collection(conn, collection, view.select if view else "")
    except sa.exc.SQLAlchemyError as exc:  # e.g. a name the database keeps for itself (sqlite_*)
        raise bad_request(f"Failed to create collection. Raw error: \n{error_message(exc)}.") from None
    return collection


def update(conn: Connection, stored: Schema, id_or_name: str, body: dict[str, Any]) -> Collection:
    current = _find(stored, id_or_name)
    query = view_query(body, current)
    view = views.infer(conn, stored, query) if query is not None else None
    collection = updated_collection(current, body, stored, view=view)
    if collection.name.lower() != current.name.lower():
        _check_free_name(conn, stored, collection, "Failed to update collection.")
    others = views.drop_others(conn, stored, current)
    schema.update_collection(conn, current, collection, view.select if view else "")
    views.rebuild(conn, stored.replaced(collection), others, UPDATE_REFUSED)
    if collection.name != current.name:
        _rename_rate_limit_labels(conn, current.name, collection.name)
    return collection


def _rename_rate_limit_labels(conn: Connection, old: str, new: str) -> None:
    """Rate-limit rules named `old:action` follow the collection to `new:action`, as in the reference."""
    settings = stored_settings(conn)
    rules = settings["rateLimits"]["rules"]
    renamed = [{**r, "label": new + ":" + r["label"][len(old) + 1 :]} if r["label"].startswith(old + ":") else r for r in rules]
    if renamed != rules:
        settings["rateLimits"]["rules"] = renamed
        store.set_param(conn, SETTINGS_KEY, orjson.dumps(settings).decode())


def delete(conn: Connection, stored: Schema, id_or_name: str) -> Collection:
    collection = _find(stored, id_or_name)
    # A relation elsewhere would point into a dropped table: refused, as PocketBase does.
    referencing = sorted({c.name for c, _ in references(stored, collection) if c.id != collection.id})
    if collection.data.get("system") or referencing:
        reason = f" probably due to existing reference in {', '.join(referencing)}" if referencing else ""
        raise bad_request(f"Failed to delete collection{reason}.")
    for internal, rows in record_refs.owned_rows(conn, stored, collection):
        store.delete_records(conn, stored.table(internal), [row["id"] for row in rows])
    others = views.drop_others(conn, stored, collection)
    schema.delete_collection(conn, collection)
    views.rebuild(conn, Schema([c for c in stored.all() if c.id != collection.id]), others, DELETE_REFUSED)
    return collection


def _check_free_name(conn: Connection, stored: Schema, collection: Collection, failed: str) -> None:
    """A name that is no collection's may still be a table of Satchel's own: refused, as the reference does."""
    if stored.find_collection(collection.name) is None and table_exists(conn, collection.name):
        raise ApiError(400, failed, {"name": field_error(
            "validation_collection_name_invalid", "The name shouldn't match with an existing internal table.")})


def _find(stored: Schema, id_or_name: str) -> Collection:
    found = stored.find_collection(id_or_name)
    if found is None:  # deleted by another superuser since this request looked
        raise not_found()
    return found
