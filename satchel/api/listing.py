"""`page`, `perPage`, `skipTotal` and `fields`: the list parameters every list endpoint shares."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from ..errors import bad_request
from ..strconv import truthy
from .context import query_value

DEFAULT_PER_PAGE = 30
MAX_PER_PAGE = 1000
INT64 = 1 << 63


def _int_param(request: Request, name: str, default: int) -> int:
    raw = query_value(request, name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError:
        raise bad_request() from None
    if not -INT64 <= value < INT64:  # strconv.Atoi's range
        raise bad_request()
    return value if value > 0 else default


def offset_of(page: int, per_page: int) -> int:
    """The rows to skip, kept within what SQL takes (a page that far out is empty either way)."""
    return min((page - 1) * per_page, INT64 - 1)


def page_params(request: Request) -> tuple[int, int, bool]:
    page = _int_param(request, "page", 1)
    per_page = min(_int_param(request, "perPage", DEFAULT_PER_PAGE), MAX_PER_PAGE)
    skip_total = truthy(query_value(request, "skipTotal"))
    return page, per_page, skip_total


def page_body(items: list[Any], page: int, per_page: int, total: int) -> dict[str, Any]:
    pages = -1 if total < 0 else (total + per_page - 1) // per_page
    return {"items": items, "page": page, "perPage": per_page, "totalItems": total, "totalPages": pages}


def paginate(request: Request, items: list[Any]) -> dict[str, Any]:
    """A page of an in-memory list (collections)."""
    page, per_page, skip_total = page_params(request)
    chunk = items[(page - 1) * per_page : page * per_page]
    return page_body(chunk, page, per_page, -1 if skip_total else len(items))

