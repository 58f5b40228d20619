"""One SQLAlchemy engine per database URL, and the async doorway to it.

SQLite runs in WAL mode: readers never wait, and every write transaction starts
with BEGIN IMMEDIATE so writers in other threads and processes queue on the busy
timeout instead of failing half-way with "database is locked".
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Callable
from typing import Any, TypeVar

import anyio.to_thread
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

T = TypeVar("T")

BUSY_TIMEOUT_MS = 30_000


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


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        return _sqlite_engine(url)
    if url.startswith(("postgresql://", "postgres://")):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    return sa.create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


class Database:
    """Runs plain sync SQL helpers in worker threads; writes go one at a time per process."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        self._write_lock = threading.Lock()
        self._inline: sqlite3.Connection | None = None
        self._inline_pid = 0

    def inline_sqlite(self) -> sqlite3.Connection | None:
        """SQLite only: a driver connection for tiny indexed reads right on the event loop.

        In WAL mode a read never waits for a writer, and a point lookup takes microseconds,
        far less than the thread hop and transaction a pooled read costs. It runs in
        autocommit, so no read transaction is ever left open.
        """
        if not self.is_sqlite:
            return None
        if self._inline is None or self._inline_pid != os.getpid():  # never share across fork
            conn = sqlite3.connect(self.engine.url.database, isolation_level=None, check_same_thread=False)
            conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            conn.row_factory = sqlite3.Row
            self._inline, self._inline_pid = conn, os.getpid()
        return self._inline

    def read_sync(self, fn: Callable[..., T], *args: Any) -> T:
        with self.engine.connect() as conn:
            return fn(conn, *args)

    def write_sync(self, fn: Callable[..., T], *args: Any) -> T:
        """Run `fn` in a write transaction; then the callables it added to `conn.info["after_commit"]`."""
        with self._write_lock, self.engine.connect() as conn:
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

    async def write(self, fn: Callable[..., T], *args: Any) -> T:
        return await anyio.to_thread.run_sync(self.write_sync, fn, *args)

    def optimize_sync(self) -> None:
        """PocketBase's nightly upkeep: on SQLite, fold the WAL back and refresh the planner's
        statistics (PRAGMA optimize); on PostgreSQL, ANALYZE (autovacuum does the rest)."""
        with self.engine.connect() as conn:
            if self.is_sqlite:
                raw = conn.connection.driver_connection  # autocommit: a checkpoint can't run inside a transaction
                raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                raw.execute("PRAGMA optimize")
            else:
                conn.exec_driver_sql("ANALYZE")
                conn.commit()

    def dispose(self) -> None:
        if self._inline is not None:
            self._inline.close()
            self._inline = None
        self.engine.dispose()
