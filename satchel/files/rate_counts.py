"""Fixed-window request counts that every process of one instance shares: a small file in the
data dir, mapped into each process's memory and changed under an exclusive `flock`.

PocketBase counts in the memory of its one process; Satchel serves an instance from several
processes, which share nothing but `--dir`. One count is a few words, so a shared map beats a
database write per request: a count costs a hash, two lock calls and a few loads and stores.

The file is a set-associative table: a key's hash picks a set of `WAYS` slots. A set with no
free slot gives up the slot whose window ends first, so a flood of new clients can only make
the table forget counts (let a request through), never refuse a request its own count allows.
"""

from __future__ import annotations

import fcntl
import hashlib
import mmap
import os
import struct
import threading
import weakref
from collections.abc import Callable
from typing import Any, TypeVar

MAGIC = b"SATRC001"  # the layout's version: a file of another layout is cleared on open
HEADER = struct.Struct("<8sq")  # magic, generation (moved by `restart`, part of every slot's key)
SLOT = struct.Struct("<Qqqq")  # key hash (0: free), window start, window length, requests left
SETS = 8192
WAYS = 8
SET = struct.Struct("<" + "Qqqq" * WAYS)
SIZE = HEADER.size + SETS * SET.size  # 2 MiB, pages touched as sets are used
MIX = 0x9E3779B97F4A7C15  # spreads a generation over the hash's bits
MASK = (1 << 64) - 1
T = TypeVar("T")


class WindowCounts:
    """The counts in the file at `path`, opened on first use in each process."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._map: mmap.mmap | None = None
        self._fd = -1
        self._thread_lock = threading.Lock()  # flock excludes other processes, not this one's threads
        _OPENED.add(self)

    def consume(self, key: str, limit: int, window: int, now: int) -> bool:
        """Take one request from `key`'s allowance of `limit` per `window` seconds (windows start
        at the first request after the previous one ended); False once it is used up."""
        digest = int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "little")
        return self._locked(_consume, digest, limit, window, now)

    def restart(self) -> None:
        """Forget every count (PocketBase starts its counts again whenever the settings are saved)."""
        self._locked(_next_generation)

    def close(self) -> None:
        if self._map is not None:
            self._map.close()
            os.close(self._fd)
        self._forget()

    def _forget(self) -> None:
        """Drop the map without closing it: after a fork it belongs to the parent (and a flock
        on the inherited descriptor would be shared with the parent's)."""
        self._map, self._fd = None, -1

    def _locked(self, change: Callable[..., T], *args: Any) -> T:
        """`change(table, *args)` while this process and thread alone hold the table. (Plain
        calls, no context manager: this runs on every request while rate limits are on.)"""
        with self._thread_lock:
            table = self._map or self._open()
            fcntl.flock(self._fd, fcntl.LOCK_EX)
            try:
                return change(table, *args)
            finally:
                fcntl.flock(self._fd, fcntl.LOCK_UN)

    def _open(self) -> mmap.mmap:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            if os.fstat(fd).st_size != SIZE:
                os.ftruncate(fd, SIZE)
            table = mmap.mmap(fd, SIZE)
            if table[: len(MAGIC)] != MAGIC:  # new, or of another layout
                table[:] = bytes(SIZE)
                HEADER.pack_into(table, 0, MAGIC, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
        except BaseException:
            os.close(fd)
            raise
        self._map, self._fd = table, fd
        return table


_OPENED: weakref.WeakSet[WindowCounts] = weakref.WeakSet()


def _after_fork() -> None:
    for counts in _OPENED:
        counts._forget()


os.register_at_fork(after_in_child=_after_fork)


def _next_generation(table: mmap.mmap) -> None:
    magic, generation = HEADER.unpack_from(table)
    HEADER.pack_into(table, 0, magic, (generation + 1) & 0x7FFFFFFFFFFFFFFF)


def _consume(table: mmap.mmap, digest: int, limit: int, window: int, now: int) -> bool:
    """`WindowCounts.consume` once the table is held (the common case, a key already counting,
    stays in C as much as it can: this runs on every request while rate limits are on)."""
    generation = HEADER.unpack_from(table)[1]
    tag = ((digest ^ (generation * MIX)) & MASK) | 1
    base = HEADER.size + (tag >> 1) % SETS * SET.size
    slots = SET.unpack_from(table, base)
    tags = slots[0::4]
    if tag in tags:
        way = tags.index(tag)
        start, length, left = slots[way * 4 + 1 : way * 4 + 4]
        if now - start >= length or length != window:
            start, left = now, limit
    else:  # a new count, in a free or ended slot, else in the one whose window ends first
        ends = [start + length if found and now - start < length else 0 for found, start, length in zip(tags, slots[1::4], slots[2::4], strict=True)]
        way = ends.index(min(ends))
        start, left = now, limit
    SLOT.pack_into(table, base + way * SLOT.size, tag, start, window, left - (left > 0))
    return left > 0
