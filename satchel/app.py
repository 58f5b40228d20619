"""The ASGI app: routes, the headers every response carries, error rendering, start-up."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Iterable
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .api import auth, auth_flows, backups, batch, collections, crons, files, health, impersonate, logs, realtime, records, settings
from .api.context import JSONResponse
from .api.object_response import ObjectResponse
from .api.rate_limits import RateLimitChecks, check_path
from .api.request_log import RecordRequests
from .clean_paths import CleanPaths
from .config import Config
from .core.backups import schedule_auto_backups
from .core.realtime.hub import Realtime
from .core.request_entry import PREFLIGHT, SERVER_SEND
from .core.request_log import RequestLog
from .core.state import Satchel
from .errors import ApiError

log = logging.getLogger("satchel")

SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-xss-protection", b"1; mode=block"),
    (b"cross-origin-opener-policy", b"same-origin"),
]
PREFLIGHT_METHODS = b"GET,HEAD,PUT,PATCH,POST,DELETE"


def finish_headers(
    headers: Iterable[tuple[bytes, bytes]], embeddable: bool, origin: bytes | None
) -> list[tuple[bytes, bytes]]:
    """A response's headers plus PocketBase's global ones and default CORS (decided only here)."""
    finished = list(headers)
    present = {name for name, _ in finished}
    finished += [header for header in SECURITY_HEADERS if header[0] not in present]
    if not embeddable:
        finished.append((b"x-frame-options", b"SAMEORIGIN"))
    finished.append((b"vary", b"Origin"))
    if origin:
        finished.append((b"access-control-allow-origin", b"*"))
    return finished


class HeadersMiddleware:
    """PocketBase's global headers and default CORS, as a plain ASGI wrapper (no per-request task)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_headers = dict(scope["headers"])
        origin = request_headers.get(b"origin")
        if scope["method"] == "OPTIONS" and origin and b"access-control-request-method" in request_headers:
            scope.setdefault("satchel", {})[PREFLIGHT] = True  # not a request log entry, as in the reference
            await self._preflight(request_headers, send)
            return
        scope.setdefault("satchel", {})

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                embeddable = scope["satchel"].get("embeddable", False)
                message["headers"] = finish_headers(message.get("headers", []), embeddable, origin)
            await send(message)

        await self.app(scope, receive, send_with_headers)

    async def _preflight(self, request_headers: dict[bytes, bytes], send: Send) -> None:
        headers = [
            (b"access-control-allow-methods", PREFLIGHT_METHODS),
            (b"access-control-allow-origin", b"*"),
            (b"vary", b"Origin"),
            (b"vary", b"Access-Control-Request-Method"),
            (b"vary", b"Access-Control-Request-Headers"),
        ]
        if b"access-control-request-headers" in request_headers:
            headers.insert(0, (b"access-control-allow-headers", request_headers[b"access-control-request-headers"]))
        await send({"type": "http.response.start", "status": 204, "headers": headers})
        await send({"type": "http.response.body", "body": b""})


def request_origin(scope: Scope) -> bytes | None:
    """The request's Origin header; of several, the last one wins (as in a dict of the headers)."""
    origin = None
    for name, value in scope["headers"]:
        if name == b"origin":
            origin = value
    return origin


async def api_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    request.scope.setdefault("satchel", {})["error"] = exc  # for the request log
    return JSONResponse(exc.body(), status_code=exc.status)


async def http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    if exc.status_code in (404, 405):
        # Unmatched GETs fall through to PocketBase's static file handler.
        message = "File not found." if request.method in ("GET", "HEAD") else "The requested resource wasn't found."
        return await api_error(request, ApiError(404, message))
    return await api_error(request, ApiError(exc.status_code, str(exc.detail)))


