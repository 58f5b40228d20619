"""An answered request (`Served`), and what PocketBase's activity logger writes about it."""

from __future__ import annotations

import ipaddress
from collections.abc import MutableMapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from ..errors import ApiError
from .auth import Auth
from .logs import ERROR, INFO, new_entry

QUIET_SUCCESS = "quiet_success"  # a flag: log this request only if it fails (the Logs API's own reads)
PREFLIGHT = "preflight"  # a flag: a CORS preflight, answered before the reference's activity logger
STREAMED = "streamed"  # a flag: body bytes a realtime stream wrote past the middleware (SERVER_SEND)
SERVER_SEND = "satchel.server_send"  # in the scope: the server's own send, wrapped by no middleware


#: What the middleware queues for each request: (perf_counter at the start, perf_counter at
#: the end, the ASGI scope, the status, the body bytes, the flags the handlers left in the
#: scope, the settings when it ended).
Queued = tuple[float, float, MutableMapping[str, Any], int, int, dict[str, Any], dict[str, Any]]


@dataclass(slots=True)  # not frozen: a frozen dataclass's __init__ costs several times more, per request
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
    settings: dict[str, Any]  # the instance's settings when it was answered

    @classmethod
    def of(cls, queued: Queued, wall_offset: float) -> Served:
        """`wall_offset` turns perf_counter readings into epoch seconds."""
        started, ended, scope, status, size, flags, settings = queued
        target = (scope.get("raw_path") or scope["path"].encode()).decode("latin-1")
        if scope["query_string"]:
            target += "?" + scope["query_string"].decode("latin-1")
        client = scope.get("client")
        return cls(
            ended + wall_offset, scope["method"], target, status, size + flags.get(STREAMED, 0), ended - started,
            client[0] if client else "", scope["headers"], flags, settings,
        )


def is_logged(entry: Served) -> bool:
    """Whether the settings (and the handler) let the request into the logs, before any work on it."""
    logs = entry.settings["logs"]
    error = entry.flags.get("error")
    if logs["maxDays"] == 0 or entry.flags.get(PREFLIGHT) or (INFO if error is None else ERROR) < logs["minLevel"]:
        return False
    return error is not None or not entry.flags.get(QUIET_SUCCESS)


def request_entry(entry: Served, auth: Auth | None) -> dict[str, Any]:
    """The `_logs` row for an answered request that `is_logged`."""
    settings = entry.settings
    logs = settings["logs"]
    error = entry.flags.get("error")
    level = INFO if error is None else ERROR
    proxy = settings["trustedProxy"] if logs["logIP"] else {}
    headers = _headers(entry.headers, ("referer", "user-agent", *(name.lower() for name in proxy.get("headers") or ())))
    method, url = _cut(entry.method.upper(), 50), _cut(entry.target, 3000)
    data: dict[str, Any] = {
        "type": "request", "execTime": entry.duration * 1000, "url": url, "method": method, "status": entry.status,
        "referer": _cut(headers.get("referer", ""), 2000), "userAgent": _cut(headers.get("user-agent", ""), 2000),
        "auth": auth.collection.name if auth else "",
    }
    if isinstance(error, ApiError):
        data.update(error=error.message, details=error.details or (_details(error.data) if error.data else None))
    elif error is not None:
        data["error"] = str(error)
    if auth and logs["logAuthId"]:
        data["authId"] = auth.id
    if logs["logIP"]:
        data.update(userIP=real_ip(headers, entry.client, proxy), remoteIP=entry.client)
    return new_entry(entry.time, level, f"{method} {unquote(url)}", data, logs["maxDataSize"])


def real_ip(headers: dict[str, str], remote: str, proxy: dict[str, Any]) -> str:
    """The client's IP: from the first trusted proxy header that holds a valid one, else the peer's."""
    for name in proxy.get("headers") or []:
        parts = [part.strip() for part in headers.get(name.lower(), "").split(",") if part.strip()]
        if parts:
            candidate = parts[0] if proxy.get("useLeftmostIP") else parts[-1]
            try:
                return str(ipaddress.ip_address(candidate))
            except ValueError:
                continue
    return remote


def _details(data: dict[str, Any]) -> dict[str, Any]:
    """An error's field errors as Go prints the validation errors behind them: the message alone,
    as the validator wrote it (`{"email": "cannot be blank"}`), before the API made it a sentence."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, dict) and isinstance(value.get("message"), str) and "code" in value:
            message = value["message"].removesuffix(".")
            out[key] = message[:1].lower() + message[1:]
        else:
            out[key] = _details(value) if isinstance(value, dict) else value
    return out


def _headers(raw: list[tuple[bytes, bytes]], names: tuple[str, ...]) -> dict[str, str]:
    """The first value of each header in `names` (lowercase, as ASGI gives them)."""
    wanted = {name.encode("latin-1") for name in names}
    out: dict[str, str] = {}
    for name, value in raw:
        if name in wanted and name.decode("latin-1") not in out:
            out[name.decode("latin-1")] = value.decode("latin-1")
    return out


def _cut(text: str, limit: int) -> str:
    return text[:limit] + "..." if len(text) > limit else text
