"""What every handler needs from a request: the running instance, the caller, a collection."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from .. import deepjson
from ..core.auth import Auth, auth_from_token, token_from_header
from ..core.collection_model import Collection
from ..core.state import Satchel
from ..errors import ApiError, not_found


class JSONResponse(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return deepjson.dumps(content)  # a record's json field may nest past orjson's limit


def query_value(request: Request, name: str) -> str:
    """A query parameter's first value or "", as Go's url.Values.Get reads it (Starlette's get keeps the last)."""
    values = request.query_params.getlist(name)
    return values[0] if values else ""


def satchel(request: Request) -> Satchel:
    """The running instance, or the view of it inside a batch's transaction."""
    return request.scope.get("satchel", {}).get("instance") or request.app.state.satchel


async def current_auth(request: Request) -> Auth | None:
    """The caller from the Authorization header; a bad or expired token makes a guest."""
    if "auth" not in request.scope.setdefault("satchel", {}):
        token = token_from_header(request.headers.get("authorization", ""))
        found = await auth_from_token(satchel(request), token, "auth") if token else None
        request.scope["satchel"]["auth"] = found
    return request.scope["satchel"]["auth"]


async def require_auth(request: Request) -> Auth:
    auth = await current_auth(request)
    if auth is None:
        raise ApiError(401, "The request requires valid record authorization token.")
    return auth


async def require_superuser(request: Request) -> Auth:
    auth = await current_auth(request)
    if auth is None:
        raise ApiError(401, "The request requires valid record authorization token.")
    if not auth.is_superuser:
        raise ApiError(403, "The authorized record is not allowed to perform this action.")
    return auth


def collection_or_404(request: Request, message: str = "Missing collection context.") -> Collection:
    collection = satchel(request).find_collection(request.path_params["collection"])
    if collection is None:
        raise not_found(message)
    return collection
