"""`/api/realtime`: the SSE stream (GET) and its subscriptions (POST), as the reference's.

The stream sends `PB_CONNECT` with the client id, then the client's messages as they come; it
ends after IDLE_TIMEOUT without a message or MAX_TIMEOUT in all (the SDKs reconnect), or when
the client is dropped for not reading.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from ..core.auth import Auth
from ..core.collection_model import Collection
from ..core.realtime import hub
from ..core.realtime.broker import Client
from ..core.realtime.fanout import message
from ..core.realtime.hub import Realtime
from ..core.request_entry import SERVER_SEND, STREAMED
from ..core.rules.expand import Node, expand
from ..core.rules.request_info import RequestInfo
from ..core.state import Satchel
from ..errors import ApiError, bad_request, field_error, not_found
from .body import read_body
from .context import current_auth
from .picker import pick_response
from .records import export_node

MAX_CLIENT_ID = 255
MAX_SUBSCRIPTIONS = 1000
MAX_SUBSCRIPTION_LENGTH = 2500
SEND_BATCH = 32  # messages written at once: bounds what a stalled reader holds in flight
STREAM_HEADERS = [(b"content-type", b"text/event-stream"), (b"cache-control", b"no-store"), (b"x-accel-buffering", b"no")]


def client_ip(scope: Scope) -> str:
    return scope["client"][0] if scope.get("client") else ""


async def stream(realtime: Realtime, scope: Scope, receive: Receive, send: Send, headers: list[tuple[bytes, bytes]]) -> None:
    """The SSE response of one client, alive until the client leaves, a timeout ends it or it is dropped.

    The app calls this before its router (see app.RealtimeStreams), and messages are written with
    the server's own send (see app.App): each is one call, past every middleware's wrapper."""
    client = await realtime.connect(client_ip(scope))
    watcher = asyncio.get_running_loop().create_task(_watch_disconnect(receive, client))
    server_send = scope.get(SERVER_SEND, send)
    streamed = 0

    def write(body: bytes) -> Awaitable[None]:
        nonlocal streamed
        streamed += len(body)
        return server_send({"type": "http.response.body", "body": body, "more_body": True})

    try:
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        client.write = write
        client.push(message(client.id, "PB_CONNECT", b'{"clientId":"%s"}' % client.id.encode()))
        await _pump(client)
        with contextlib.suppress(Exception):  # the peer may be gone: nothing left to tell it
            await send({"type": "http.response.body", "body": b"", "more_body": False})
    finally:
        scope.setdefault("satchel", {})[STREAMED] = streamed
        watcher.cancel()
        await realtime.disconnect(client)


async def _pump(client: Client) -> None:
    """Write what the fan-out could not write at once, until a timeout, a disconnect or a drop.

    While this task writes, the client is busy and new messages queue behind; when nothing is
    left it waits, and the fan-out writes to the idle client itself (see core.realtime.broker).
    A client that stops reading holds this task in a write; its queue fills meanwhile and it is
    dropped, so when it reads again it gets what was in flight and then the end of the stream."""
    ends = time.monotonic() + hub.MAX_TIMEOUT
    write = client.write
    assert write is not None
    while True:
        if client.unfinished is not None:  # in flight: finished even if the client was dropped since
            unfinished, client.unfinished = client.unfinished, None
            await unfinished
        elif client.closed:
            return
        elif client.pending:
            batch = [client.pending.popleft() for _ in range(min(len(client.pending), SEND_BATCH))]
            client.last_write = time.monotonic()
            await write(b"".join(batch))
        else:
            client.busy = False
            client.wake.clear()
            timeout = min(client.last_write + hub.IDLE_TIMEOUT, ends) - time.monotonic()
            if timeout <= 0:
                client.closed = True  # the stream ends: nothing may be written to it from now on
                return
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout):
                    await client.wake.wait()


async def _watch_disconnect(receive: Receive, client: Client) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass
    client.closed = True
    client.wake.set()


def _form(values: dict[str, Any], is_json: bool) -> tuple[str, list[str]]:
    """clientId and subscriptions, bound and validated as the reference's form (lengths in bytes)."""
    client_id = values.get("clientId", "")
    subscriptions = values.get("subscriptions") or []
    if isinstance(subscriptions, str) and not is_json:
        subscriptions = [subscriptions]  # a form field given once
    if not isinstance(client_id, str) or not isinstance(subscriptions, list) or not all(isinstance(s, str) for s in subscriptions):
        raise bad_request()  # a value Go can't bind into the form's types
    errors: dict[str, Any] = {}
    if not client_id:
        errors["clientId"] = field_error("validation_required", "Cannot be blank.")
    elif len(client_id.encode()) > MAX_CLIENT_ID:
        errors["clientId"] = field_error(
            "validation_length_out_of_range", f"The length must be between 1 and {MAX_CLIENT_ID}.", {"max": MAX_CLIENT_ID, "min": 1},
        )
    if len(subscriptions) > MAX_SUBSCRIPTIONS:
        errors["subscriptions"] = _too_long(MAX_SUBSCRIPTIONS)
    else:
        long = {str(i): _too_long(MAX_SUBSCRIPTION_LENGTH) for i, s in enumerate(subscriptions) if len(s.encode()) > MAX_SUBSCRIPTION_LENGTH}
        if long:
            errors["subscriptions"] = long
    if errors:
        raise bad_request(data=errors)
    return client_id, subscriptions


def _too_long(limit: int) -> dict[str, Any]:
    return field_error("validation_length_too_long", f"The length must be no more than {limit}.", {"max": limit, "min": 0})


def _same(binding: str, auth: Auth | None) -> bool:
    return auth is not None and binding.startswith(f"{auth.collection.id}/{auth.id}/")


async def set_subscriptions(request: Request) -> Response:
    """Replace a client's subscriptions and bind it to this request's auth (guest -> auth only)."""
    try:
        body = await read_body(request)
    except ApiError as exc:
        raise (bad_request() if exc.status == 400 else exc) from None  # no "Unsupported Content-Type." here
    with body:
        client_id, subscriptions = _form(body.values, request.headers.get("content-type", "").startswith("application/json"))
    realtime = request.app.state.realtime
    found = await realtime.find_client(client_id)
    if found is None:
        raise not_found("Missing or invalid client id.")
    ip, binding = found
    if ip and ip != client_ip(request.scope):
        raise bad_request("Invalid realtime client.")
    auth = await current_auth(request)
    if binding and not _same(binding, auth) and await realtime.binding_valid(binding):
        raise ApiError(403, "The current and the previous request authorization don't match.")
    await realtime.subscribe(client_id, subscriptions, auth)
    return Response(status_code=204)


async def render(sat: Satchel, collection: Collection, values: dict[str, Any], request: RequestInfo, show_email: bool) -> Any:
    """A record as an event carries it: the API's JSON, with the subscription's expand and fields."""
    node = Node(collection, values, show_email=show_email)
    await expand(sat, [node], request.query.get("expand", ""), request)
    out = export_node(node, request.auth)
    try:
        return pick_response(out, request.query.get("fields"))
    except ApiError:
        return out  # the reference sends the whole record when `fields` can't be applied
