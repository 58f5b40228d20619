"""Cluster-wide locks for work that should happen once, such as making a cold thumb.

On PostgreSQL they are advisory locks, seen by every process of every instance; on SQLite,
whose processes share one host, they are `flock`s on a fixed set of files. Either way a
holder that dies releases its lock with its connection or its process, so nobody waits for a
dead holder longer than they were willing to wait anyway. A lock only saves duplicate work:
when one can't be had (a broken lock connection), the caller goes ahead and may repeat it.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
import threading
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import anyio.to_thread
from sqlalchemy.engine import Engine

log = logging.getLogger(__name__)

POLL = 0.05  # seconds between tries while someone else holds the lock
STRIPES = 256  # lock files on SQLite: keys share them, so the directory never grows

#: hold(key, wait) -> an async context manager giving True once held, False after `wait` seconds.
Hold = Callable[[str, float], AbstractAsyncContextManager[bool]]


async def _poll(attempt: Callable[[], bool], wait: float) -> bool:
    """Try `attempt` (in a thread) until it succeeds or `wait` seconds pass."""
    deadline = time.monotonic() + wait
    while not await anyio.to_thread.run_sync(attempt):
        if time.monotonic() >= deadline:
            return False
        await anyio.sleep(POLL)
    return True


class FileLocks:
    """`flock`s in one directory: exclusive between the processes (and tasks) of one host."""

    def __init__(self, directory: str) -> None:
        self.directory = directory

    @contextlib.asynccontextmanager
    async def hold(self, key: str, wait: float) -> AsyncIterator[bool]:
        os.makedirs(self.directory, exist_ok=True)
        stripe = int.from_bytes(hashlib.blake2b(key.encode(), digest_size=4).digest()) % STRIPES
        fd = os.open(os.path.join(self.directory, f"{stripe:03d}.lock"), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            yield await _poll(lambda: _try_flock(fd), wait)
        finally:
            os.close(fd)  # closing the descriptor releases the lock


def _try_flock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


class AdvisoryLocks:
    """PostgreSQL session advisory locks on one connection of their own (outside the pool).

    A session may take its own advisory lock again, so the keys this process holds are also
    kept here: a second holder in the same process waits like one in another process. Lock ids
    are per database; the URL (its search_path option included) keeps deployments that share
    a database in different schemas apart.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._namespace = engine.url.render_as_string(hide_password=True)
        self._conn: Any = None
        self._mutex = threading.Lock()  # one statement at a time on the shared connection
        self._held: set[int] = set()

    def _lock(self, lock_id: int) -> bool:
        with self._mutex:
            if lock_id in self._held:
                return False
            if got := self._execute("SELECT pg_try_advisory_lock(%s)", lock_id):
                self._held.add(lock_id)
            return got

    def _unlock(self, lock_id: int) -> None:
        with self._mutex:
            self._held.discard(lock_id)
            self._execute("SELECT pg_advisory_unlock(%s)", lock_id)

    def _execute(self, sql: str, lock_id: int) -> bool:
        """Run one lock statement (the caller holds the mutex)."""
        try:
            if self._conn is None:
                cargs, cparams = self.engine.dialect.create_connect_args(self.engine.url)
                self._conn = self.engine.dialect.connect(*cargs, **cparams)
                self._conn.autocommit = True
            row = self._conn.execute(sql, (lock_id,)).fetchone()
            return bool(row[0])
        except Exception as exc:  # noqa: BLE001 - a lost lock connection means: go ahead, unlocked
            log.warning("cluster lock connection failed, going ahead without the lock: %s", exc)
            with contextlib.suppress(Exception):
                self._conn.close()
            self._conn = None
            self._held.clear()  # the locks went with the connection
            return True

    @contextlib.asynccontextmanager
    async def hold(self, key: str, wait: float) -> AsyncIterator[bool]:
        named = f"{self._namespace}\0{key}".encode()
        lock_id = int.from_bytes(hashlib.blake2b(named, digest_size=8).digest(), signed=True)
        held = await _poll(lambda: self._lock(lock_id), wait)
        try:
            yield held
        finally:
            if held:
                await anyio.to_thread.run_sync(self._unlock, lock_id)

    def close(self) -> None:
        with self._mutex:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
