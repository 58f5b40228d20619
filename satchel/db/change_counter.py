"""SQLite: a counter in a small memory-mapped file beside the database that every schema
version bump moves on once it has committed.

The processes of a SQLite deployment share a host, so one mapped page is shared memory
between them: a request learns that nothing changed from one memory read, where reading the
version row costs a query (a sixth of a small download's time under load). The row stays the
truth; the counter only says when to read it again. The writer moves it on after its commit
and before it answers, so a client that saw a change answered sees it on its next request
through any process.
"""

from __future__ import annotations

import contextlib
import fcntl
import mmap
import os
import struct

_COUNTER = struct.Struct("=Q")
SUFFIX = "-changes"  # beside data.db, like SQLite's own -wal and -shm


def counter_path(database: str) -> str:
    """The counter's file for a SQLite database file ("" for an in-memory database: none)."""
    return database + SUFFIX if database and database != ":memory:" else ""


def _open(path: str) -> int:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    if os.fstat(fd).st_size < _COUNTER.size:
        os.ftruncate(fd, _COUNTER.size)  # a new file: zeroes; growing only, so no one's count is lost
    return fd


class ChangeCounter:
    """The reading side: the counter's current value, mapped once per process."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._map: mmap.mmap | None = None

    def value(self) -> int:
        if self._map is None:
            fd = _open(self.path)
            try:
                self._map = mmap.mmap(fd, _COUNTER.size, mmap.MAP_SHARED, mmap.PROT_READ)
            finally:
                os.close(fd)
        return int(_COUNTER.unpack_from(self._map)[0])

    def close(self) -> None:
        if self._map is not None:
            with contextlib.suppress(BufferError):
                self._map.close()
            self._map = None


def move_on(path: str) -> None:
    """The writing side, after a commit: one more, under a lock (bumps are rare, readers never lock)."""
    fd = _open(path)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        (count,) = _COUNTER.unpack(os.pread(fd, _COUNTER.size, 0))
        os.pwrite(fd, _COUNTER.pack(count + 1), 0)
    finally:
        os.close(fd)  # and the lock with it
