"""The outermost middleware: note each answered request for the access log and the Logs API,
and answer a request whose handler crashed."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..core.request_log import RequestLog

Crash = Callable[[Scope, Receive, Send, Exception], Awaitable[None]]


class RecordRequests:
    """Notes the status, body bytes and time of every request through one wrapper around
    `send` and queues them as a plain tuple (`core.request_log.Served` reads it later, off
    the request path). An exception raised before the answer started goes to `crash`,
    which answers it; it shares this wrapper because each wrapper costs every download."""

    def __init__(self, app: ASGIApp, log: RequestLog, crash: Crash) -> None:
        self.app, self.log, self.queue, self.crash = app, log, log.queue, crash

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        flags = scope.setdefault("satchel", {})
        status = size = 0

        async def send_counted(message: Message) -> None:
            nonlocal status, size
            if message["type"] == "http.response.start":
                status = message["status"]
            else:
                size += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, send_counted)
        except Exception as exc:
            if status:
                raise  # too late for an error answer: the server cuts the connection (and logs it)
            await self.crash(scope, receive, send_counted, exc)
        finally:
            # the settings as they are when the request ends: they decide whether it is logged
            self.queue.append((started, time.perf_counter(), scope, status, size, flags, self.log.sat.settings))
