"""Rate limits on the HTTP side: the labels each request counts under, and the 429.

As in the reference, most requests are counted by a check in front of every route, under
their path's labels. The collection handlers (records, auth, file downloads) are counted by
their own check instead, once their collection is known, under `name:action` and `*:action`
labels before the path's, and apart for each collection and handler.
"""

from __future__ import annotations

import orjson
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from ..core.collection_model import Collection
from ..core.rate_limits import collection_labels, path_labels
from ..core.request_entry import real_ip
from ..core.state import Satchel
from ..errors import ApiError
from .context import JSONResponse, current_auth, satchel

TOO_MANY = "Too Many Requests."
BATCH_CONTEXT = "batch"
#: The routes under `/api/collections/{collection}/` that count in their own handler: the method
#: and the rest of the path (`{id}` for any record id) -> their actions.
COLLECTION_ROUTES: dict[tuple[str, str], tuple[str, ...]] = {
    ("GET", "records"): ("list",),
    ("POST", "records"): ("create",),
    ("GET", "records/{id}"): ("view",),
    ("PATCH", "records/{id}"): ("update",),
    ("DELETE", "records/{id}"): ("delete",),
    ("GET", "auth-methods"): ("listAuthMethods",),
    ("POST", "auth-refresh"): ("authRefresh",),
    ("POST", "auth-with-password"): ("authWithPassword", "auth"),
    ("POST", "auth-with-oauth2"): ("authWithOAuth2", "auth"),
    ("POST", "request-otp"): ("requestOTP",),
    ("POST", "auth-with-otp"): ("authWithOTP", "auth"),
    ("POST", "request-password-reset"): ("requestPasswordReset",),
    ("POST", "confirm-password-reset"): ("confirmPasswordReset",),
    ("POST", "request-verification"): ("requestVerification",),
    ("POST", "confirm-verification"): ("confirmVerification",),
    ("POST", "request-email-change"): ("requestEmailChange",),
    ("POST", "confirm-email-change"): ("confirmEmailChange",),
}


RECORD_ACTIONS = ("list", "create", "view", "update", "delete")


def collection_route(method: str, path: str) -> tuple[str, ...] | None:
    """The actions of the collection handler serving `method path`, or None for any other route."""
    parts = path.split("/")
    if len(parts) not in (5, 6) or parts[1:3] != ["api", "collections"] or not all(parts[3:]):
        return None
    rest = "records/{id}" if len(parts) == 6 and parts[4] == "records" else "/".join(parts[4:])
    return COLLECTION_ROUTES.get(("GET" if method == "HEAD" else method, rest))


async def check_path(request: Request) -> None:
    """The check in front of every route but the collection handlers'."""
    sat = satchel(request)
    if sat.settings["rateLimits"]["enabled"]:
        await _check(sat, request, path_labels(request.method, request.scope["path"]), "")


async def check_collection(request: Request, collection: Collection, actions: tuple[str, ...]) -> None:
    """A collection handler's check (a batch's sub-requests count apart from direct requests)."""
    sat = satchel(request)
    if sat.settings["rateLimits"]["enabled"]:
        labels = collection_labels(collection.name, actions, request.method, request.scope["path"])
        batch = request.scope["satchel"].get("context") == BATCH_CONTEXT
        await _check(sat, request, labels, f"{collection.id}:{'batch:' if batch else ''}{'+'.join(actions)}")


async def _check(sat: Satchel, request: Request, labels: list[str], bucket: str) -> None:
    # most requests carry no token: look for the header before building the request's headers
    has_token = any(name == b"authorization" for name, _ in request.scope["headers"])
    auth = await current_auth(request) if has_token else None
    rule = sat.rate_limits.refusing_rule(sat.settings["rateLimits"], labels, auth, client_ip(sat, request.scope), bucket)
    if rule is not None:
        raise ApiError(429, TOO_MANY, details="triggered rate limit rule: " + orjson.dumps(rule).decode())


def client_ip(sat: Satchel, scope: Scope) -> str:
    """The client's IP as the reference's RealIP gives it: from the trusted proxy headers, if any."""
    remote = scope["client"][0] if scope.get("client") else ""
    proxy = sat.settings["trustedProxy"]
    if not proxy["headers"]:
        return remote
    headers: dict[str, str] = {}
    for name, value in scope["headers"]:
        headers.setdefault(name.decode("latin-1"), value.decode("latin-1"))
    return real_ip(headers, remote, proxy)


class RateLimitChecks:
    """The check of every request the router serves but the record handlers' (those check
    themselves, after their own first steps): the path's, or an auth handler's once its
    collection is found (a missing one is the handler's 404)."""

    def __init__(self, app: ASGIApp, sat: Satchel) -> None:
        self.app, self.sat = app, sat

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self.sat.settings["rateLimits"]["enabled"]:
            try:
                await self._check(Request(scope, receive))
            except ApiError as exc:
                scope.setdefault("satchel", {})["error"] = exc  # for the request log
                await JSONResponse(exc.body(), status_code=exc.status)(scope, receive, send)
                return
        await self.app(scope, receive, send)

    async def _check(self, request: Request) -> None:
        path = request.scope["path"]
        actions = collection_route(request.method, path)
        if actions is None:
            await check_path(request)
        elif actions[0] not in RECORD_ACTIONS:
            collection = self.sat.find_collection(path.split("/")[3])
            if collection is not None:
                await check_collection(request, collection, actions)
