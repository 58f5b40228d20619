"""Auth collection endpoints: password login, token refresh, and the methods a collection offers."""

from __future__ import annotations

from dataclasses import replace

from starlette.requests import Request

from ..core import records, rules, tokens
from ..core.auth import Auth, auth_with_password, token_from_header
from ..core.collection_model import Collection
from ..core.rules.expand import Node, expand
from ..errors import ApiError, field_error, not_found
from .body import read_body
from .context import JSONResponse, current_auth, query_value, require_auth, satchel
from .picker import picked_json
from .records import export_node, request_info


def path_collection(request: Request) -> Collection:
    """The path's collection, looked up (as the reference's rate-limit middleware does) before anything else."""
    collection = satchel(request).find_collection(request.path_params["collection"])
    if collection is None:
        raise not_found("Missing or invalid collection context.")
    return collection


def auth_collection(request: Request) -> Collection:
    collection = path_collection(request)
    if not collection.is_auth:
        raise not_found("Missing or invalid auth collection context.")
    return collection


async def auth_response(request: Request, auth: Auth, token: str = "") -> JSONResponse:
    """The token (a new one unless given) and record, once the collection's authRule accepts the
    record for this request.

    `?expand=` is resolved as the record just authenticated would see it; its email always shows."""
    sat = satchel(request)
    info = request_info(request, await current_auth(request))
    if not await rules.can_access(sat, auth.collection, auth.id, "authRule", info):
        raise ApiError(403, "The request doesn't satisfy the collection requirements to authenticate.")
    node = Node(auth.collection, records.from_row(auth.collection, auth.record), show_email=True)
    await expand(sat, [node], query_value(request, "expand"), replace(info, auth=auth))
    token = token or tokens.new_token(auth.collection, auth.record, "auth")
    return picked_json(request, {"record": export_node(node, auth), "token": token})


async def with_password(request: Request) -> JSONResponse:
    collection = auth_collection(request)
    if not collection.data["passwordAuth"]["enabled"]:
        raise ApiError(403, "The collection is not configured to allow password authentication.")
    with await read_body(request) as body:
        values = body.values
    errors = {}
    for key in ("identity", "password"):
        value = values.get(key)
        if not isinstance(value, str) or not value:
            errors[key] = field_error("validation_required", "Cannot be blank.")
        elif len(value) > 255:
            errors[key] = field_error("validation_length_too_long", "The length must be no more than 255.", {"max": 255})
    if errors:
        raise ApiError(400, "An error occurred while validating the submitted data.", errors)
    auth = await auth_with_password(
        satchel(request), collection, values["identity"], values["password"], str(values.get("identityField") or "")
    )
    if auth is None:
        raise ApiError(400, "Failed to authenticate.")
    return await auth_response(request, auth)


async def refresh(request: Request) -> JSONResponse:
    collection = path_collection(request)  # a token for another collection is a 403 even on a base one
    auth = await require_auth(request)
    if auth.collection.id != collection.id:
        raise ApiError(403, f"The request requires auth record from {auth.collection.name} collection.")
    presented = token_from_header(request.headers.get("authorization", ""))
    claims = tokens.unverified_claims(presented, "auth") or {}
    return await auth_response(request, auth, "" if tokens.is_refreshable(claims) else presented)


async def methods(request: Request) -> JSONResponse:
    collection = auth_collection(request)
    password = collection.data["passwordAuth"]
    return picked_json(
        request,
        {
            "password": {"identityFields": password["identityFields"] if password["enabled"] else [], "enabled": password["enabled"]},
            "oauth2": {"providers": [], "enabled": False},
            "mfa": {"enabled": False, "duration": 0},
            "otp": {"enabled": False, "duration": 0},
            "authProviders": [],
            "usernamePassword": password["enabled"] and "username" in password["identityFields"],
            "emailPassword": password["enabled"] and "email" in password["identityFields"],
        }
    )
