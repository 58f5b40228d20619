"""One SQLAlchemy engine per database URL, and the async doorway to it.

SQLite runs in WAL mode: readers never wait, and every write transaction starts
with BEGIN IMMEDIATE so writers in other threads and processes queue on the busy
timeout instead of failing half-way with "database is locked".
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import Any, TypeVar

import anyio.to_thread
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

T = TypeVar("T")

BUSY_TIMEOUT_MS = 30_000


def sqlite_url(data_dir: str) -> str:
    return "sqlite:///" + os.path.join(os.path.abspath(data_dir), "data.db")


def _sqlite_engine(url: str) -> Engine:
    engine = sa.create_engine(url, connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_MS / 1000})

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
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    return sa.create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


class Database:
    """Runs plain sync SQL helpers in worker threads; writes go one at a time per process."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        self._write_lock = threading.Lock()

    def read_sync(self, fn: Callable[..., T], *args: Any) -> T:
        with self.engine.connect() as conn:
            return fn(conn, *args)

    def write_sync(self, fn: Callable[..., T], *args: Any) -> T:
        with self._write_lock, self.engine.connect() as conn:
            conn.info["writer"] = True
            try:
                with conn.begin():
                    return fn(conn, *args)
            finally:
                conn.info.pop("writer", None)

    async def read(self, fn: Callable[..., T], *args: Any) -> T:
        return await anyio.to_thread.run_sync(self.read_sync, fn, *args)

    async def write(self, fn: Callable[..., T], *args: Any) -> T:
        return await anyio.to_thread.run_sync(self.write_sync, fn, *args)

    def dispose(self) -> None:
        self.engine.dispose()
