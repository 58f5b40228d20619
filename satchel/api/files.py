"""The Files API: `GET /api/files/{collection}/{record}/{filename}` and `POST /api/files/token`.

`download` reads like PocketBase's order of checks; each step is a small function.
The record-membership check comes before any storage access: only a name the
record holds can ever become a storage key.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any, NamedTuple

from starlette.requests import Request

from ..core import records, rules, tokens, views
from ..core.auth import Auth, auth_from_token
from ..core.collection_model import Collection
from ..core.fields import FileField, field_type_as
from ..errors import ApiError, not_found
from ..storage import keys
from ..storage.base import ObjectInfo, Storage, StorageError, StorageInitError
from ..strconv import truthy
from ..thumbs.spec import thumb_allowed
from .context import JSONResponse, query_value, require_auth, satchel
from .object_response import ObjectResponse, asked_headers, object_response
from .picker import picked_json
from .rate_limits import check_collection, check_path

log = logging.getLogger("satchel.files")

THUMB_TYPES = {"image/png", "image/jpg", "image/jpeg", "image/gif", "image/webp"}


async def file_token(request: Request) -> JSONResponse:
    auth = await require_auth(request)
    return picked_json(request, {"token": tokens.new_token(auth.collection, auth.record, "file")})


def query_param(request: Request, name: str) -> str:
    """One query parameter or ""; most downloads have no query string, and skip parsing one."""
    return query_value(request, name) if request.scope.get("query_string") else ""


def owning_field(collection: Collection, values: dict[str, Any], filename: str) -> dict[str, Any] | None:
    """The first file field, in schema order, whose value holds `filename` exactly."""
    for field in collection.file_fields():
        if filename in field_type_as(field, FileField).as_list(values.get(field["name"])):
            return field
    return None


async def can_download_protected(request: Request, collection: Collection) -> bool:
    """Only a file token in `?token=` counts here: browsers send no headers for `<img src>`."""
    token = query_param(request, "token")
    auth: Auth | None = await auth_from_token(satchel(request), token, "file") if token else None
    from .records import request_info  # the rule sees this request, with the token's record as @request.auth

    info = request_info(request, auth, context=rules.PROTECTED_FILE)
    return await rules.can_access(satchel(request), collection, request.path_params["record"], "viewRule", info)


class Served(NamedTuple):
    key: str
    name: str
    info: ObjectInfo | None
    body: AsyncIterator[bytes] | None = None  # the whole body, when it came with the info


async def served_object(
    request: Request, storage: Storage, collection: Collection, record_id: str, field: dict[str, Any], filename: str
) -> Served:
    """The thumb when one is asked for, allowed and made, else the original."""
    original = keys.file_key(collection.id, record_id, filename)
    thumb = query_param(request, "thumb")
    if not thumb or not thumb_allowed(thumb, field.get("thumbs") or []):
        if request.method == "GET" and not asked_headers(request.scope["headers"]):
            # All of it, whatever it holds: info and body in one backend request (S3: one GET).
            opened = await storage.open(original)
            return Served(original, filename, None) if opened is None else Served(original, filename, opened.info, opened.body)
        return Served(original, filename, await storage.stat(original))
    info = await storage.stat(original)
    if info is None:
        raise not_found()
    if info.content_type not in THUMB_TYPES:
        return Served(original, filename, info)
    thumb_key = keys.thumb_key(collection.id, record_id, filename, thumb)
    thumb_info = await satchel(request).thumbs(storage).ensure(original, thumb_key, thumb, info.content_type)
    if thumb_info is not None:
        return Served(thumb_key, f"{thumb}_{filename}", thumb_info)
    log.warning("thumb %s of %s failed; serving the original", thumb, original)
    return Served(original, filename, info)


async def download(request: Request) -> ObjectResponse:
    sat = satchel(request)
    # Extra path segments fall through to the static handler; an encoded %2F does not.
    if request.scope.get("raw_path", b"").split(b"?")[0].count(b"/") != 5:
        await check_path(request)  # the reference's static files route
        raise not_found("File not found.")
    collection = sat.find_collection(request.path_params["collection"])
    if collection is None:
        raise not_found("Missing or invalid collection context.")
    await check_collection(request, collection, ("file",))
    record_id, filename = request.path_params["record"], request.path_params["filename"]
    values = await records.find_files(sat, collection, record_id) if record_id else None
    if values is None:
        raise not_found()
    field = owning_field(collection, values, filename)
    if field is None:
        raise not_found()
    if field.get("protected") and not await can_download_protected(request, collection):
        raise not_found()
    owner, owner_id = collection, record_id
    if collection.is_view:  # the file is its source record's
        found = await views.file_source(sat, collection, field["name"], filename)
        if found is None:
            raise not_found()
        owner, owner_id = found
    try:
        storage = sat.storage()
        served = await served_object(request, storage, owner, owner_id, field, filename)
    except StorageInitError:
        raise ApiError(500, "Filesystem initialization failure.") from None
    except StorageError:
        raise not_found() from None
    request.scope.setdefault("satchel", {})["embeddable"] = True
    if served.info is None:
        raise not_found()
    download_flag = truthy(query_param(request, "download"))
    return object_response(
        request.method, request.scope["headers"], storage, served.key, served.info, served.name, download_flag, served.body
    )
