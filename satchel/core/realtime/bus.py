"""Messages from the transaction that wrote them to every process, in commit order, once each.

Writers call `emit` inside their transaction; each process that has SSE clients runs one
reader task handing the messages, one at a time, to its handler. PostgreSQL carries them with
LISTEN/NOTIFY on a dedicated connection; when that connection is lost, the reader listens
again and then reads from the log what was committed meanwhile (everything after the last id
it saw, and anything written up to REPLAY_SLACK seconds before the loss that it never saw),
so nothing is lost and nothing comes twice. SQLite (processes of one host) appends them to a
log table; after the commit the writer rings a doorbell (a unix datagram to each reading
process) and readers read the log past their last id. A slow poll backs the doorbell up.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable

from sqlalchemy.engine import Connection

from ...db import realtime as log_db
from ...db.engine import BUSY_TIMEOUT_MS, Database
from .doorbell import Doorbell

log = logging.getLogger("satchel.realtime")

SAFETY_POLL_SECONDS = 1.0  # SQLite: a reader also looks for new commits this often, rung or not
RETRY_SECONDS = 1.0  # after a lost listening connection
REPLAY_SLACK = 15.0  # PostgreSQL: seconds an event may take from its log row to its delivery

Handler = Callable[[bytes], Awaitable[None]]
Committed = Callable[[list[bytes]], None]


async def _ignore(payload: bytes) -> None:
    """The handler of a process that serves no realtime clients."""


class Bus:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.handle: Handler = _ignore  # set by the process's realtime hub
        # this process's own messages, each transaction's at once, right after it commits and
        # before its write returns (the record cache: a process reads its own writes)
        self.committed: Committed | None = None
        self._channel = ""
        self._task: asyncio.Task[None] | None = None
        self._listening = asyncio.Event()
        self._doorbell = Doorbell(db.engine.url.database or "") if db.is_sqlite else None
        # PostgreSQL: ids delivered in the last REPLAY_SLACK seconds (-> when), oldest first;
        # the highest id delivered; when the listening connection was lost (None: not lost)
        self._seen: dict[int, float] = {}
        self._last_id = 0
        self._lost_at: float | None = None

    def emit(self, conn: Connection, payload: bytes) -> None:
        """Publish `payload` with the commit of the transaction `conn` is in."""
        if not self.db.is_sqlite and not self._channel:
            self._channel = log_db.channel_name(conn)
        log_db.emit(conn, self._channel, payload)
        if self._doorbell is not None:
            hooks = conn.info.setdefault("after_commit", [])
            if self._doorbell.ring not in hooks:
                hooks.append(self._doorbell.ring)
        if self.committed is not None:
            hooks = conn.info.setdefault("after_commit", [])
            sent = next((hook for hook in hooks if isinstance(hook, _Sent)), None)
            if sent is None:
                sent = _Sent(self.committed)
                hooks.append(sent)
            sent.payloads.append(payload)

    async def start(self) -> None:
        """Start reading, once per process; returns when messages committed from now on will be seen."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())
        await self._listening.wait()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._doorbell is not None:
            self._doorbell.close_sender()

    async def _run(self) -> None:
        while True:
            try:
                await (self._poll_sqlite() if self.db.is_sqlite else self._listen_postgres())
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("realtime reader failed; reconnecting", exc_info=True)
            if self._listening.is_set() and not self.db.is_sqlite:
                self._lost_at = time.time()
            self._listening.clear()
            await asyncio.sleep(RETRY_SECONDS)

    async def _poll_sqlite(self) -> None:
        assert self._doorbell is not None
        loop = asyncio.get_running_loop()
        rung = asyncio.Event()
        bell = self._doorbell.listen()  # before reading the last id: no commit after it goes unrung
        loop.add_reader(bell.fileno(), rung.set)
        reader = log_db.SQLiteLog(self.db.engine.url.database or "", BUSY_TIMEOUT_MS)
        try:
            last = reader.last_id()
            self._listening.set()
            while True:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(SAFETY_POLL_SECONDS):
                        await rung.wait()
                rung.clear()
                with contextlib.suppress(BlockingIOError):
                    while bell.recv(64):
                        pass
                while batch := reader.after(last):
                    for position, payload in batch:
                        last = position
                        await self._deliver(payload)
        finally:
            loop.remove_reader(bell.fileno())
            self._doorbell.close(bell)
            reader.close()

    async def _listen_postgres(self) -> None:
        if not self._channel:
            self._channel = await self.db.read(log_db.channel_name)
        url = "postgresql://" + self.db.url.split("://", 1)[1]
        async for text in log_db.pg_notifications(url, self._channel, self._listening_again):
            event_id, payload = log_db.notified(text)
            if payload is None and event_id not in self._seen:
                payload = await self.db.read(log_db.event_payload, event_id)
                if payload is None:
                    log.warning("realtime event %s was pruned before it was read", event_id)
                    continue
            await self._deliver_once(event_id, payload or b"")

    async def _listening_again(self) -> None:
        """Listening (again): first hand over what was committed while nobody listened."""
        if self._lost_at is not None:
            missed = await self.db.read(log_db.events_since, self._lost_at - REPLAY_SLACK, self._last_id)
            for event_id, payload in missed:
                await self._deliver_once(event_id, payload)
            self._lost_at = None
        self._listening.set()

    async def _deliver_once(self, event_id: int, payload: bytes) -> None:
        if event_id in self._seen:
            return
        now = time.time()
        # what a replay may still bring is never forgotten: the cutoff stays put while one runs
        cutoff = (now if self._lost_at is None else self._lost_at) - REPLAY_SLACK
        while self._seen and next(iter(self._seen.values())) < cutoff:
            del self._seen[next(iter(self._seen))]
        self._seen[event_id] = now
        self._last_id = max(self._last_id, event_id)
        await self._deliver(payload)

    async def _deliver(self, payload: bytes) -> None:
        try:
            await self.handle(payload)
        except Exception:
            log.exception("realtime event could not be delivered")


class _Sent:
    """One transaction's messages, handed to `Bus.committed` by its after-commit hook."""

    def __init__(self, committed: Committed) -> None:
        self.committed = committed
        self.payloads: list[bytes] = []

    def __call__(self) -> None:
        self.committed(self.payloads)
