"""What happened to each request, written down off the request path.

Answering a request costs it one `deque.append` of a tuple; a background task
drains the queue a few times a second and writes the access log lines. Formatting and
writing a log line costs several times more than a small download's own Python work,
so none of it happens while the client waits.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

access_log = logging.getLogger("satchel.access")

DRAIN_EVERY = 0.25  # seconds between two drains of the queue
MAX_QUEUED = 100_000  # beyond this the oldest entries are dropped: memory stays bounded
_TOKEN = re.compile(r"(?<=[?&])token=[^&]*")


#: What the middleware queues for each request: (perf_counter at the start, perf_counter at
#: the end, the ASGI scope, the status, the body bytes, the flags the handlers left in the scope).
Queued = tuple[float, float, dict[str, Any], int, int, dict[str, Any]]


@dataclass(frozen=True)
class Served:
    """One answered request, read from its queued tuple when the queue is drained."""

    time: float  # when it was answered, seconds since the epoch
    method: str
    target: str  # the path and query string as received
    status: int
    size: int  # response body bytes
    duration: float  # seconds
    client: str
    headers: list[tuple[bytes, bytes]]
    flags: dict[str, Any]  # what the handlers noted in the scope: the caller, the error

    @classmethod
    def of(cls, queued: Queued, wall_offset: float) -> Served:
        """`wall_offset` turns perf_counter readings into epoch seconds."""
        started, ended, scope, status, size, flags = queued
        target = (scope.get("raw_path") or scope["path"].encode()).decode("latin-1")
        if scope["query_string"]:
            target += "?" + scope["query_string"].decode("latin-1")
        client = scope.get("client")
        return cls(
            ended + wall_offset, scope["method"], target, status, size, ended - started,
            client[0] if client else "", scope["headers"], flags,
        )


def masked(target: str) -> str:
    """`target` with the value of every `token` query parameter hidden (file tokens are secrets)."""
    return _TOKEN.sub("token=…", target) if "token=" in target else target


class RequestLog:
    """The queue of answered requests and the task that writes them down."""

    def __init__(self) -> None:
        self.queue: deque[Queued] = deque(maxlen=MAX_QUEUED)

    def drain(self) -> list[Served]:
        """Take everything queued so far and write its access log lines."""
        wall_offset = time.time() - time.perf_counter()
        served = []
        while self.queue:
            served.append(Served.of(self.queue.popleft(), wall_offset))
        if served and access_log.isEnabledFor(logging.INFO):
            for entry in served:
                _access_line(entry)
        return served

    async def run_forever(self, every: float = DRAIN_EVERY) -> None:
        """Drain every `every` seconds until cancelled, then once more."""
        try:
            while True:
                await asyncio.sleep(every)
                self.drain()
        finally:
            self.drain()


def _access_line(entry: Served) -> None:
    fields = {
        "method": entry.method, "path": masked(entry.target), "status": entry.status,
        "bytes": entry.size, "duration_ms": round(entry.duration * 1000, 3), "client": entry.client,
    }
    args = (fields["method"], fields["path"], entry.status, entry.size, fields["duration_ms"], entry.client)
    record = access_log.makeRecord(
        access_log.name, logging.INFO, __file__, 0, "%s %s %d %dB %.1fms %s", args, None, extra={"fields": fields},
    )
    record.created, record.msecs = entry.time, (entry.time % 1) * 1000  # when it was answered, not drained
    access_log.handle(record)
