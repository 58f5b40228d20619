"""`/api/collections/{collection}/records`: list, view, create, update, delete.

Each handler follows the reference's order of checks: a null rule answers 403 to
non-superusers before anything else; a list rule filters silently; a view, update or
delete rule that doesn't match answers 404; a failing create rule answers 400.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from starlette.requests import Request
from starlette.responses import Response

from ..core import record_delete, records, rules
from ..core.auth import Auth, is_superuser
from ..core.collection_model import Collection
from ..core.fields import field_type
from ..core.rules import query
from ..core.rules.expand import Node, expand
from ..core.rules.request_info import rule_body
from ..errors import ApiError, bad_request, not_found
from ..files.names import shown_name
from .body import BODY_LIMIT, read_body
from .context import JSONResponse, collection_or_404, current_auth, query_value, satchel
from .listing import offset_of, page_body, page_params
from .picker import pick_response
from .rate_limits import check_collection

ONLY_SUPERUSERS = "Only superusers can perform this action."
SUPERUSER_ONLY_FIELDS = ("@collection.", "@request.")


def body_limit(collection: Collection) -> int:
    """PocketBase's per-collection limit: room for every file field's uploads and big JSON/editor values."""
    return BODY_LIMIT + sum(field_type(field).body_allowance(field) for field in collection.fields)


def request_info(request: Request, auth: Auth | None, body: dict[str, Any] | None = None,
                 context: str = rules.DEFAULT) -> rules.RequestInfo:
    """`@request.*` for this request: first query values, normalised headers, the caller."""
    query_values: dict[str, str] = {}
    for key, value in request.query_params.multi_items():
        query_values.setdefault(key, value)
    return rules.RequestInfo(
        auth=auth,
        method=request.method,
        context=request.scope.get("satchel", {}).get("context", context),
        query=query_values,
        headers=rules.normalize_headers(request.headers.items()),
        body=body or {},
    )


async def writable_or_400(request: Request, action: str) -> Collection:
    """The path's collection, once the rate limits let the request through, if its records can
    be written: a view's can't (before any rule)."""
    collection = collection_or_404(request)
    await check_collection(request, collection, (action,))
    if collection.is_view:
        raise bad_request("Unsupported collection type.")
    return collection


def _deny_null_rule(collection: Collection, rule: str, auth: Auth | None) -> None:
    if collection.rule(rule) is None and not is_superuser(auth):
        raise ApiError(403, ONLY_SUPERUSERS)


def _check_superuser_only_fields(request: Request, auth: Auth | None) -> None:
    """Guests and users may not filter or sort by `@collection.*` or `@request.*`."""
    if is_superuser(auth):
        return
    for param in ("filter", "sort"):
        value = query_value(request, param)
        for prefix in SUPERUSER_ONLY_FIELDS:
            if value and prefix in value:
                raise ApiError(403, f"Only superusers can filter by {prefix}")


def _order(request: Request, collection: Collection, info: rules.RequestInfo) -> list[Any]:
    """The `sort` parameter's ORDER BY, then creation order so that pages are stable (a view's
    rows come in its query's order, as in the reference)."""
    sat = satchel(request)
    table = sat.schema.table(collection)
    raw = query_value(request, "sort")
    order = rules.order_by(rules.scope_of(sat), collection, info, raw)
    if collection.is_view or any(part.strip() == "@random" for part in raw.split(",")):
        return order
    tiebreak = [table.c[name].asc() for name in ("created", "id") if collection.field(name) is not None]
    return order + tiebreak


async def list_records(request: Request) -> JSONResponse:
    collection = collection_or_404(request)
    await check_collection(request, collection, ("list",))
    auth = await current_auth(request)
    sat = satchel(request)
    _deny_null_rule(collection, "listRule", auth)
    _check_superuser_only_fields(request, auth)
    page, per_page, skip_total = page_params(request)
    info = request_info(request, auth)
    try:
        where = rules.list_condition(rules.scope_of(sat), collection, info, query_value(request, "filter"))
        order = _order(request, collection, info)
        rows, total = await sat.db.read(
            query.list_records, sat.schema.table(collection), where, order, per_page, offset_of(page, per_page), not skip_total,
        )
    except rules.SuperusersOnly:
        raise ApiError(403, ONLY_SUPERUSERS) from None
    except (rules.FilterError, sa.exc.SQLAlchemyError, RecursionError):
        raise bad_request() from None
    items = await _enrich(request, collection, [records.from_row(collection, row) for row in rows], auth, info)
    return JSONResponse(page_body(items, page, per_page, total))


