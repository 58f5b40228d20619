"""The file names of records, kept a moment per process for downloads (PostgreSQL only).

A download needs one thing of its record: the names its file fields hold. On PostgreSQL reading
them is a round trip to a server that competes for the same cores, so each process keeps the
answers for at most `max_age` seconds and forgets them as changes arrive:

- a change this process commits: right after its commit, before the write returns
  (`Bus.committed`), so a process always reads its own writes;
- a change any other process or instance commits: when its NOTIFY (the realtime event every
  record change already sends, cascades and truncates included) reaches this process's one
  listening connection (`db/versions.py`), in commit order;
- everything: when the schema version moves (collections, settings, a restore, an import of
  PocketBase records), for a NOTIFY without its payload (a row over NOTIFY's size limit), and
  whenever the listener starts or stops listening (it may have missed something); while it
  does not listen nothing is kept;
- every entry after `max_age` seconds whatever happens, the bound on a message never delivered.

A read that was in flight when anything was forgotten is not kept (the epoch moved), so a row
read before a commit can't be stored after that commit's invalidation. Only what a download
checks is kept, the file fields as of the schema version they were read under, never the
absence of a record (a create needs no invalidation). So writes that touch no file field can't
make an entry wrong: `satchel superuser upsert` changes a password and tokenKey without an
event. View records are never kept: views send no events.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterable
from typing import Any, NamedTuple

import orjson

MAX_ENTRIES = 4096
MAX_BYTES = 4 << 20  # of file names, roughly (their JSON); a record with more is not kept
WHOLESALE = 256  # a transaction's changes beyond this many forget everything at once

Key = tuple[str, str]  # (collection id, record id)


class _Entry(NamedTuple):
    files: dict[str, Any]
    stored: float  # time.monotonic()
    version: int  # the schema version the file fields were read under
    size: int


class RecordCache:
    """Reads (`get`, `begin`, `put`) run on the event loop; invalidations come from the loop and
    from writer threads (after their commit), so everything that changes the entries holds a lock."""

    def __init__(self, max_age: float, max_entries: int = MAX_ENTRIES, max_bytes: int = MAX_BYTES) -> None:
        self.max_age, self.max_entries, self.max_bytes = max_age, max_entries, max_bytes
        self.listening = False  # set by `reset`: nothing is kept while no change can be heard
        self._entries: dict[Key, _Entry] = {}  # oldest first: the first to go when full
        self._bytes = 0
        self._epochs = itertools.count(1)
        self._epoch = 0
        self._lock = threading.Lock()

    # reads ------------------------------------------------------------------------------------

    def get(self, collection_id: str, record_id: str, version: int) -> dict[str, Any] | None:
        entry = self._entries.get((collection_id, record_id))
        if entry is None or entry.version != version or time.monotonic() - entry.stored > self.max_age:
            return None
        return entry.files

    def begin(self) -> int | None:
        """Call before reading a row to keep: the token `put` wants (None: nothing may be kept now)."""
        return self._epoch if self.listening else None

    def put(self, collection_id: str, record_id: str, files: dict[str, Any], version: int, token: int | None) -> None:
        """Keep what was read since `begin` gave `token`, unless anything was forgotten meanwhile."""
        if token is None:
            return
        size = len(orjson.dumps(files)) + 100
        if size > self.max_bytes // 64:
            return
        key = (collection_id, record_id)
        with self._lock:
            if token != self._epoch or not self.listening:
                return
            self._drop(key)
            while self._entries and (len(self._entries) >= self.max_entries or self._bytes + size > self.max_bytes):
                self._drop(next(iter(self._entries)))
            self._entries[key] = _Entry(files, time.monotonic(), version, size)
            self._bytes += size

    # invalidations ----------------------------------------------------------------------------

    def forget(self, keys: Iterable[Key]) -> None:
        with self._lock:
            self._epoch = next(self._epochs)
            for key in keys:
                self._drop(key)

    def reset(self, listening: bool) -> None:
        """Forget everything; `listening`: whether changes are heard from now on (the version feed's call)."""
        self.listening = listening
        self._clear()

    def committed(self, payloads: list[bytes]) -> None:
        """This process's own bus messages, right after their commit."""
        self._follow(_changed(payloads) if len(payloads) <= WHOLESALE else None)

    def heard(self, note: str) -> None:
        """A NOTIFY of the realtime channel: `<id> <payload>`, or `<id>` alone for a big payload
        (which record changed is then only in the log)."""
        _, _, payload = note.partition(" ")
        self._follow(_changed([payload]) if payload else None)

    def _follow(self, changed: list[Key] | None) -> None:
        if changed is None:
            self._clear()
        else:
            self.forget(changed)

    def _clear(self) -> None:
        with self._lock:
            self._epoch = next(self._epochs)
            self._entries.clear()
            self._bytes = 0

    def _drop(self, key: Key) -> None:
        entry = self._entries.pop(key, None)
        if entry is not None:
            self._bytes -= entry.size


def _changed(payloads: list[bytes] | list[str]) -> list[Key] | None:
    """The records these bus messages changed (core/realtime/events.py; other messages change
    none), or None when one can't be read: then everything is forgotten, never raised into a commit."""
    keys = []
    for payload in payloads:
        try:
            message = orjson.loads(payload)
            if message.get("k") == "r":
                keys.append((message["c"], message["r"]["id"]))
        except (ValueError, KeyError, TypeError, AttributeError):
            return None
    return keys
