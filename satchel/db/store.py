"""Plain sync SQL helpers for collections, settings and records (Datasette style)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from .engine import Database
from .tables import collections_table, dialect_module, params_table


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


def delete_collection_row(conn: Connection, collection_id: str) -> None:
    conn.execute(collections_table.delete().where(collections_table.c.id == collection_id))


def get_param(conn: Connection, key: str) -> str | None:
    return conn.execute(sa.select(params_table.c.value).where(params_table.c.id == key)).scalar()


def set_param(conn: Connection, key: str, value: str) -> None:
    updated = conn.execute(params_table.update().where(params_table.c.id == key).values(value=value))
    if updated.rowcount == 0:
        conn.execute(params_table.insert().values(id=key, value=value))


_POINT_SQL: dict[tuple[str, ...], str] = {}


def _point_sql(db: Database, key: tuple[str, ...], build: Callable[[], sa.Select]) -> str:
    """A one-parameter (`id`) query's SQL for this database, compiled once."""
    key = (db.engine.dialect.name, *key)
    sql = _POINT_SQL.get(key)
    if sql is None:
        sql = _POINT_SQL[key] = str(build().compile(dialect=db.engine.dialect))
    return sql


async def find_row(db: Database, table: sa.Table, record_id: str) -> dict[str, Any] | None:
    """One record by id, on the event loop (the hot path of every download): the inline
    connection on SQLite, the loop's own connections on PostgreSQL."""
    sql = _point_sql(db, (table.name, *table.c.keys()), lambda: sa.select(table).where(table.c.id == sa.bindparam("id")))
    if db.in_transaction:  # a batch: only its own connection sees its writes
        return await db.read(select_record, table, record_id)
    if not db.is_sqlite:
        return await db.loop_reads.one(sql, {"id": record_id})
    row = db.inline_sqlite().execute(sql, (record_id,)).fetchone()
    return dict(row) if row else None


def select_record(conn: Connection, table: sa.Table, record_id: str) -> dict[str, Any] | None:
    row = conn.execute(sa.select(table).where(table.c.id == record_id)).mappings().first()
    return dict(row) if row else None


def select_some(conn: Connection, table: sa.Table, limit: int) -> list[dict[str, Any]]:
    """Up to `limit` records, in no particular order."""
    return [dict(row) for row in conn.execute(sa.select(table).limit(limit)).mappings()]


def select_by(conn: Connection, table: sa.Table, column: str, value: Any, nocase: bool = False) -> list[dict[str, Any]]:
    col = table.c[column]
    condition = sa.func.lower(col) == str(value).lower() if nocase else col == value
    return [dict(row) for row in conn.execute(sa.select(table).where(condition).limit(2)).mappings()]


def select_matching(conn: Connection, table: sa.Table, values: dict[str, Any]) -> list[dict[str, Any]]:
    """Every row whose columns hold these values."""
    query = sa.select(table).where(*(table.c[column] == value for column, value in values.items()))
    return [dict(row) for row in conn.execute(query).mappings()]


def select_columns(conn: Connection, table: sa.Table, columns: list[str], ids: list[str]) -> dict[str, list[Any]]:
    """The named columns of the rows with these ids, by id (rows that don't exist are absent)."""
    query = sa.select(table.c.id, *(table.c[name] for name in columns)).where(table.c.id.in_(ids))
    return {row[0]: list(row[1:]) for row in conn.execute(query)}


def rows_naming(conn: Connection, table: sa.Table, column: str, text: str) -> list[tuple[str, Any]]:
    """(id, value) of the rows whose `column` holds `text` somewhere (a first look: the caller
    checks the value exactly)."""
    query = sa.select(table.c.id, table.c[column]).where(table.c[column].contains(text, autoescape=True))
    return [(row[0], row[1]) for row in conn.execute(query)]


def count_ids(conn: Connection, table: sa.Table, ids: list[str]) -> int:
    return conn.execute(sa.select(sa.func.count()).select_from(table).where(table.c.id.in_(ids))).scalar_one()


def count_locked_ids(conn: Connection, table: sa.Table, ids: list[str]) -> int:
    """How many of `ids` exist, each row share-locked until the transaction ends (PostgreSQL;
    SQLite's write transactions already run one at a time), so none can be deleted meanwhile."""
    query = sa.select(table.c.id).where(table.c.id.in_(ids)).with_for_update(read=True)
    return len(conn.execute(query).all())


def insert_record(conn: Connection, table: sa.Table, values: dict[str, Any]) -> None:
    conn.execute(table.insert().values(**values))


def update_record(conn: Connection, table: sa.Table, record_id: str, values: dict[str, Any]) -> None:
    conn.execute(table.update().where(table.c.id == record_id).values(**values))


def delete_records(conn: Connection, table: sa.Table, ids: list[str]) -> None:
    if ids:
        conn.execute(table.delete().where(table.c.id.in_(ids)))


def update_records(conn: Connection, table: sa.Table, changes: list[tuple[str, dict[str, Any]]]) -> None:
    """Each row by id gets its own values (the same columns for all), in one executemany."""
    if changes:
        conn.execute(table.update().where(table.c.id == sa.bindparam("b_id")), [{"b_id": i, **values} for i, values in changes])


def _holds(conn: Connection, column: sa.Column, value: str) -> sa.ColumnElement[bool]:
    """`value` is an item of the JSON array text in `column` (a multiple select/relation/file)."""
    if conn.dialect.name == "postgresql":
        jsonb = dialect_module(conn).JSONB()  # the PostgreSQL dialect, loaded only where it runs
        return sa.func.coalesce(sa.cast(column, jsonb).op("?")(value), sa.false())
    array = sa.case((sa.func.json_valid(column), column), else_="[]")
    items = sa.func.json_each(array).table_valued("value").alias("__je__")
    return sa.exists(sa.select(1).select_from(items).where(items.c.value == value))


def select_referencing(conn: Connection, table: sa.Table, column: str, record_id: str, multiple: bool, limit: int) -> list[dict[str, Any]]:
    """Up to `limit` rows whose relation `column` holds `record_id`, locked for the update that follows."""
    col = table.c[column]
    condition = _holds(conn, col, record_id) if multiple else col == record_id
    query = sa.select(table).where(condition).limit(limit).with_for_update()  # no concurrent edit lost
    return [dict(row) for row in conn.execute(query).mappings()]