async def _enrich(request: Request, collection: Collection, values: list[dict[str, Any]], auth: Auth | None,
                  info: rules.RequestInfo) -> list[dict[str, Any]]:
    """Records as JSON: emails shown to their managers, `expand` resolved, `fields` picked."""
    sat = satchel(request)
    managed = await rules.managed_ids(sat, collection, [v["id"] for v in values], info)
    nodes = [Node(collection, v, show_email=v["id"] in managed) for v in values]
    await expand(sat, nodes, query_value(request, "expand"), info)
    fields = query_value(request, "fields")
    return [pick_response(export_node(node, auth), fields) for node in nodes]


def export_node(node: Node, auth: Auth | None) -> dict[str, Any]:
    out = records.export(node.collection, node.values, auth, show_email=node.show_email)
    if node.expand is not None:
        out["expand"] = {
            name: [export_node(n, auth) for n in child] if isinstance(child, list) else export_node(child, auth)
            for name, child in sorted(node.expand.items())
        }
        out = dict(sorted(out.items()))
    return out


async def _respond(request: Request, collection: Collection, values: dict[str, Any], auth: Auth | None) -> JSONResponse:
    [item] = await _enrich(request, collection, [values], auth, request_info(request, auth))
    return JSONResponse(item)


async def _find_allowed(request: Request, collection: Collection, rule: str, info: rules.RequestInfo) -> dict[str, Any]:
    """The record the path names, if the rule lets this request see it; 404 otherwise."""
    sat = satchel(request)
    record_id = request.path_params["id"]
    try:
        where = rules.rule_condition(rules.scope_of(sat), collection, rule, info)
        row = await sat.db.read(query.find_record, sat.schema.table(collection), record_id, where)
    except rules.SuperusersOnly:
        raise ApiError(403, ONLY_SUPERUSERS) from None
    except (rules.FilterError, sa.exc.SQLAlchemyError, RecursionError):
        raise not_found() from None
    if row is None:
        raise not_found()
    return records.from_row(collection, row)


async def view_record(request: Request) -> JSONResponse:
    collection = collection_or_404(request)
    await check_collection(request, collection, ("view",))
    auth = await current_auth(request)
    _deny_null_rule(collection, "viewRule", auth)
    values = await _find_allowed(request, collection, "viewRule", request_info(request, auth))
    return await _respond(request, collection, values, auth)


def _uploads(body: Any) -> dict[str, list[str]]:
    return {key: [shown_name(f.filename) for f in files] for key, files in body.files.items()}


async def create_record(request: Request) -> JSONResponse:
    collection = await writable_or_400(request, "create")
    auth = await current_auth(request)
    _deny_null_rule(collection, "createRule", auth)
    sat = satchel(request)
    with await read_body(request, body_limit(collection), sat.spool.folder()) as body:
        zero = {f["name"]: field_type(f).zero(f) for f in collection.fields}
        data = rule_body(collection, zero, body.values, _uploads(body), is_superuser(auth))
        info = request_info(request, auth, data)

        def unverified(row: dict[str, Any]) -> dict[str, Any]:
            return {**row, "verified": False} if collection.is_auth else row  # rules must not trust a self-set flag

        async def create_rule(row: dict[str, Any]) -> bool:
            return await rules.create_allowed(sat, collection, unverified(row), info)

        async def manages(row: dict[str, Any]) -> bool:
            return await rules.manages_unsaved(sat, collection, unverified(row), info)

        values = await records.save(sat, collection, None, body, auth, check=create_rule, manager=manages)
    return await _respond(request, collection, values, auth)


async def update_record(request: Request) -> JSONResponse:
    collection = await writable_or_400(request, "update")
    auth = await current_auth(request)
    _deny_null_rule(collection, "updateRule", auth)
    sat = satchel(request)
    stored = await records.find(sat, collection, request.path_params["id"])
    if stored is None:
        raise not_found()
    with await read_body(request, body_limit(collection), sat.spool.folder()) as body:
        data = rule_body(collection, stored, body.values, _uploads(body), is_superuser(auth))
        info = request_info(request, auth, data)
        current = await _find_allowed(request, collection, "updateRule", info)
        manager = bool(await rules.managed_ids(sat, collection, [current["id"]], info))
        values = await records.save(sat, collection, current, body, auth, manager=manager)
    return await _respond(request, collection, values, auth)


async def delete_record(request: Request) -> Response:
    collection = await writable_or_400(request, "delete")
    auth = await current_auth(request)
    _deny_null_rule(collection, "deleteRule", auth)
    await _find_allowed(request, collection, "deleteRule", request_info(request, auth))
    await record_delete.delete(satchel(request), collection, request.path_params["id"])
    return Response(status_code=204)
