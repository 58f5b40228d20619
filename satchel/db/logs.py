"""The `_logs` table: request logs, kept apart from the collections (see `core.logs` for where).

Its columns are the kinds a collection's table uses (text, number, json), so the filter
language reads it like a collection's table; `created` is PocketBase's text date
(`2026-12-07 12:00:00.123Z`), which orders and groups by hour as plain text.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from .indexes import create_if_missing
from .tables import record_table, take_bootstrap_lock

logs_table = record_table(
    "_logs", [("id", "text", None), ("created", "text", ""), ("level", "number", 0), ("message", "text", ""), ("data", "json", "{}")]
)
_INDEXES = [sa.Index("idx_logs_created", logs_table.c.created), sa.Index("idx_logs_level", logs_table.c.level)]
HOUR = 13  # "2026-12-07 12" of "2026-12-07 12:34:56.789Z"


def create_logs_table(conn: Connection) -> None:
    take_bootstrap_lock(conn)
    logs_table.create(conn, checkfirst=True)
    for index in _INDEXES:
        create_if_missing(conn, index)


_COLUMNS = ("id", "created", "level", "message", "data")


def insert_logs(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """One executemany of plain tuples: a Core insert's per-row parameter processing cost
    several times the driver's own work, for every request logged."""
    marker = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    sql = f"INSERT INTO _logs ({', '.join(_COLUMNS)}) VALUES ({', '.join([marker] * len(_COLUMNS))})"
    conn.exec_driver_sql(sql, [tuple(row[name] for name in _COLUMNS) for row in rows])


def delete_logs(conn: Connection, created_before: str, below_level: int | None = None) -> int:
    """Delete the entries created at or before `created_before`, and those under `below_level`."""
    old = logs_table.c.created <= created_before
    condition = old if below_level is None else sa.or_(old, logs_table.c.level < below_level)
    return conn.execute(logs_table.delete().where(condition)).rowcount


def delete_all_logs(conn: Connection) -> None:
    conn.execute(logs_table.delete())


def vacuum(engine: sa.Engine) -> None:
    """SQLite: hand the emptied pages back to the file system (VACUUM runs outside a transaction)."""
    with engine.connect() as conn:
        conn.connection.driver_connection.execute("VACUUM")  # type: ignore[union-attr]


def find_log(conn: Connection, log_id: str) -> dict[str, Any] | None:
    row = conn.execute(sa.select(logs_table).where(logs_table.c.id == log_id).limit(1)).mappings().first()
    return dict(row) if row else None


def hourly_counts(conn: Connection, where: Any) -> list[tuple[str, int]]:
    """(hour as "YYYY-MM-DD HH", entries) for the entries meeting `where`, oldest hour first."""
    hour = sa.func.substr(logs_table.c.created, 1, HOUR).label("hour")
    query = sa.select(hour, sa.func.count(logs_table.c.id)).group_by(hour).order_by(hour)
    if where is not None:
        query = query.where(where)
    return [(row[0], row[1]) for row in conn.execute(query)]
