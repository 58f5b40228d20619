"""`POST /api/collections/{c}/impersonate/{id}`: a superuser gets an auth token for any record.

The token is static: it lasts `duration` seconds (0: the collection's auth token duration)
and auth-refresh hands it back unchanged instead of renewing it.
"""

from __future__ import annotations

import re
from typing import Any

from starlette.requests import Request

from ..core import tokens
from ..core.auth import Auth
from ..core.fields.casting import to_str
from ..db import store
from ..errors import ApiError, bad_request, field_error, not_found
from .auth import auth_response
from .binding import LOADING_FAILED, bound_values
from .context import JSONResponse, require_superuser, satchel

_INT64 = 1 << 63
_INTEGER = re.compile(r"[+-]?\d+")


def _duration(value: Any, is_json: bool) -> int:
    """The `duration` as Go binds it into an int64: a JSON integer or a form's integer text."""
    if is_json and (isinstance(value, bool) or not isinstance(value, int)):
        raise bad_request(LOADING_FAILED)
    text = str(value) if is_json else to_str(value)
    if not _INTEGER.fullmatch(text) or not -_INT64 <= int(text) < _INT64:
        raise bad_request(LOADING_FAILED)
    return int(text)


def token_seconds(duration: int) -> int:
    """Seconds the token lasts: Go multiplies into nanoseconds in an int64, so a duration past
    ~292 years wraps to zero or less, which means the collection's own duration (0 here)."""
    nanos = (duration * 1_000_000_000 + _INT64) % (2 * _INT64) - _INT64
    return nanos // 1_000_000_000 if nanos > 0 else 0


async def impersonate(request: Request) -> JSONResponse:
    await require_superuser(request)
    sat = satchel(request)
    collection = satchel(request).find_collection(request.path_params["collection"])
    if collection is None or not collection.is_auth:
        raise not_found("Missing or invalid auth collection context.")
    record = await sat.db.read(store.select_record, sat.schema.table(collection), request.path_params["id"])
    if record is None:
        raise not_found()
    values, is_json = await bound_values(request, ("duration",), every_error_loading=True)
    duration = _duration(values["duration"], is_json) if "duration" in values else 0
    if duration < 0:
        raise ApiError(400, "An error occurred while validating the submitted data.", {"duration": field_error(
            "validation_min_greater_equal_than_required", "Must be no less than 0.", {"threshold": 0})})
    auth = Auth(collection, record)
    token = tokens.new_token(collection, record, "auth", token_seconds(duration), refreshable=False)
    return await auth_response(request, auth, token)
