"""What the import changes in Satchel's database besides records: collections and settings."""

from __future__ import annotations

import copy
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ..collection_model import Collection
from ..schema import Schema, create_collection, delete_collection, update_collection
from ..state import DEFAULT_SETTINGS


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
    Satchel's first start made); an empty one in the way under the same name goes. Returns the
    names of the target's own collections left as they were."""
    wanted = {c.id for c in collections}
    for collection in collections:
        other = stored.by_name.get(collection.name.lower())
        if other is not None and other.id != collection.id:  # empty: clashes() stopped the rest
            delete_collection(conn, other)
        old = stored.by_id.get(collection.id)
        if old is None:
            create_collection(conn, collection)
        elif old.data != collection.data:
            update_collection(conn, old, Collection(copy.deepcopy(collection.data)))
    return [c.name for c in stored.all() if c.id not in wanted and not _replaced(c, collections)]


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
