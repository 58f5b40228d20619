"""What happened to each request, written down off the request path.

Answering a request costs it one `deque.append` of a tuple; a background task drains the
queue a few times a second, writes the access log lines and collects the Logs API's rows,
which it stores in batches (at most `FLUSH_EVERY` seconds or `BATCH` rows apart). Formatting
a log line or writing a row costs several times more than a small download's own Python
work, so none of it happens while the client waits, and a slow logs database only delays
the task: the queue is bounded and requests never wait for it.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections import deque
from typing import Any

import anyio.to_thread

from .auth import Auth, auth_from_token, token_from_header
from .request_entry import Queued, Served, is_logged, request_entry
from .state import Satchel

access_log = logging.getLogger("satchel.access")
log = logging.getLogger("satchel.logs")

DRAIN_EVERY = 0.25  # seconds between two drains of the queue
FLUSH_EVERY = 1.0  # seconds a row may wait before it is stored
BATCH = 200  # rows that are stored at once, whatever their age
MAX_QUEUED = 100_000  # beyond this the oldest requests are dropped: memory stays bounded
_TOKEN = re.compile(r"(?<=[?&])token=[^&]*")


def masked(target: str) -> str:
    """`target` with the value of every `token` query parameter hidden (file tokens are secrets)."""
    return _TOKEN.sub("token=…", target) if "token=" in target else target


class RequestLog:
    """The queue of answered requests and the task that writes them down."""

    def __init__(self, sat: Satchel) -> None:
        self.sat = sat
        self.queue: deque[Queued] = deque(maxlen=MAX_QUEUED)
        self.pending: list[dict[str, Any]] = []
        self._pending_since = 0.0

    async def drain(self, flush: bool = False) -> None:
        """Write the access lines of everything queued so far and collect its rows; store
        the rows if they are due (or `flush`)."""
        wall_offset = time.time() - time.perf_counter()
        lines = access_log.isEnabledFor(logging.INFO)
        served = []
        while self.queue:
            queued = self.queue.popleft()
            if lines or queued[-1]["logs"]["maxDays"]:  # else neither an access line nor an entry
                served.append(Served.of(queued, wall_offset))
        if served and lines:
            # in a thread: a stderr nobody reads fast enough (a full pipe) then holds this task, not the loop
            await anyio.to_thread.run_sync(_access_lines, served)
        if served:
            await self._collect(served)
        due = len(self.pending) >= BATCH or time.monotonic() - self._pending_since >= FLUSH_EVERY
        if self.pending and (flush or due):
            rows, self.pending = self.pending, []
            try:
                await self.sat.logs.write(rows)
            except Exception:
                log.warning("%d request log entries not stored", len(rows), exc_info=True)

    async def run_forever(self, every: float = DRAIN_EVERY) -> None:
        """Drain every `every` seconds until cancelled, then store what is left."""
        try:
            while True:
                await asyncio.sleep(every)
                try:
                    await self.drain()
                except Exception:  # one bad batch must not end the request log
                    log.warning("request log drain failed", exc_info=True)
        finally:
            await self.drain(flush=True)

    async def _collect(self, served: list[Served]) -> None:
        callers: dict[str, Auth | None] = {}  # by token: a client sends the same one request after request
        for entry in served:
            if is_logged(entry):
                if not self.pending:
                    self._pending_since = time.monotonic()
                self.pending.append(request_entry(entry, await self._auth(entry, callers)))

    async def _auth(self, entry: Served, callers: dict[str, Auth | None]) -> Auth | None:
        """The caller, as the handler found it or, when it never looked, from the Authorization header."""
        if "auth" in entry.flags:
            return entry.flags["auth"]
        header = next((value for name, value in entry.headers if name == b"authorization"), b"")
        token = token_from_header(header.decode("latin-1"))
        if not token:
            return None
        if token not in callers:
            try:
                callers[token] = await auth_from_token(self.sat, token, "auth")
            except Exception:  # noqa: BLE001 - the entry is still worth keeping, as a guest's
                callers[token] = None
        return callers[token]


_ACCESS_FORMAT = "%s %s %d %dB %.1fms %s"
#: the attributes every access record shares, taken once from a real record: building a
#: LogRecord the usual way (caller lookup, pid, thread, process name) is most of a line's cost
_ACCESS_TEMPLATE = vars(access_log.makeRecord(access_log.name, logging.INFO, __file__, 0, _ACCESS_FORMAT, (), None))


def _access_lines(served: list[Served]) -> None:
    for entry in served:
        _access_line(entry)


def _access_line(entry: Served) -> None:
    fields = {
        "method": entry.method, "path": masked(entry.target), "status": entry.status,
        "bytes": entry.size, "duration_ms": round(entry.duration * 1000, 3), "client": entry.client,
    }
    record = logging.LogRecord.__new__(logging.LogRecord)
    record.__dict__.update(_ACCESS_TEMPLATE)
    record.args = (fields["method"], fields["path"], entry.status, entry.size, fields["duration_ms"], entry.client)
    record.fields = fields
    record.created, record.msecs = entry.time, (entry.time % 1) * 1000  # when it was answered, not drained
    access_log.handle(record)
