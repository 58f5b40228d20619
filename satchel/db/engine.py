"""One SQLAlchemy engine per database URL, and the async doorway to it.

SQLite runs in WAL mode: readers never wait, and every write transaction starts
with BEGIN IMMEDIATE so writers in other threads and processes queue on the busy
timeout instead of failing half-way with "database is locked".
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import anyio.to_thread
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from .locks import AdvisoryLocks, FileLocks
from .loop_reads import LoopReads, busy

T = TypeVar("T")

BUSY_TIMEOUT_MS = 30_000

# This process's id, kept current across fork: os.getpid() is a system call, and the inline
# read path asks on every request.
_pid = os.getpid()


def _after_fork() -> None:
    global _pid
    _pid = os.getpid()


os.register_at_fork(after_in_child=_after_fork)


def _sqlite_engine(url: str) -> Engine:
    # Enough pooled connections for the worker threads, so none is opened per request.
    engine = sa.create_engine(
        url, pool_size=10, max_overflow=30,
        connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_MS / 1000},
    )

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Take transaction control away from the driver, so that "begin" below decides.
        dbapi_conn.isolation_level = None
        for pragma in (
            "journal_mode=WAL",
            f"busy_timeout={BUSY_TIMEOUT_MS}",
            "synchronous=NORMAL",
            "foreign_keys=ON",
        ):
            dbapi_conn.execute(f"PRAGMA {pragma}")

    @sa.event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.info.get("writer") else "BEGIN")

    return engine


@dataclass(frozen=True)
class Pool:
    """A process's share of PostgreSQL's connections: `size` kept, `overflow` more under load,
    and how long a request waits for a free one before it fails (never a hang)."""

    size: int
    overflow: int
    timeout: float
    loop_size: int  #: async connections for point reads on the event loop (loop_reads.py)


def make_engine(url: str, pool: Pool) -> Engine:
    if url.startswith("sqlite"):
        return _sqlite_engine(url)
    if url.startswith(("postgresql://", "postgres://")):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    return sa.create_engine(
        url, pool_pre_ping=True, pool_size=pool.size, max_overflow=pool.overflow, pool_timeout=pool.timeout,
    )


class Database:
    """Runs plain sync SQL helpers in worker threads; writes go one at a time per process.

    A request that finds no free connection within the pool's timeout is PocketBase's error
    shape with status 503, so a client can retry. On PostgreSQL, `loop_reads` answers point
    reads without leaving the event loop.
    """

    in_transaction = False  #: a Transaction's view says True: reads must go through its connection

    def __init__(self, url: str, pool: Pool) -> None:
        self.url = url
        self.engine = make_engine(url, pool)
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        self.loop_reads = LoopReads(self.connect_kwargs, pool.loop_size, pool.timeout)
        self._write_lock = threading.Lock()
        self._inline: sqlite3.Connection | None = None
        self._inline_pid = 0
        # SQLite's processes share a host: lock files beside the database file will do.
        self.locks: FileLocks | AdvisoryLocks = (
            FileLocks(os.path.join(os.path.dirname(self.engine.url.database or "."), ".locks"))
            if self.is_sqlite
            else AdvisoryLocks(self.engine)
        )

    def inline_sqlite(self) -> sqlite3.Connection:
        """SQLite only: a driver connection for tiny indexed reads right on the event loop.

        In WAL mode a read never waits for a writer, and a point lookup takes microseconds,
        far less than the thread hop and transaction a pooled read costs. It runs in
        autocommit, so no read transaction is ever left open.
        """
        if not self.is_sqlite:
            raise RuntimeError("the inline connection is SQLite's")
        if self._inline is None or self._inline_pid != _pid:  # never share across fork
            conn = sqlite3.connect(self.engine.url.database or "", isolation_level=None, check_same_thread=False)
            conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            conn.row_factory = sqlite3.Row
            self._inline, self._inline_pid = conn, _pid
        return self._inline

    def connect_kwargs(self) -> dict[str, Any]:
        """PostgreSQL: what psycopg's connect takes to reach the engine's database, as the pool does."""
        _, kwargs = self.engine.dialect.create_connect_args(self.engine.url)
        kwargs.pop("context", None)  # the dialect's adapters, for its own connections only
        return dict(kwargs)

    def connect(self, isolation_level: str | None = None) -> Connection:
        try:
            conn = self.engine.connect()
        except sa.exc.TimeoutError:
            raise busy() from None
        return conn.execution_options(isolation_level=isolation_level) if isolation_level else conn

    def read_sync(self, fn: Callable[..., T], *args: Any) -> T:
        with self.connect() as conn:
            return fn(conn, *args)

    def snapshot_sync(self, fn: Callable[..., T], *args: Any) -> T:
        """A read that sees one moment of the database in all its statements."""
        with self.connect(None if self.is_sqlite else "REPEATABLE READ") as conn:
            return fn(conn, *args)

    def write_sync(self, fn: Callable[..., T], *args: Any) -> T:
        """Run `fn` in a write transaction; then the callables it added to `conn.info["after_commit"]`."""
        with self._write_lock, self.connect() as conn:
            conn.info["writer"] = True
            try:
                with conn.begin():
                    result = fn(conn, *args)
                for hook in conn.info.get("after_commit", ()):
                    hook()
                return result
            finally:
                conn.info.pop("writer", None)
                conn.info.pop("after_commit", None)

    async def read(self, fn: Callable[..., T], *args: Any) -> T:
        return await anyio.to_thread.run_sync(self.read_sync, fn, *args)

    async def snapshot(self, fn: Callable[..., T], *args: Any) -> T:
        return await anyio.to_thread.run_sync(self.snapshot_sync, fn, *args)

    async def write(self, fn: Callable[..., T], *args: Any) -> T:
        return await anyio.to_thread.run_sync(self.write_sync, fn, *args)

    async def on_commit(self, fn: Callable[[], Awaitable[None]]) -> None:
        """Every write here has committed by the time it returns: run `fn` now."""
        await fn()

    async def on_rollback(self, fn: Callable[[], Awaitable[None]]) -> None:
        """A write that returned has committed, so there is nothing to undo."""

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        """One write transaction for several steps (a batch): committed if the block ends
        normally, rolled back if it raises or the commit fails; the steps' on_commit or
        on_rollback work runs after. Beginning and ending are shielded from cancellation,
        so the connection and the write lock are never left behind."""
        tx = Transaction(self)
        with anyio.CancelScope(shield=True):
            await tx.run(tx.begin_sync)
        committed = False
        try:
            yield tx
            with anyio.CancelScope(shield=True):
                await tx.run(tx.end_sync, True)
            committed = True
        finally:
            if not committed:
                with anyio.CancelScope(shield=True):
                    if tx.is_open:
                        await tx.run(tx.end_sync, False)
                    for fn in tx.rollback_work:
                        await fn()
        for fn in tx.commit_work:
            await fn()

    def optimize_sync(self) -> None:
        """PocketBase's nightly upkeep: on SQLite, fold the WAL back and refresh the planner's
        statistics (PRAGMA optimize); on PostgreSQL, ANALYZE (autovacuum does the rest)."""
        with self.connect() as conn:
            if self.is_sqlite:
                raw = conn.connection.driver_connection  # autocommit: a checkpoint can't run inside a transaction
                assert raw is not None
                raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                raw.execute("PRAGMA optimize")
            else:
                conn.exec_driver_sql("ANALYZE")
                conn.commit()

    def dispose(self) -> None:
        if isinstance(self.locks, AdvisoryLocks):
            self.locks.close()
        self.loop_reads.drop()
        if self._inline is not None:
            self._inline.close()
            self._inline = None
        self.engine.dispose()


class Transaction(Database):
    """The database as seen from inside one write transaction: every read and write runs on
    its connection, which holds the process's write lock (and SQLite's) until it ends."""

    def __init__(self, db: Database) -> None:  # shares the engine: no super().__init__
        self.db = db
        self.url, self.engine, self.is_sqlite, self.locks = db.url, db.engine, db.is_sqlite, db.locks
        self._write_lock = db._write_lock
        self.commit_work: list[Callable[[], Awaitable[None]]] = []
        self.rollback_work: list[Callable[[], Awaitable[None]]] = []
        self._conn: Connection | None = None
        self._tx: Any = None
        # Its own thread budget: writers queued on the lock it holds may fill the shared one.
        self._limiter = anyio.CapacityLimiter(1)

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        return await anyio.to_thread.run_sync(fn, *args, limiter=self._limiter)

    async def read(self, fn: Callable[..., T], *args: Any) -> T:
        if self._conn is None:  # ended: its commit and rollback work reads like any other caller
            return await self.db.read(fn, *args)
        return await self.run(self.read_sync, fn, *args)

    async def write(self, fn: Callable[..., T], *args: Any) -> T:
        if self._conn is None:
            return await self.db.write(fn, *args)
        return await self.run(self.write_sync, fn, *args)

    def begin_sync(self) -> None:
        self._write_lock.acquire()
        try:
            self._conn = self.engine.connect()
            self._conn.info["writer"] = True
            self._tx = self._conn.begin()
        except BaseException:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
            self._write_lock.release()
            raise

    @property
    def is_open(self) -> bool:
        return self._conn is not None

    def end_sync(self, commit: bool) -> None:
        """Commit or roll back, then hand back the connection and the lock whatever happens."""
        assert self._conn is not None
        conn, self._conn = self._conn, None
        try:
            if commit:
                self._tx.commit()
                for hook in conn.info.get("after_commit", ()):  # as write_sync runs them
                    hook()
            else:
                self._tx.rollback()
        finally:
            conn.info.pop("writer", None)
            conn.info.pop("after_commit", None)
            conn.close()
            self._write_lock.release()

    in_transaction = True

    def inline_sqlite(self) -> sqlite3.Connection:
        """Never: a read outside this connection would not see the transaction's own writes."""
        raise RuntimeError("reads inside a transaction go through its connection")

    def read_sync(self, fn: Callable[..., T], *args: Any) -> T:
        assert self._conn is not None
        return fn(self._conn, *args)

    write_sync = read_sync

    async def on_commit(self, fn: Callable[[], Awaitable[None]]) -> None:
        self.commit_work.append(fn)

    async def on_rollback(self, fn: Callable[[], Awaitable[None]]) -> None:
        self.rollback_work.append(fn)
