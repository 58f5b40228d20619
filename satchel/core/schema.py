"""The collections every process knows, and the DDL that keeps their tables in step.

Each process caches the collections and their Table objects in a Schema, replaced whole
when the schema version moves (db/versions.py, Satchel.refresh).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ..db import store, tables
from ..db.indexes import create_index
from ..db.views import create_view, drop_view
from .collection_model import Collection, listing_order
from .fields import field_type


def columns(collection: Collection) -> list[tuple[str, str, Any]]:
    return [
        (f["name"], field_type(f).column_kind(f), field_type(f).column_default(f))
        for f in collection.fields
    ]


def table_for(collection: Collection) -> sa.Table:
    return tables.record_table(collection.name, columns(collection))


class Schema:
    """Every collection by id and by name, with its Table, as of schema `version` (-1: none yet)."""

    def __init__(self, collections: Sequence[Collection] = (), version: int = -1) -> None:
        self.version = version
        self.by_id: dict[str, Collection] = {c.id: c for c in collections}
        self.by_name: dict[str, Collection] = {c.name.lower(): c for c in collections}
        self.tables: dict[str, sa.Table] = {c.id: table_for(c) for c in collections}

    @classmethod
    def load_sync(cls, conn: Connection, version: int) -> Schema:
        stored = sorted(store.load_collections(conn), key=listing_order)  # stable: the rest stay in creation order
        return cls([Collection(data) for data in stored], version)

    def find_collection(self, id_or_name: str) -> Collection | None:
        return self.by_id.get(id_or_name) or self.by_name.get(id_or_name.lower())

    def table(self, collection: Collection) -> sa.Table:
        return self.tables[collection.id]

    def all(self) -> list[Collection]:
        return list(self.by_id.values())

    def replaced(self, collection: Collection) -> Schema:
        """This schema with `collection` in place of the one with its id (added if new)."""
        return Schema([*(c for c in self.all() if c.id != collection.id), collection], self.version)


def create_collection(conn: Connection, collection: Collection, view_select: str = "") -> None:
    """Store the collection and make its table (a view: its SQL view, from `view_select`)."""
    store.save_collection(conn, collection.data, is_new=True)
    if collection.is_view:
        create_view(conn, collection.name, view_select)
    else:
        tables.create_record_table(conn, table_for(collection), collection.data["indexes"])


def update_collection(conn: Connection, old: Collection, new: Collection, view_select: str = "") -> None:
    """Migrate the collection's table: rename it, then drop, rename and add columns by field id
    (a view's SQL view is made again from `view_select`)."""
    if new.is_view:
        drop_view(conn, old.name)
        create_view(conn, new.name, view_select)
        store.save_collection(conn, new.data, is_new=False)
        return
    if old.name != new.name:
        tables.rename_table(conn, old.name, new.name)
        new.data["indexes"] = [i.replace(f"`{old.name}`", f"`{new.name}`") for i in new.data["indexes"]]
    old_fields = {f["id"]: f for f in old.fields}
    new_ids = {f["id"] for f in new.fields}
    for field in old.fields:
        if field["id"] not in new_ids:
            tables.drop_column(conn, new.name, field["name"])
    for field in new.fields:
        before = old_fields.get(field["id"])
        kind = field_type(field).column_kind(field)
        if before is None:
            tables.add_column(conn, new.name, field["name"], kind, field_type(field).column_default(field))
            continue
        if before["name"] != field["name"]:
            tables.rename_column(conn, new.name, before["name"], field["name"])
        if field_type(before).column_kind(before) != kind:
            _convert_column(conn, new, field, kind)
    if old.data["indexes"] != new.data["indexes"] or old.name != new.name:
        tables.drop_indexes(conn, new.name)
        table = table_for(new)
        for index in new.data["indexes"]:
            create_index(conn, table, index)
    store.save_collection(conn, new.data, is_new=False)


def _convert_column(conn: Connection, collection: Collection, field: dict[str, Any], kind: str) -> None:
    """A select/relation/file field crossing maxSelect 1 <-> many changes its column kind."""
    name, ftype = field["name"], field_type(field)
    temp = f"{name}__satchel_old"
    tables.rename_column(conn, collection.name, name, temp)
    tables.add_column(conn, collection.name, name, kind, ftype.column_default(field))
    tables.copy_column(conn, collection.name, temp, name, lambda v: ftype.to_db(ftype.prepare(v, field), field))
    tables.drop_column(conn, collection.name, temp)


def delete_collection(conn: Connection, collection: Collection) -> None:
    if collection.is_view:
        drop_view(conn, collection.name)
    else:
        tables.drop_record_table(conn, collection.name)
    store.delete_collection_row(conn, collection.id)
