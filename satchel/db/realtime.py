"""Plain sync SQL for realtime: the ordered event log and the table of connected clients.

An event is written inside the transaction that makes the change, so it exists if and only
if the change committed, and in commit order. On SQLite the log table is the channel (one
writer at a time, so ids follow commit order). On PostgreSQL NOTIFY is (delivered at commit,
in commit order), as `<id> <payload>`, or `<id>` alone for a payload over NOTIFY's 8000-byte
limit, which the reader then takes from the log; every event is in the log all the same, so a
listener that lost its connection reads what it missed meanwhile (`events_since`).
"""

from __future__ import annotations

import hashlib
import sqlite3
import time
from collections.abc import AsyncIterator, Awaitable, Callable

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from .tables import realtime_clients_table as clients
from .tables import realtime_events_table as events

NOTIFY_LIMIT = 7900  # bytes: PostgreSQL refuses payloads of 8000 and more
KEEP_SECONDS = 600.0  # log rows older than this are pruned (longer than any listener lags)
PRUNE_EVERY = 256  # prune when a new id is a multiple of this


def channel_name(conn: Connection) -> str:
    """The NOTIFY channel of this database schema: channels are database-wide, schemas share them."""
    return channel_for(conn.exec_driver_sql("SELECT current_schema()").scalar_one())


def channel_for(schema: str) -> str:
    name = f"satchel_rt_{schema}"
    return name if len(name) <= 63 else "satchel_rt_" + hashlib.sha256(schema.encode()).hexdigest()[:40]


def emit(conn: Connection, channel: str, payload: bytes) -> None:
    """Publish `payload` when the transaction of `conn` commits."""
    event_id = _append(conn, payload)
    if conn.dialect.name == "postgresql":
        text = f"{event_id} {payload.decode()}" if len(payload) <= NOTIFY_LIMIT else str(event_id)
        conn.execute(sa.select(sa.func.pg_notify(channel, text)))


def notified(text: str) -> tuple[int, bytes | None]:
    """(event id, payload) of a NOTIFY's text; the payload is None when it is only in the log."""
    event_id, _, payload = text.partition(" ")
    return int(event_id), payload.encode() if payload else None


def _append(conn: Connection, payload: bytes) -> int:
    now = time.time()
    new_id = conn.execute(events.insert().values(created=now, payload=payload).returning(events.c.id)).scalar_one()
    if new_id % PRUNE_EVERY == 0:
        conn.execute(events.delete().where(events.c.created < now - KEEP_SECONDS))
    return new_id


def events_since(conn: Connection, created: float, after_id: int) -> list[tuple[int, bytes]]:
    """The log's rows written at or after `created` (epoch seconds, the writers' clocks) or with
    an id over `after_id` (whatever the clocks say), in id order."""
    newer = sa.or_(events.c.created >= created, events.c.id > after_id)
    query = sa.select(events.c.id, events.c.payload).where(newer).order_by(events.c.id)
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


async def pg_notifications(url: str, channel: str, ready: Callable[[], Awaitable[None]]) -> AsyncIterator[str]:
    """The payloads NOTIFY sends on `channel`, from a dedicated connection; `ready` is awaited once
    it listens, before any of them. Ends (raises) when the connection breaks."""
    import psycopg

    conn = await psycopg.AsyncConnection.connect(url, autocommit=True)
    try:
        await conn.execute("SELECT set_config('application_name', %s, false)", (channel,))  # who listens, in pg_stat_activity
        await conn.execute(f'LISTEN "{channel}"')
        await ready()
        async for notice in conn.notifies():
            yield notice.payload
    finally:
        await conn.close()
