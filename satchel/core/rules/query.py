"""Plain sync SQL helpers for rule-filtered reads, each run under a time limit.

Filters come from clients, so a query built from one may be slow (cross joins through
`@collection`, deep back-relations). SQLite gets a progress handler that interrupts it and
PostgreSQL a statement timeout; either way the caller sees an error, never a held database.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

TIME_LIMIT_SECONDS = 5.0


@contextmanager
def time_limit(conn: Connection, seconds: float | None = None) -> Iterator[None]:
    seconds = TIME_LIMIT_SECONDS if seconds is None else seconds
    if conn.dialect.name != "sqlite":
        conn.exec_driver_sql(f"SET LOCAL statement_timeout = {int(seconds * 1000)}")
        yield
        return
    raw = conn.connection.driver_connection
    assert raw is not None
    deadline = time.monotonic() + seconds
    raw.set_progress_handler(lambda: 1 if time.monotonic() > deadline else 0, 10_000)
    try:
        yield
    finally:
        raw.set_progress_handler(None, 0)


def list_records(
    conn: Connection, table: sa.Table, where: Any, order: list[Any], limit: int, offset: int, with_total: bool
) -> tuple[list[dict[str, Any]], int]:
    """One page of rows meeting `where`, and their total count (-1 when not asked for)."""
    query = sa.select(table)
    if where is not None:
        query = query.where(where)
    with time_limit(conn):
        rows = [dict(row) for row in conn.execute(query.order_by(*order).limit(limit).offset(offset)).mappings()]
        total = -1
        if with_total:
            count = sa.select(sa.func.count()).select_from(table)
            total = conn.execute(count.where(where) if where is not None else count).scalar_one()
    return rows, total


def find_record(conn: Connection, table: sa.Table, record_id: str, where: Any) -> dict[str, Any] | None:
    """The row with `record_id` if it also meets `where`."""
    query = sa.select(table).where(table.c.id == record_id)
    if where is not None:
        query = query.where(where)
    with time_limit(conn):
        row = conn.execute(query.limit(1)).mappings().first()
    return dict(row) if row else None


def exists(conn: Connection, query: Any) -> bool:
    with time_limit(conn):
        return conn.execute(query).first() is not None


def matching_ids(conn: Connection, table: sa.Table, ids: list[str], where: Any) -> set[str]:
    """The ids among `ids` whose rows meet `where`."""
    query = sa.select(table.c.id).where(table.c.id.in_(ids))
    if where is not None:
        query = query.where(where)
    with time_limit(conn):
        return {row.id for row in conn.execute(query)}


def rows_by_ids(conn: Connection, table: sa.Table, ids: list[str], where: Any) -> list[dict[str, Any]]:
    """The rows with these ids that also meet `where`."""
    query = sa.select(table).where(table.c.id.in_(ids))
    if where is not None:
        query = query.where(where)
    with time_limit(conn):
        return [dict(row) for row in conn.execute(query).mappings()]


def ids_of(conn: Connection, query: Any) -> list[str]:
    """The `id` column of a query's rows."""
    with time_limit(conn):
        return [row.id for row in conn.execute(query)]