async def server_error(scope: Scope, receive: Receive, send: Send, exc: Exception) -> None:
    """An unexpected exception: its traceback logged once, and PocketBase's 500 answer with the
    same global and CORS headers as every other answer (a browser sees the error, not a CORS
    failure). Starlette's own handler sits outside every middleware and re-raises, so the
    server logged the traceback a second time; `RecordRequests` calls this one instead."""
    log.error("unhandled error on %s %s", scope["method"], scope["path"], exc_info=exc)
    scope["satchel"]["error"] = exc
    response = JSONResponse(ApiError(500, "Something went wrong while processing your request.").body(), status_code=500)
    response.raw_headers = finish_headers(response.raw_headers, False, request_origin(scope))
    await response(scope, receive, send)


class SchemaRefresh:
    """Before each API request, pick up schema and settings changes made by other processes."""

    def __init__(self, app: ASGIApp, sat: Satchel) -> None:
        self.app, self.sat = app, sat

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            try:
                await self.sat.refresh()
            except ApiError as exc:  # out here the router's error handlers don't reach (a busy pool: 503)
                await JSONResponse(exc.body(), status_code=exc.status)(scope, receive, send)
                return
        await self.app(scope, receive, send)


class FileDownloads:
    """`GET|HEAD /api/files/{collection}/{record}/{filename}`, answered before the router.

    Downloads are most of a files backend's traffic; taking them here skips route matching,
    the per-route exception wrapper and the headers middleware's send wrapper, which cost
    more than the download itself. The response's headers are finished once, right here.
    """

    def __init__(self, app: ASGIApp, sat: Satchel) -> None:
        self.app, self.sat = app, sat

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        parts = scope["path"].split("/", 5) if scope["type"] == "http" else []
        if len(parts) != 6 or parts[1:3] != ["api", "files"] or not all(parts[3:]) or scope["method"] not in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        scope["path_params"] = {"collection": parts[3], "record": parts[4], "filename": parts[5]}
        flags = scope.setdefault("satchel", {})
        request = Request(scope, receive)
        response: ObjectResponse | JSONResponse
        try:
            await self.sat.refresh()
            response = await files.download(request)
        except ApiError as exc:
            response = await api_error(request, exc)
        response.raw_headers = finish_headers(response.raw_headers, flags.get("embeddable", False), request_origin(scope))
        await response(scope, receive, send)


