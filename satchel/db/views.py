"""SQL views: a view collection's records are read from a view named like the collection.

The query is the user's own SQL, in the database's dialect, so it is run as written: it is
wrapped in `SELECT * FROM (...)`, as the reference does, which keeps it one statement.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from .tables import _quote

# The reference's SQLite driver names the result code before the message (sqlite3_errstr).
_SQLITE_CODES = {1: "SQL logic error", 5: "database is locked", 6: "database table is locked", 19: "constraint failed"}


def _execute(conn: Connection, sql: str) -> sa.CursorResult[Any]:
    """Run SQL holding the user's query as written: no bind parameters, so a `:x` is the user's,
    and psycopg, which reads `%` as a placeholder, gets it doubled."""
    return conn.exec_driver_sql(sql.replace("%", "%%") if conn.dialect.name == "postgresql" else sql)


def create_view(conn: Connection, name: str, select: str) -> None:
    _execute(conn, f"CREATE VIEW {_quote(conn, name)} AS SELECT * FROM ({select}) AS _satchel_view")


def drop_view(conn: Connection, name: str) -> None:
    """Drop the view; on PostgreSQL the views over it go too (the caller builds them again)."""
    cascade = " CASCADE" if conn.dialect.name == "postgresql" else ""
    conn.exec_driver_sql(f"DROP VIEW IF EXISTS {_quote(conn, name)}{cascade}")


def view_columns(conn: Connection, name: str) -> list[tuple[str, str]]:
    """(name, declared type) of each column of the view, in order; a view over a missing table or
    column raises here on SQLite, which checks a view only when it is read."""
    rows: list[tuple[Any, Any]]
    if conn.dialect.name == "postgresql":
        rows = [(r[0], r[1]) for r in conn.execute(sa.text(
            "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute"
            " WHERE attrelid = to_regclass(:name) AND attnum > 0 AND NOT attisdropped ORDER BY attnum"
        ), {"name": _quote(conn, name)})]
    else:
        rows = [(r[1], r[2]) for r in conn.exec_driver_sql(f"PRAGMA table_info({_quote(conn, name)})").all()]
    if not rows:
        raise sa.exc.NoSuchTableError(name)
    return [(str(column), str(type_)) for column, type_ in rows]


def first_ids(conn: Connection, select: str, limit: int) -> list[object]:
    """The `id` of the query's first rows (a sample, as the reference checks)."""
    return [row[0] for row in _execute(conn, f"SELECT id FROM ({select}) AS _satchel_sample LIMIT {int(limit)}")]


def error_message(exc: sa.exc.SQLAlchemyError) -> str:
    """The database's own words for a failed statement: on SQLite shaped as the reference's driver
    prints them (`SQL logic error: no such table: main.x (1)`); on PostgreSQL its primary message."""
    orig = getattr(exc, "orig", None)
    code = getattr(orig, "sqlite_errorcode", None)
    if code is not None:
        primary = code & 0xFF
        return f"{_SQLITE_CODES.get(primary, getattr(orig, 'sqlite_errorname', 'SQL error'))}: {orig} ({code})"
    diag = getattr(orig, "diag", None)
    if diag is not None and diag.message_primary:
        return str(diag.message_primary)
    return str(orig or exc).split("\n")[0]


def is_text(type_: str) -> bool:
    """Whether a declared column type is text (an id column of another type gets a cast)."""
    return type_.lower() == "text" or type_.lower().startswith("character")
