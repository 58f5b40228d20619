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
from collections.abc import Iterator
from contextlib import contextmanager

MAGIC = b"SATRC001"  # the layout's version: a file of another layout is cleared on open
HEADER = struct.Struct("<8sq")  # magic, generation (moved by `restart`, part of every slot's key)
SLOT = struct.Struct("<Qqqq")  # key hash (0: free), window start, window length, requests left
SETS = 8192
WAYS = 8
SET = struct.Struct("<" + "Qqqq" * WAYS)
SIZE = HEADER.size + SETS * SET.size  # 2 MiB, pages touched as sets are used
MIX = 0x9E3779B97F4A7C15  # spreads a generation over the hash's bits
MASK = (1 << 64) - 1


class WindowCounts:
    """The counts in the file at `path`, opened on first use in each process."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._map: mmap.mmap | None = None
        self._fd = -1
        self._pid = 0
        self._thread_lock = threading.Lock()  # flock excludes other processes, not this one's threads

    def consume(self, key: str, limit: int, window: int, now: int) -> bool:
        """Take one request from `key`'s allowance of `limit` per `window` seconds (windows start
        at the first request after the previous one ended); False once it is used up."""
        digest = int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "little")
        with self._locked() as table:
            generation = HEADER.unpack_from(table)[1]
            tag = ((digest ^ (generation * MIX)) & MASK) | 1
            base = HEADER.size + (tag >> 1) % SETS * SET.size
            slots = SET.unpack_from(table, base)
            victim, victim_end = 0, None
            for way in range(WAYS):
                found, start, length, left = slots[way * 4 : way * 4 + 4]
                if found == tag:
                    if now - start >= length or length != window:
                        start, left = now, limit
                    allowed = left > 0
                    SLOT.pack_into(table, base + way * SLOT.size, tag, start, window, left - allowed)
                    return allowed
                end = start + length if found and now - start < length else 0  # 0: free or ended
                if victim_end is None or end < victim_end:
                    victim, victim_end = way, end
            SLOT.pack_into(table, base + victim * SLOT.size, tag, now, window, limit - 1)
            return limit > 0

    def restart(self) -> None:
        """Forget every count (PocketBase starts its counts again whenever the settings are saved)."""
        with self._locked() as table:
            magic, generation = HEADER.unpack_from(table)
            HEADER.pack_into(table, 0, magic, (generation + 1) & 0x7FFFFFFFFFFFFFFF)

    def close(self) -> None:
        if self._map is not None and self._pid == os.getpid():
            self._map.close()
            os.close(self._fd)
        self._map, self._fd = None, -1

    @contextmanager
    def _locked(self) -> Iterator[mmap.mmap]:
        with self._thread_lock:
            table = self._open()
            fcntl.flock(self._fd, fcntl.LOCK_EX)
            try:
                yield table
            finally:
                fcntl.flock(self._fd, fcntl.LOCK_UN)

    def _open(self) -> mmap.mmap:
        """The mapped table of this process (a forked child opens its own: a flock on an
        inherited descriptor would be shared with the parent)."""
        if self._map is not None and self._pid == os.getpid():
            return self._map
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
        self._map, self._fd, self._pid = table, fd, os.getpid()
        return table
