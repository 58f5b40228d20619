"""`/api/logs`: the request logs, listed, read, counted per hour and truncated (superusers only)."""

from __future__ import annotations

import sqlalchemy as sa
from starlette.requests import Request
from starlette.responses import Response

from ..core import rules
from ..core.logs import FIELDS
from ..core.request_entry import QUIET_SUCCESS
from ..db.logs import logs_table
from ..errors import ApiError, bad_request, not_found
from .context import JSONResponse, require_superuser, satchel
from .listing import offset_of, page_body, page_params
from .picker import pick_response, picked_json


async def _superuser_quietly(request: Request) -> None:
    """Superusers only; a successful read of the logs is not itself logged, as in the reference."""
    await require_superuser(request)
    request.scope["satchel"][QUIET_SUCCESS] = True


async def list_logs(request: Request) -> JSONResponse:
    await _superuser_quietly(request)
    sat = satchel(request)
    scope = rules.scope_of(sat)
    page, per_page, skip_total = page_params(request)
    filter_text, sort_text = request.query_params.get("filter", ""), request.query_params.get("sort", "")
    try:
        where = FIELDS.condition(scope, logs_table, filter_text) if filter_text else None
        order = FIELDS.order(scope, logs_table, sort_text)
        if rules.RANDOM not in (name for name, _ in rules.parse_sort(sort_text)):
            order += [logs_table.c.created.asc(), logs_table.c.id.asc()]  # stable pages
        items, total = await sat.logs.page(where, order, per_page, offset_of(page, per_page), not skip_total)
    except (rules.FilterError, sa.exc.SQLAlchemyError, RecursionError):
        raise bad_request() from None
    body = page_body(items, page, per_page, total)
    body["items"] = [pick_response(item, request.query_params.get("fields")) for item in items]
    return JSONResponse(body)


async def view_log(request: Request) -> JSONResponse:
    await _superuser_quietly(request)
    found = await satchel(request).logs.find(request.path_params["id"])
    if found is None:
        raise not_found()
    return picked_json(request, found)


async def log_stats(request: Request) -> JSONResponse:
    await _superuser_quietly(request)
    sat = satchel(request)
    filter_text = request.query_params.get("filter", "")
    try:
        where = FIELDS.condition(rules.scope_of(sat), logs_table, filter_text) if filter_text else None
    except (rules.FilterError, RecursionError):
        raise bad_request("Invalid filter format.") from None
    try:
        stats = await sat.logs.stats(where)
    except sa.exc.SQLAlchemyError:
        raise bad_request("Failed to generate logs stats.") from None
    return picked_json(request, stats)


async def truncate_logs(request: Request) -> Response:
    await _superuser_quietly(request)
    try:
        await satchel(request).logs.truncate()
    except sa.exc.SQLAlchemyError:
        raise ApiError(500, "Failed to truncate all logs.") from None
    return Response(status_code=204)
