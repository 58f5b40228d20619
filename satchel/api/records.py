"""`/api/collections/{collection}/records`: list, view, create, update, delete."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from ..core import records, rules
from ..core.auth import Auth
from ..core.collections import Collection
from ..core.fields import field_type
from ..db import store
from .body import read_body
from .context import JSONResponse, collection_or_404, current_auth, satchel
from .errors import ApiError, bad_request, not_found
from .listing import page_body, page_params, pick_fields

BASE_BODY_LIMIT = 32 << 20
ONLY_SUPERUSERS = "Only superusers can perform this action."


def body_limit(collection: Collection) -> int:
    """PocketBase's per-collection limit: room for every file field's uploads and big JSON/editor values."""
    limit = BASE_BODY_LIMIT
    for field in collection.fields:
        ftype = field_type(field)
        if field["type"] == "file":
            limit += ftype.max_size(field) * ftype.max_select(field)
        elif field["type"] in ("json", "editor"):
            limit += ftype.max_size(field)
    return limit


def _check_rule(collection: Collection, rule: str, auth: Auth | None, denied: ApiError) -> None:
    if rules.allows(collection, rule, auth):
        return
    if rules.superusers_only(collection, rule):
        raise ApiError(403, ONLY_SUPERUSERS)
    raise denied


def _sort(collection: Collection, raw: str) -> tuple[list[tuple[str, bool]], bool]:
    order: list[tuple[str, bool]] = []
    random = False
    for part in (p.strip() for p in raw.split(",")):
        if not part:
            continue
        if part == "@random":
            random = True
            continue
        desc = part.startswith("-")
        name = part.lstrip("+-")
        if collection.field(name) is None or (collection.field(name) or {}).get("hidden"):
            raise bad_request()
        order.append((name, desc))
    return order, random


def _default_order(collection: Collection) -> list[tuple[str, bool]]:
    return [("created", False), ("id", False)] if collection.field("created") else [("id", False)]


async def list_records(request: Request) -> JSONResponse:
    collection = collection_or_404(request)
    auth = await current_auth(request)
    sat = satchel(request)
    page, per_page, skip_total = page_params(request)
    order, random = _sort(collection, request.query_params.get("sort", ""))
    if request.query_params.get("filter", "").strip():
        raise bad_request()
    if not rules.allows(collection, "listRule", auth):
        if rules.superusers_only(collection, "listRule"):
            raise ApiError(403, ONLY_SUPERUSERS)
        return JSONResponse(page_body([], page, per_page, -1 if skip_total else 0))
    rows, total = await sat.db.read(
        store.list_records, sat.schema.table(collection), order or ([] if random else _default_order(collection)),
        random, per_page, (page - 1) * per_page, not skip_total,
    )
    fields = request.query_params.get("fields")
    items = [pick_fields(records.export(collection, records.from_row(collection, row), auth), fields) for row in rows]
    return JSONResponse(page_body(items, page, per_page, total))


async def _existing(request: Request, collection: Collection) -> dict[str, Any]:
    found = await records.find(satchel(request), collection, request.path_params["id"])
    if found is None:
        raise not_found()
    return found


async def view_record(request: Request) -> JSONResponse:
    collection = collection_or_404(request)
    auth = await current_auth(request)
    _check_rule(collection, "viewRule", auth, not_found())
    values = await _existing(request, collection)
    return JSONResponse(pick_fields(records.export(collection, values, auth), request.query_params.get("fields")))


async def create_record(request: Request) -> JSONResponse:
    collection = collection_or_404(request)
    auth = await current_auth(request)
    _check_rule(collection, "createRule", auth, bad_request("Failed to create record."))
    sat = satchel(request)
    with await read_body(request, body_limit(collection), sat.config.tmp_dir) as body:
        values = await records.save(sat, collection, None, body, auth)
    return JSONResponse(pick_fields(records.export(collection, values, auth), request.query_params.get("fields")))


async def update_record(request: Request) -> JSONResponse:
    collection = collection_or_404(request)
    auth = await current_auth(request)
    _check_rule(collection, "updateRule", auth, not_found())
    sat = satchel(request)
    current = await _existing(request, collection)
    with await read_body(request, body_limit(collection), sat.config.tmp_dir) as body:
        values = await records.save(sat, collection, current, body, auth)
    return JSONResponse(pick_fields(records.export(collection, values, auth), request.query_params.get("fields")))


async def delete_record(request: Request) -> Response:
    collection = collection_or_404(request)
    auth = await current_auth(request)
    _check_rule(collection, "deleteRule", auth, not_found())
    await _existing(request, collection)
    await records.delete(satchel(request), collection, request.path_params["id"])
    return Response(status_code=204)
