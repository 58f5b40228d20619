"""The schema version: one counter that every collection or settings change moves on.

Each process caches the collections and settings and reloads them when the counter differs
from the one it loaded. Nothing may be lost, so:

- the bump is one atomic statement in the change's own transaction (no read-then-write), and
  it comes first: the row lock it takes makes collection and settings changes queue one behind
  the other across every process and instance (on SQLite, BEGIN IMMEDIATE already does);
- on PostgreSQL the bump also NOTIFYs, delivered at commit, so a listener per process hears of
  it and requests never ask the database; while the listener is down, the row is polled;
- on SQLite the bump moves a shared-memory counter on after its commit (`change_counter`), so
  requests read the row only when it moved, or a second after they last did (a writer that
  died between its commit and the counter is caught up with then).

The channel is named after the current schema: tests share one database with a schema each.

The same connection may also listen to the realtime channel for a `Follower` (the record
cache): it hears every record change's NOTIFY, and is told to forget everything whenever
the version moves or the listener starts or stops listening (it may have missed something).
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from . import change_counter
from .engine import Database
from .realtime import channel_for
from .tables import dialect_module, params_table

log = logging.getLogger("satchel.versions")

KEY = "schema_version"
POLL = 0.25  # seconds between two reads of the row while no listener hears the bumps
SQLITE_POLL = 1.0  # seconds after which SQLite reads the row even though the counter stood still
HEARTBEAT = 1.0  # seconds of silence after which the listener re-reads the row: its health check
TIMEOUT = 3.0  # seconds a listener's connect or query may take before it is given up
RETRY = 1.0  # seconds between two attempts to get a listener back

CHANNEL_SQL = "SELECT 'satchel_' || left(md5(current_schema()), 16)"
_VERSION_SQL = f"SELECT value FROM _params WHERE id = '{KEY}'"


def read(conn: Connection) -> int:
    return int(conn.execute(sa.select(params_table.c.value).where(params_table.c.id == KEY)).scalar() or 0)


def bump(conn: Connection) -> int:
    """Move the version on by one and return it; call first in a write transaction (see above)."""
    insert = dialect_module(conn).insert(params_table)
    next_value = sa.cast(sa.cast(params_table.c.value, sa.BigInteger) + 1, sa.Text)
    version = int(
        conn.execute(
            insert.values(id=KEY, value="1")
            .on_conflict_do_update(index_elements=["id"], set_={"value": next_value})
            .returning(params_table.c.value)
        ).scalar_one()
    )
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"SELECT pg_notify(({CHANNEL_SQL}), %(v)s)", {"v": str(version)})
    elif path := change_counter.counter_path(conn.engine.url.database or ""):
        conn.info.setdefault("after_commit", []).append(lambda: change_counter.move_on(path))
    return version


class Follower(Protocol):
    def heard(self, note: str) -> None:
        """A NOTIFY of the realtime channel, in commit order (`db/realtime.py` says its form)."""

    def reset(self, listening: bool) -> None:
        """Forget everything: the version moved, or listening started or stopped; `listening`
        says whether changes are heard from now on."""


class VersionFeed:
    """The latest version this process can know of, as cheaply as the engine allows.

    SQLite: the row, read on the inline connection (no thread hop) when the change counter
    moved or SQLITE_POLL seconds passed; else the version read last.
    PostgreSQL: the last version the listener heard, with no query at all while it listens;
    otherwise the row, read at most every POLL seconds.
    """

    def __init__(self, db: Database) -> None:
        self.db = db
        self.heard = 0
        self.listening = False
        self.follower: Follower | None = None  # PostgreSQL: set before the listener starts
        self._polled = float("-inf")
        path = change_counter.counter_path(db.engine.url.database or "") if db.is_sqlite else ""
        self._counter = change_counter.ChangeCounter(path) if path else None
        self._count = -1

    async def latest(self) -> int:
        if self.db.is_sqlite:
            return self._latest_sqlite()
        if not self.listening and time.monotonic() - self._polled >= POLL:
            self._polled = time.monotonic()
            self._hear(await self.db.read(read))
        return self.heard

    def _latest_sqlite(self) -> int:
        if self._counter is not None:
            count, now = self._counter.value(), time.monotonic()
            if count == self._count and now - self._polled < SQLITE_POLL:
                return self.heard
            self._count, self._polled = count, now  # taken before the read: a later move reads again
        row = self.db.inline_sqlite().execute(_VERSION_SQL).fetchone()
        self.heard = int(row[0]) if row else 0
        return self.heard

    def close(self) -> None:
        if self._counter is not None:
            self._counter.close()

    def _hear(self, version: int) -> None:
        if version > self.heard:
            self.heard = version
            if self.follower is not None:
                self.follower.reset(self.listening)

    def _set_listening(self, listening: bool) -> None:
        self.listening = listening
        if self.follower is not None:
            self.follower.reset(listening)

    async def listen_forever(self) -> None:
        """PostgreSQL: keep a LISTEN connection of our own, reconnecting after any failure."""
        if self.db.is_sqlite:
            return
        while True:
            try:
                await self._listen()
            except Exception as exc:  # noqa: BLE001 - whatever broke it, polling covers until it is back
                log.warning("version listener lost (%r); polling every %s s until it is back", exc, POLL)
            finally:
                if self.listening:
                    self._set_listening(False)
            await asyncio.sleep(RETRY)

    async def _listen(self) -> None:
        import psycopg  # here: SQLite processes never load it

        # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancellation that
        # lands as its inner call finishes, and this task would then outlive shutdown.
        async with asyncio.timeout(TIMEOUT):
            conn = await psycopg.AsyncConnection.connect(**self.db.connect_kwargs(), autocommit=True)
        async with conn:
            named = await (await conn.execute(f"SELECT ({CHANNEL_SQL}), current_schema()")).fetchone()
            assert named is not None  # current_schema() always answers
            channel, schema = named
            # md5 hex: nothing to escape; the name shows who listens in pg_stat_activity
            await conn.execute(f"SET application_name = '{channel}'")
            await conn.execute(f'LISTEN "{channel}"')
            if self.follower is not None:
                await conn.execute(f'LISTEN "{channel_for(schema)}"')  # the schema's name, quoted as the bus does
            while True:
                # Read after LISTEN: a bump committed before it is in the row, any later one is heard.
                # With no news for HEARTBEAT seconds, this read is also the connection's health check.
                async with asyncio.timeout(TIMEOUT):
                    row = await _fetch_version(conn)
                self._hear(row)
                if not self.listening:
                    self._set_listening(True)
                async for note in conn.notifies(timeout=HEARTBEAT):
                    if note.channel == channel:
                        self._hear(int(note.payload))
                    elif self.follower is not None:
                        self.follower.heard(note.payload)


async def _fetch_version(conn: Any) -> int:
    row = await (await conn.execute(_VERSION_SQL)).fetchone()
    return int(row[0]) if row else 0
