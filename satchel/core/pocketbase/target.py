"""What the import changes in Satchel's database besides records: collections and settings."""

from __future__ import annotations

import copy
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ...db.views import drop_view
from .. import views
from ..collection_model import Collection
from ..schema import Schema, create_collection, delete_collection, update_collection
from ..state import DEFAULT_SETTINGS


class ImportRefused(Exception):
    """The data directory holds something Satchel can't carry; nothing was written."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def clashes(conn: Connection, stored: Schema, collections: list[Collection]) -> list[str]:
    """Collections of the target that hold records under a name PocketBase gives another
    collection: replacing them would lose data, so the import stops."""
    problems = []
    for collection in collections:
        other = stored.by_name.get(collection.name.lower())
        if other is not None and other.id != collection.id:
            rows = conn.execute(sa.select(sa.func.count()).select_from(stored.table(other))).scalar_one()
            if rows:
                problems.append(
                    f"Satchel's database already has a collection {other.name!r} (id {other.id}) with {rows} records, "
                    f"and PocketBase's {collection.name!r} has another id ({collection.id}): import into a fresh Satchel database"
                )
    return problems


def apply_collections(conn: Connection, stored: Schema, collections: list[Collection]) -> list[str]:
    """Make each collection exactly PocketBase's (created, or migrated from what an earlier run or
    Satchel's first start made); an empty one in the way under the same name goes. Views come
    after the tables, each made from its query in this database's dialect: one that can't run
    here refuses the import, named (every SQL view is dropped first, as a table can't change
    under one, and the target's own views are built again at the end). Returns the names of
    the target's own collections left as they were."""
    wanted = {c.id for c in collections}
    for stored_view in (c for c in stored.all() if c.is_view):
        drop_view(conn, stored_view.name)
    schema = stored
    for collection in sorted(collections, key=lambda c: c.is_view):  # the sort keeps PocketBase's order otherwise
        other = schema.by_name.get(collection.name.lower())
        if other is not None and other.id != collection.id:  # empty: clashes() stopped the rest
            delete_collection(conn, other)
            schema = Schema([c for c in schema.all() if c.id != other.id])
        select = _view_select(conn, schema, collection) if collection.is_view else ""
        old = stored.by_id.get(collection.id)
        if old is None:
            create_collection(conn, collection, select)
        elif old.data != collection.data or collection.is_view:
            update_collection(conn, old, Collection(copy.deepcopy(collection.data)), select)
        schema = schema.replaced(collection)
    views.rebuild(conn, schema, [c for c in stored.all() if c.is_view and c.id not in wanted], None)
    return [c.name for c in stored.all() if c.id not in wanted and not _replaced(c, collections)]


def _view_select(conn: Connection, schema: Schema, view: Collection) -> str:
    """The SELECT a PocketBase view's SQL view is made from here; a query this database can't
    run (PocketBase's is SQLite SQL) refuses the import."""
    found = views.infer(conn, schema, view.data.get("viewQuery") or "")
    if found.error is not None:
        raise ImportRefused([
            f"view collection {view.name!r}: its query does not run on this {conn.dialect.name} database "
            f"({found.error}); change it in PocketBase to SQL both databases read, or drop the view, then import again"
        ])
    return found.select


def _replaced(collection: Collection, collections: list[Collection]) -> bool:
    return any(c.name.lower() == collection.name.lower() for c in collections)


def merged_settings(pocketbase: dict[str, Any], current: dict[str, Any]) -> tuple[dict[str, Any], list[str], list[str]]:
    """The settings to store: PocketBase's blocks over the current ones, except where this Satchel
    already keeps its files or backups on S3 of its own (that is where it lives). Returns the
    settings, the blocks taken and the blocks Satchel has no use for."""
    out = copy.deepcopy(current)
    taken = [key for key in pocketbase if key in DEFAULT_SETTINGS]
    unknown = [key for key in pocketbase if key not in DEFAULT_SETTINGS]
    for key in taken:
        value = pocketbase[key]
        out[key] = {**DEFAULT_SETTINGS[key], **value} if isinstance(value, dict) and isinstance(DEFAULT_SETTINGS[key], dict) else value
    if current["s3"].get("enabled"):
        out["s3"] = current["s3"]
    if (current["backups"].get("s3") or {}).get("enabled"):
        out["backups"] = {**out["backups"], "s3": current["backups"]["s3"]}
    return out, taken, unknown
