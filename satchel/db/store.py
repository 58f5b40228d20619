"""Plain sync SQL helpers for collections, settings and records (Datasette style)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from .engine import Database
from .tables import collections_table, params_table

SCHEMA_VERSION = "schema_version"


def load_collections(conn: Connection) -> list[dict[str, Any]]:
    rows = conn.execute(sa.select(collections_table.c.definition).order_by(collections_table.c.created, collections_table.c.id))
    return [orjson.loads(row.definition) for row in rows]


def save_collection(conn: Connection, data: dict[str, Any], is_new: bool) -> None:
    values = {
        "name": data["name"],
        "type": data["type"],
        "definition": orjson.dumps(data).decode(),
        "created": data["created"],
        "updated": data["updated"],
    }
    if is_new:
        conn.execute(collections_table.insert().values(id=data["id"], **values))
    else:
        conn.execute(collections_table.update().where(collections_table.c.id == data["id"]).values(**values))
    bump_schema_version(conn)


def delete_collection_row(conn: Connection, collection_id: str) -> None:
    conn.execute(collections_table.delete().where(collections_table.c.id == collection_id))
    bump_schema_version(conn)


def get_param(conn: Connection, key: str) -> str | None:
    return conn.execute(sa.select(params_table.c.value).where(params_table.c.id == key)).scalar()


def set_param(conn: Connection, key: str, value: str) -> None:
    updated = conn.execute(params_table.update().where(params_table.c.id == key).values(value=value))
    if updated.rowcount == 0:
        conn.execute(params_table.insert().values(id=key, value=value))


def schema_version(conn: Connection) -> int:
    return int(get_param(conn, SCHEMA_VERSION) or 0)


def bump_schema_version(conn: Connection) -> None:
    """Every process compares this number with its cached copy of the schema."""
    set_param(conn, SCHEMA_VERSION, str(schema_version(conn) + 1))


_INLINE_SQL: dict[tuple[str, ...], str] = {}


def _inline_one(db: Database, key: tuple[str, ...], build: Callable[[], sa.Select], value: str) -> Any:
    """First row of a one-parameter query on the inline SQLite connection, its SQL compiled once."""
    sql = _INLINE_SQL.get(key)
    if sql is None:
        sql = _INLINE_SQL[key] = str(build().compile(dialect=db.engine.dialect))
    inline = db.inline_sqlite()
    assert inline is not None  # only called when there is one
    return inline.execute(sql, (value,)).fetchone()


async def find_row(db: Database, table: sa.Table, record_id: str) -> dict[str, Any] | None:
    """One record by id: inline on SQLite (the hot path of every download), pooled elsewhere."""
    if db.inline_sqlite() is None:
        return await db.read(select_record, table, record_id)
    key = (table.name, *table.c.keys())
    row = _inline_one(db, key, lambda: sa.select(table).where(table.c.id == sa.bindparam("id")), record_id)
    return dict(row) if row else None


async def find_param(db: Database, key: str) -> str | None:
    if db.inline_sqlite() is None:
        return await db.read(get_param, key)
    build = lambda: sa.select(params_table.c.value).where(params_table.c.id == sa.bindparam("id"))
    row = _inline_one(db, ("_params.value",), build, key)
    return row[0] if row else None


def select_record(conn: Connection, table: sa.Table, record_id: str) -> dict[str, Any] | None:
    row = conn.execute(sa.select(table).where(table.c.id == record_id)).mappings().first()
    return dict(row) if row else None


def select_by(conn: Connection, table: sa.Table, column: str, value: Any, nocase: bool = False) -> list[dict[str, Any]]:
    col = table.c[column]
    condition = sa.func.lower(col) == str(value).lower() if nocase else col == value
    return [dict(row) for row in conn.execute(sa.select(table).where(condition).limit(2)).mappings()]


def select_columns(conn: Connection, table: sa.Table, columns: list[str], ids: list[str]) -> dict[str, list[Any]]:
    """The named columns of the rows with these ids, by id (rows that don't exist are absent)."""
    query = sa.select(table.c.id, *(table.c[name] for name in columns)).where(table.c.id.in_(ids))
    return {row[0]: list(row[1:]) for row in conn.execute(query)}


def count_ids(conn: Connection, table: sa.Table, ids: list[str]) -> int:
    return conn.execute(sa.select(sa.func.count()).select_from(table).where(table.c.id.in_(ids))).scalar_one()


def insert_record(conn: Connection, table: sa.Table, values: dict[str, Any]) -> None:
    conn.execute(table.insert().values(**values))


def update_record(conn: Connection, table: sa.Table, record_id: str, values: dict[str, Any]) -> None:
    conn.execute(table.update().where(table.c.id == record_id).values(**values))


def delete_record(conn: Connection, table: sa.Table, record_id: str) -> None:
    conn.execute(table.delete().where(table.c.id == record_id))
