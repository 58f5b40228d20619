"""`POST /api/batch`: record creates, updates, upserts and deletes in one transaction.

As in PocketBase, each sub-request runs through the ordinary record handler, as an internal
request carrying the caller's auth, its own URL, headers and body, and its collection's rules;
all of them share one database transaction. Files are written as each sub-request runs and
removed again if the batch fails; files a batch replaces or deletes go only after the commit.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import orjson
from starlette.requests import Request
from starlette.responses import Response

from ..core import record_files, records
from ..core.fields.casting import to_id
from ..core.state import Satchel
from ..errors import ApiError, bad_request, field_error
from . import records as record_api
from .body import JSON_PAYLOAD_KEY, RequestData, UploadedFile, form_values, read_body
from .context import JSONResponse, current_auth, satchel
from .form_syntax import parse_query

log = logging.getLogger("satchel.batch")

BATCH_CONTEXT = "batch"
DEFAULT_TIMEOUT = 3  # seconds, when the setting is 0
DEFAULT_MAX_BODY = 128 << 20  # bytes, when the setting is 0
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
MAX_URL = 2000
INTERNAL = "Something went wrong while processing your request."

Handler = Callable[[Request], Awaitable[Response]]
_RECORDS = r"^{method} /api/collections/(?P<collection>[^/?]+)/records"
ACTIONS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(_RECORDS.format(method="PUT") + r"(?P<query>\?.*)?$"), "upsert"),
    (re.compile(_RECORDS.format(method="POST") + r"(?P<query>\?.*)?$"), "create"),
    (re.compile(_RECORDS.format(method="PATCH") + r"/(?P<id>[^/?]+)(?P<query>\?.*)?$"), "update"),
    (re.compile(_RECORDS.format(method="DELETE") + r"/(?P<id>[^/?]+)(?P<query>\?.*)?$"), "delete"),
]
HANDLERS: dict[str, Handler] = {
    "create": record_api.create_record, "update": record_api.update_record, "delete": record_api.delete_record,
}


class _Failed(Exception):
    """Sub-request `index` failed with `error`: the whole batch rolls back."""

    def __init__(self, index: int, error: ApiError) -> None:
        self.index, self.error = index, error


class _UnknownAction(Exception):
    """No record handler serves this method and URL."""


def _plain_error(index: int) -> ApiError:
    """A failure that is no API error, as the reference reports it: the generic 400 for the
    first request, but a 500 for any later one (the previous request's handler wraps it)."""
    return ApiError(500 if index else 400, INTERNAL)


async def batch(request: Request) -> JSONResponse:
    sat = satchel(request)
    config = sat.settings["batch"]
    max_requests = config.get("maxRequests") or 0
    if not config.get("enabled") or max_requests <= 0:
        raise ApiError(403, "Batch requests are not allowed.")
    auth = await current_auth(request)
    try:
        body = await read_body(request, config.get("maxBodySize") or DEFAULT_MAX_BODY, sat.spool.folder())
    except ApiError as exc:
        if exc.status != 400:
            raise
        raise bad_request("Failed to read the submitted batch data.") from None
    with body:
        items = parse_requests(body.values)
        if items is None:
            raise bad_request("Failed to read the submitted batch data.")
        attach_files(items, body.files)
        if errors := validate(items, max_requests):
            raise ApiError(400, "Invalid batch request data.", {"requests": errors})
        results = await _run(request, sat, auth, items, config.get("timeout") or DEFAULT_TIMEOUT)
    return JSONResponse(results)


def parse_requests(values: dict[str, Any]) -> list[dict[str, Any]] | None:
    """The `requests` list as Go binds it into InternalRequest structs; None where binding fails."""
    raw = values.get("requests")
    if raw is None:
        return []
    if not isinstance(raw, list):
        return None
    items = []
    for item in raw:
        if item is None:
            raise ApiError(500, INTERNAL)  # the reference's validation trips over the nil request
        if not isinstance(item, dict):
            return None
        method, url = item.get("method"), item.get("url")
        body, headers = item.get("body"), item.get("headers")
        if not (isinstance(method, str | None) and isinstance(url, str | None) and isinstance(body, dict | None)):
            return None
        if not (headers is None or isinstance(headers, dict) and all(isinstance(v, str | None) for v in headers.values())):
            return None
        headers = {name: value or "" for name, value in (headers or {}).items()}
        items.append({"method": method or "", "url": url or "", "body": body or {}, "headers": headers, "files": {}})
    return items


def attach_files(items: list[dict[str, Any]], files: dict[str, list[UploadedFile]]) -> None:
    """Uploads named `requests.N.field` or `requests[N].field` go to sub-request N as `field`.

    PocketBase names each upload here (`a.txt` -> `a_{random}.txt`) and sends the sub-request
    that name as the client filename, so batch uploads are named twice, as there. The uploads
    take the place of any body value under the same key."""
    for index, item in enumerate(items):
        for key, uploads in files.items():
            for prefix in (f"requests.{index}.", f"requests[{index}]."):
                if key.startswith(prefix):
                    for upload in uploads:
                        upload.filename = record_files.new_file(upload).name
                    name = key.removeprefix(prefix)
                    item["body"].pop(name, None)
                    item["files"].setdefault(name, []).extend(uploads)


def validate(items: list[dict[str, Any]], max_requests: int) -> Any:
    """The form's errors as ozzo-validation reports them: the list itself first, then each item."""
    if not items:
        return field_error("validation_required", "Cannot be blank.")
    if len(items) > max_requests:
        return field_error("validation_length_too_long", f"The length must be no more than {max_requests}.",
                           {"max": max_requests, "min": 0})
    errors: dict[str, Any] = {}
    for index, item in enumerate(items):
        found: dict[str, Any] = {}
        if not item["method"]:
            found["method"] = field_error("validation_required", "Cannot be blank.")
        elif item["method"] not in METHODS:
            found["method"] = field_error("validation_in_invalid", "Must be a valid value.")
        if not item["url"]:
            found["url"] = field_error("validation_required", "Cannot be blank.")
        elif len(item["url"]) > MAX_URL:
            found["url"] = field_error("validation_length_too_long", f"The length must be no more than {MAX_URL}.",
                                       {"max": MAX_URL, "min": 0})
        if found:
            errors[str(index)] = found
    return dict(sorted(errors.items()))


async def _run(request: Request, sat: Satchel, auth: Any, items: list[dict[str, Any]], timeout: float) -> list[Any]:
    """Every sub-request in order inside one transaction; the first failure rolls all back."""
    results: list[Any] = []
    try:
        async with sat.db.transaction() as tx:
            inner = sat.within(tx)
            with anyio.fail_after(timeout):  # as in the reference, the clock starts once the transaction has
                for index, item in enumerate(items):
                    try:
                        results.append(await _sub_request(request, inner, auth, item))
                    except ApiError as exc:
                        raise _Failed(index, exc) from None
                    except _UnknownAction:
                        raise _Failed(index, _plain_error(index)) from None
                    except Exception as exc:
                        log.exception("batch sub-request %d failed", index)
                        raise _Failed(index, _plain_error(index)) from exc
    except TimeoutError:
        raise bad_request("Batch transaction failed.") from None
    except _Failed as failed:
        detail = {"code": "batch_request_failed", "message": "Batch request failed.", "response": failed.error.body()}
        raise ApiError(400, "Batch transaction failed.", {"requests": {str(failed.index): detail}}) from None
    return results


async def _sub_request(request: Request, sat: Satchel, auth: Any, item: dict[str, Any]) -> dict[str, Any]:
    """One sub-request through its record handler: `{"body": ..., "status": ...}`."""
    action, params = await _action(sat, item)
    if action is None:
        raise _UnknownAction()
    query = (params.pop("query", None) or "?")[1:]
    # Go re-sends the sub-request as multipart: `@jsonPayload` over any query values, as a form does.
    pairs = [*parse_query(query.encode()), (JSON_PAYLOAD_KEY, orjson.dumps(item["body"]))]
    data = RequestData(form_values(pairs), item["files"])
    scope = dict(request.scope)
    scope.update(
        method=item["method"].upper(), path=item["url"].split("?", 1)[0], query_string=query.encode(),
        path_params=params, headers=_headers(request, item["headers"]),
        satchel={**request.scope.get("satchel", {}), "auth": auth, "instance": sat, "body": data, "context": BATCH_CONTEXT},
    )
    response = await HANDLERS[action](Request(scope))
    return {"body": orjson.loads(response.body) if response.body else None, "status": response.status_code}


async def _action(sat: Satchel, item: dict[str, Any]) -> tuple[str | None, dict[str, str]]:
    """Which record handler serves this sub-request; an upsert becomes an update when the id exists."""
    line = item["method"].upper() + " " + item["url"]
    for pattern, action in ACTIONS:
        match = pattern.match(line)
        if match is None:
            continue
        params = {k: v for k, v in match.groupdict().items() if v is not None}
        if action != "upsert":
            return action, params
        record_id = to_id(item["body"].get("id"))
        collection = sat.find_collection(params["collection"])
        if record_id and collection is not None and await records.find(sat, collection, record_id) is not None:
            item["method"], params["id"] = "PATCH", record_id
            item["url"] = f"/api/collections/{params['collection']}/records/{record_id}{params.get('query', '')}"
            return "update", params
        item["method"] = "POST"
        return "create", params
    return None, {}


def _headers(request: Request, extra: dict[str, str]) -> list[tuple[bytes, bytes]]:
    """The batch request's headers with the sub-request's set over them (never Authorization)."""
    headers = [(k, v) for k, v in request.scope["headers"] if k != b"content-type"]
    for name, value in extra.items():
        key = name.lower().encode("latin-1")
        if key == b"authorization":
            continue  # the auth is the batch request's own
        headers = [(k, v) for k, v in headers if k != key] + [(key, value.encode())]
    return [*headers, (b"content-type", b"multipart/form-data")]