class RealtimeStreams:
    """`GET /api/realtime`, answered before the router: an SSE stream sends for as long as it lives,
    and its sends skip the middleware's wrappers (its headers are finished once, here)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != "/api/realtime" or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        origin = None
        for name, value in scope["headers"]:
            if name == b"origin":
                origin = value  # the last one wins, as in HeadersMiddleware's dict
        try:  # the check in front of every route: ask for the settings another process may have changed
            await scope["app"].state.satchel.refresh()
            await check_path(Request(scope, receive))
        except ApiError as exc:
            response = await api_error(Request(scope, receive), exc)
            response.raw_headers = finish_headers(response.raw_headers, False, origin)
            await response(scope, receive, send)
            return
        headers = finish_headers(realtime.STREAM_HEADERS, False, origin)
        await realtime.stream(scope["app"].state.realtime, scope, receive, send, headers)


ROUTES = [
    Route("/api/health", health.health, methods=["GET"]),
    Route("/api/collections", collections.list_collections, methods=["GET"]),
    Route("/api/collections/meta/scaffolds", collections.collection_scaffolds, methods=["GET"]),
    Route("/api/collections/import", collections.import_collections, methods=["PUT"]),
    Route("/api/collections", collections.create_collection, methods=["POST"]),
    Route("/api/collections/{collection}", collections.view_collection, methods=["GET"]),
    Route("/api/collections/{collection}", collections.update_collection, methods=["PATCH"]),
    Route("/api/collections/{collection}", collections.delete_collection, methods=["DELETE"]),
    Route("/api/collections/{collection}/truncate", collections.truncate_collection, methods=["DELETE"]),
    Route("/api/collections/{collection}/auth-with-password", auth.with_password, methods=["POST"]),
    Route("/api/collections/{collection}/auth-refresh", auth.refresh, methods=["POST"]),
    Route("/api/collections/{collection}/auth-methods", auth.methods, methods=["GET"]),
    Route("/api/collections/{collection}/impersonate/{id}", impersonate.impersonate, methods=["POST"]),
    *auth_flows.ROUTES,
    Route("/api/collections/{collection}/records", records.list_records, methods=["GET"]),
    Route("/api/collections/{collection}/records", records.create_record, methods=["POST"]),
    Route("/api/collections/{collection}/records/{id}", records.view_record, methods=["GET"]),
    Route("/api/collections/{collection}/records/{id}", records.update_record, methods=["PATCH"]),
    Route("/api/collections/{collection}/records/{id}", records.delete_record, methods=["DELETE"]),
    Route("/api/files/token", files.file_token, methods=["POST"]),
    Route("/api/batch", batch.batch, methods=["POST"]),
    Route("/api/realtime", realtime.set_subscriptions, methods=["POST"]),
    Route("/api/settings", settings.view_settings, methods=["GET"]),
    Route("/api/settings", settings.update_settings, methods=["PATCH"]),
    Route("/api/settings/test/s3", settings.test_s3, methods=["POST"]),
    Route("/api/logs", logs.list_logs, methods=["GET"]),
    Route("/api/logs", logs.truncate_logs, methods=["DELETE"]),
    Route("/api/logs/stats", logs.log_stats, methods=["GET"]),
    Route("/api/logs/{id}", logs.view_log, methods=["GET"]),
    Route("/api/crons", crons.list_crons, methods=["GET"]),
    Route("/api/backups", backups.list_backups, methods=["GET"]),
    Route("/api/backups", backups.create_backup, methods=["POST"]),
    Route("/api/backups/upload", backups.upload_backup, methods=["POST"]),
    Route("/api/backups/{key}", backups.download_backup, methods=["GET", "HEAD"]),
    Route("/api/backups/{key}", backups.delete_backup, methods=["DELETE"]),
    Route("/api/backups/{key}/restore", backups.restore_backup, methods=["POST"]),
    Route("/api/crons/{id}", crons.run_cron, methods=["POST"]),
]


SHUTDOWN_WAIT = 10  # seconds the background tasks get to finish when the app stops


class App(Starlette):
    """Starlette, keeping the server's own `send` in the scope: a realtime stream writes each
    message with it, past the send wrappers of the middleware, which only need the response's
    start and end (and are told the bytes streamed, see request_entry.STREAMED). With a thousand
    streams, those wrappers cost as much as the writes."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope[SERVER_SEND] = send
        await super().__call__(scope, receive, send)


def create_app(config: Config | None = None) -> Starlette:
    """Build the app; granian calls this once per worker (configuration comes from the environment)."""
    sat = Satchel(config or Config.from_env())
    schedule_auto_backups(sat)
    requests = RequestLog(sat)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        loop = asyncio.get_running_loop()
        ticker = loop.create_task(sat.crons.run_forever())
        tasks = [ticker, loop.create_task(sat.versions.listen_forever()), loop.create_task(requests.run_forever())]
        yield
        ticker.cancel()  # no job starts now; one under way (a backup) may end
        await sat.crons.finish(SHUTDOWN_WAIT)
        for task in tasks:
            task.cancel()
        await asyncio.wait(tasks, timeout=SHUTDOWN_WAIT)  # the request log flushes what is left
        await sat.bus.stop()
        sat.spool.close()
        sat.dispose()

    sat.init_sync()
    handlers: dict[Any, Any] = {ApiError: api_error, HTTPException: http_error}
    middleware = [
        Middleware(RecordRequests, log=requests, crash=server_error), Middleware(CleanPaths),
        Middleware(FileDownloads, sat=sat), Middleware(RealtimeStreams),
        Middleware(HeadersMiddleware), Middleware(SchemaRefresh, sat=sat), Middleware(RateLimitChecks, sat=sat),
    ]
    app = App(routes=ROUTES, exception_handlers=handlers, middleware=middleware, lifespan=lifespan)
    app.router.redirect_slashes = False  # the reference answers `/api/health/` with its 404, not a redirect
    app.state.satchel = sat
    app.state.realtime = Realtime(sat, realtime.render)
    return app
