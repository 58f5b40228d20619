"""Tables: the system ones, one table per collection, and the DDL that keeps them in step.

Field types only name a column kind ("text", "number", "bool", "json"); this module
alone turns kinds into SQL types, so no dialect detail leaks above db/.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import Connection

from .indexes import create_if_missing, create_index

metadata = sa.MetaData()

collections_table = sa.Table(
    "_collections",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("name", sa.Text, nullable=False, unique=True),
    sa.Column("type", sa.Text, nullable=False),
    sa.Column("definition", sa.Text, nullable=False),
    sa.Column("created", sa.Text, nullable=False),
    sa.Column("updated", sa.Text, nullable=False),
)

params_table = sa.Table(
    "_params",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

# Realtime: the ordered log every process reads events from (on PostgreSQL it backs NOTIFY: big
# payloads, and what a listener missed), and the connected SSE clients, so that any process can
# answer their subscription POST.
realtime_events_table = sa.Table(
    "_realtime_events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("created", sa.Float, nullable=False),
    sa.Column("payload", sa.LargeBinary, nullable=False),
    sqlite_autoincrement=True,  # ids never reused, even once every row is pruned
)
_REALTIME_EVENTS_CREATED = sa.Index("idx_realtime_events_created", realtime_events_table.c.created)  # pruning, replay

realtime_clients_table = sa.Table(
    "_realtime_clients",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("ip", sa.Text, nullable=False),
    sa.Column("auth", sa.Text, nullable=False),  # "" for a guest, else "collectionId/recordId/fingerprint"
    sa.Column("created", sa.Float, nullable=False),
)

_KINDS: dict[str, Any] = {"text": sa.Text, "number": sa.Float, "bool": sa.Boolean, "json": sa.Text}


def take_bootstrap_lock(conn: Connection) -> None:
    """Before creating what is missing: on PostgreSQL a transaction lock, so instances starting at
    once on one database take turns (on SQLite, BEGIN IMMEDIATE already makes writers queue)."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("SELECT pg_advisory_xact_lock(hashtext(current_schema() || '.satchel_bootstrap'))")


def create_system_tables(conn: Connection) -> None:
    take_bootstrap_lock(conn)
    metadata.create_all(conn)
    create_if_missing(conn, _REALTIME_EVENTS_CREATED)  # also in databases made before it existed


def _column(name: str, kind: str, default: Any, primary_key: bool = False) -> sa.Column:
    if primary_key:
        return sa.Column(name, sa.Text, primary_key=True)
    nullable = kind == "json" and default is None
    server_default = None if default is None else sa.literal(default, _KINDS[kind]())
    return sa.Column(name, _KINDS[kind], nullable=nullable, server_default=server_default)


def record_table(name: str, columns: list[tuple[str, str, Any]]) -> sa.Table:
    """A Table object for a collection: `columns` holds (name, kind, default); "id" is the key."""
    cols = [_column(col, kind, default, primary_key=(col == "id")) for col, kind, default in columns]
    return sa.Table(name, sa.MetaData(), *cols)


def create_record_table(conn: Connection, table: sa.Table, indexes: list[str]) -> None:
    table.create(conn)
    for index in indexes:
        create_index(conn, table, index)


def drop_record_table(conn: Connection, name: str) -> None:
    conn.execute(sa.text(f"DROP TABLE IF EXISTS {_quote(conn, name)}"))


def rename_table(conn: Connection, old: str, new: str) -> None:
    conn.execute(sa.text(f"ALTER TABLE {_quote(conn, old)} RENAME TO {_quote(conn, new)}"))


def add_column(conn: Connection, table: str, name: str, kind: str, default: Any) -> None:
    column = _column(name, kind, default)
    ddl = f"ALTER TABLE {_quote(conn, table)} ADD COLUMN {_quote(conn, name)} {column.type.compile(conn.dialect)}"
    if column.server_default is not None:
        literal = sa.literal(default, _KINDS[kind]()).compile(conn, compile_kwargs={"literal_binds": True})
        ddl += f" DEFAULT {literal}"
    if not column.nullable:
        ddl += " NOT NULL"
    conn.exec_driver_sql(ddl)  # not sa.text: a default like {"lon":0} would read as a bind parameter


def rename_column(conn: Connection, table: str, old: str, new: str) -> None:
    conn.execute(sa.text(f"ALTER TABLE {_quote(conn, table)} RENAME COLUMN {_quote(conn, old)} TO {_quote(conn, new)}"))


def copy_column(conn: Connection, table: str, source: str, target: str, convert: Callable[[Any], Any]) -> None:
    """Fill `target` from `source`, row by row, through `convert`."""
    t = sa.table(table, sa.column("id"), sa.column(source), sa.column(target))
    for record_id, value in conn.execute(sa.select(t.c.id, t.c[source])).all():
        conn.execute(t.update().where(t.c.id == record_id).values({target: convert(value)}))


def drop_column(conn: Connection, table: str, name: str) -> None:
    for index in sa.inspect(conn).get_indexes(table):
        if name in index["column_names"]:
            conn.execute(sa.text(f"DROP INDEX IF EXISTS {_quote(conn, index['name'] or '')}"))
    conn.execute(sa.text(f"ALTER TABLE {_quote(conn, table)} DROP COLUMN {_quote(conn, name)}"))


def drop_indexes(conn: Connection, table: str) -> None:
    for index in sa.inspect(conn).get_indexes(table):
        conn.execute(sa.text(f"DROP INDEX IF EXISTS {_quote(conn, index['name'] or '')}"))


def table_exists(conn: Connection, name: str) -> bool:
    """Whether a table or view of that name exists, its case aside (SQLite's names ignore it)."""
    inspector = sa.inspect(conn)
    names = [*inspector.get_table_names(), *inspector.get_view_names()]
    return name.lower() in {n.lower() for n in names}


def _quote(conn: Connection, name: str) -> str:
    return conn.dialect.identifier_preparer.quote_identifier(name)


def dialect_module(conn: Connection) -> Any:
    """SQLAlchemy's module for `conn`'s dialect (its insert with ON CONFLICT, its types).

    PostgreSQL's costs a SQLite server 2 MB of memory, so it is imported only where it runs."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects import postgresql

        return postgresql
    return sqlite
