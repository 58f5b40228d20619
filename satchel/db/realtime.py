"""Plain sync SQL for realtime: the ordered event log and the table of connected clients.

An event is written inside the transaction that makes the change, so it exists if and only
if the change committed, and in commit order. On SQLite the log table is the channel (one
writer at a time, so ids follow commit order); on PostgreSQL NOTIFY is (delivered at commit,
in commit order) and the table only carries payloads over NOTIFY's 8000-byte limit.
"""

from __future__ import annotations

import hashlib
import sqlite3
import time
from collections.abc import AsyncIterator, Callable

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from .tables import realtime_clients_table as clients
from .tables import realtime_events_table as events

NOTIFY_LIMIT = 7900  # bytes: PostgreSQL refuses payloads of 8000 and more
BY_REFERENCE = b"#"  # a NOTIFY payload "#<id>" names a row of the log
KEEP_SECONDS = 600.0  # log rows older than this are pruned (longer than any listener lags)
PRUNE_EVERY = 256  # prune when a new id is a multiple of this


def channel_name(conn: Connection) -> str:
    """The NOTIFY channel of this database schema: channels are database-wide, schemas share them."""
    schema = conn.exec_driver_sql("SELECT current_schema()").scalar_one()
    name = f"satchel_rt_{schema}"
    return name if len(name) <= 63 else "satchel_rt_" + hashlib.sha256(schema.encode()).hexdigest()[:40]


def emit(conn: Connection, channel: str, payload: bytes) -> None:
    """Publish `payload` when the transaction of `conn` commits."""
    if conn.dialect.name == "sqlite":
        _append(conn, payload)
        return
    if len(payload) > NOTIFY_LIMIT:
        payload = BY_REFERENCE + str(_append(conn, payload)).encode()
    conn.execute(sa.select(sa.func.pg_notify(channel, payload.decode())))


def _append(conn: Connection, payload: bytes) -> int:
    now = time.time()
    new_id = conn.execute(events.insert().values(created=now, payload=payload).returning(events.c.id)).scalar_one()
    if new_id % PRUNE_EVERY == 0:
        conn.execute(events.delete().where(events.c.created < now - KEEP_SECONDS))
    return new_id


def last_event_id(conn: Connection) -> int:
    return conn.execute(sa.select(sa.func.coalesce(sa.func.max(events.c.id), 0))).scalar_one()


def events_after(conn: Connection, last_id: int, limit: int = 1000) -> list[tuple[int, bytes]]:
    """The log's rows after `last_id`, oldest first."""
    query = sa.select(events.c.id, events.c.payload).where(events.c.id > last_id).order_by(events.c.id).limit(limit)
    return [(row.id, bytes(row.payload)) for row in conn.execute(query)]


def event_payload(conn: Connection, event_id: int) -> bytes | None:
    found = conn.execute(sa.select(events.c.payload).where(events.c.id == event_id)).scalar_one_or_none()
    return None if found is None else bytes(found)


# connected clients ------------------------------------------------------------------------

def add_client(conn: Connection, client_id: str, ip: str, sweep_older_than: float | None = None) -> None:
    """Record a connected client; and, if asked, remove the rows of clients connected longer ago than
    `sweep_older_than` seconds (left behind by a process that died)."""
    now = time.time()
    if sweep_older_than is not None:
        conn.execute(clients.delete().where(clients.c.created < now - sweep_older_than))
    conn.execute(clients.insert().values(id=client_id, ip=ip, auth="", created=now))


def remove_client(conn: Connection, client_id: str) -> None:
    conn.execute(clients.delete().where(clients.c.id == client_id))


def find_client(conn: Connection, client_id: str) -> tuple[str, str] | None:
    """(ip, auth) of a connected client."""
    row = conn.execute(sa.select(clients.c.ip, clients.c.auth).where(clients.c.id == client_id)).first()
    return None if row is None else (row.ip, row.auth)


def set_client_auth(conn: Connection, client_id: str, auth: str) -> None:
    conn.execute(clients.update().where(clients.c.id == client_id).values(auth=auth))


# reading the log ---------------------------------------------------------------------------

class SQLiteLog:
    """A private SQLite connection that reads the log."""

    def __init__(self, path: str, busy_timeout_ms: int) -> None:
        self._conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._conn.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")

    def last_id(self) -> int:
        return self._conn.execute("SELECT coalesce(max(id), 0) FROM _realtime_events").fetchone()[0]

    def after(self, last_id: int, limit: int = 1000) -> list[tuple[int, bytes]]:
        rows = self._conn.execute(
            "SELECT id, payload FROM _realtime_events WHERE id > ? ORDER BY id LIMIT ?", (last_id, limit)
        ).fetchall()
        return [(row[0], bytes(row[1])) for row in rows]

    def close(self) -> None:
        self._conn.close()


async def pg_notifications(url: str, channel: str, ready: Callable[[], None]) -> AsyncIterator[str]:
    """The payloads NOTIFY sends on `channel`, from a dedicated connection; `ready` is called once
    it listens. Ends (raises) when the connection breaks."""
    import psycopg

    conn = await psycopg.AsyncConnection.connect(url, autocommit=True)
    try:
        await conn.execute(f'LISTEN "{channel}"')
        ready()
        async for notice in conn.notifies():
            yield notice.payload
    finally:
        await conn.close()
