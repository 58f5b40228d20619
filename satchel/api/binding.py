"""Request bodies bound into small Go forms: the auth flows, impersonate, the collections import.

PocketBase's `BindBody` decodes JSON into a struct (keys matched case-insensitively, null
leaving a field alone) and form bodies into it by name; a failure is each handler's
"loading" 400, whatever went wrong.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from ..errors import ApiError, bad_request
from .body import read_body

LOADING_FAILED = "An error occurred while loading the submitted data."
UNSUPPORTED_TYPE = "Unsupported Content-Type."  # router.ErrUnsupportedContentType, an ApiError of its own


async def bound_values(request: Request, names: tuple[str, ...], every_error_loading: bool = False) -> tuple[dict[str, Any], bool]:
    """The body's values for the Go form fields `names`, and whether it was JSON.

    JSON keys match the names case-insensitively and null leaves a field alone, as Go's decoder
    does; form values are the first of repeats. A failure is the "loading" 400, except that most
    handlers keep BindBody's own Content-Type error; `every_error_loading` is for those that don't
    (confirm-password-reset, impersonate)."""
    try:
        async with await read_body(request) as body:
            values = body.values
    except ApiError as exc:
        if exc.status != 400 or (exc.message == UNSUPPORTED_TYPE and not every_error_loading):
            raise
        raise bad_request(LOADING_FAILED) from exc
    form: dict[str, Any] = {}
    is_json = request.headers.get("content-type", "").strip().startswith("application/json")
    for key, value in values.items():
        name = next((n for n in names if n.lower() == key.lower()), None) if is_json else key
        if name not in names or value is None:
            continue
        if isinstance(value, list) and value and not is_json:
            value = value[0]
        form[name] = value
    return form, is_json
