"""`/api/collections`: superusers shape the schema here."""

from __future__ import annotations

import logging

import sqlalchemy as sa
from starlette.requests import Request
from starlette.responses import Response

from ..core import collections_import, file_deletes, record_delete, rules, scaffolds, schema_changes
from ..core.collection_model import Collection
from ..core.fields.casting import to_str
from ..core.state import Satchel
from ..errors import ApiError, bad_request, field_error, not_found
from ..storage import keys
from ..strconv import parse_bool
from .binding import LOADING_FAILED, bound_values
from .body import read_body
from .context import JSONResponse, query_value, require_superuser, satchel
from .listing import paginate
from .picker import pick_response, picked_json

log = logging.getLogger("satchel.collections")


async def _body(request: Request) -> dict:
    data = await read_body(request)
    data.close()
    return data.values


def _find(request: Request):
    found = satchel(request).find_collection(request.path_params["collection"])
    if found is None:
        raise not_found()
    return found


SORTABLE = ("id", "name", "type", "system", "created", "updated")


def sort_collections(items: list[dict], raw: str) -> list[dict]:
    """Apply `sort` (e.g. `-system,name`): the last key is applied first, as a stable sort."""
    for part in reversed([p.strip() for p in raw.split(",") if p.strip()]):
        key = part.lstrip("+-")
        if key not in SORTABLE:
            raise bad_request()
        items = sorted(items, key=lambda item: item[key], reverse=part.startswith("-"))
    return items


async def list_collections(request: Request) -> JSONResponse:
    await require_superuser(request)
    sat = satchel(request)
    items = [c.public() for c in sat.schema.all()]
    filter_text = query_value(request, "filter")
    if filter_text:
        try:
            query = rules.collections_query(rules.scope_of(sat), items, filter_text)
            wanted = set(await sat.db.read(rules.query.ids_of, query))
        except (rules.FilterError, sa.exc.SQLAlchemyError, RecursionError):
            raise bad_request() from None
        items = [item for item in items if item["id"] in wanted]
    body = paginate(request, sort_collections(items, query_value(request, "sort")))
    body["items"] = [pick_response(item, query_value(request, "fields")) for item in body["items"]]
    return JSONResponse(body)


async def view_collection(request: Request) -> JSONResponse:
    await require_superuser(request)
    return picked_json(request, _find(request).public())


async def create_collection(request: Request) -> JSONResponse:
    await require_superuser(request)
    sat = satchel(request)
    collection = await sat.change_schema(schema_changes.create, await _body(request))
    return picked_json(request, collection.public())


async def update_collection(request: Request) -> JSONResponse:
    await require_superuser(request)
    sat = satchel(request)
    current = _find(request)
    collection = await sat.change_schema(schema_changes.update, current.id, await _body(request))
    return picked_json(request, collection.public())


async def delete_collection(request: Request) -> Response:
    await require_superuser(request)
    sat = satchel(request)
    collection = await sat.change_schema(schema_changes.delete, _find(request).id)
    await _remove_files(sat, [collection])
    return Response(status_code=204)


async def _remove_files(sat: Satchel, deleted: list[Collection]) -> None:
    """Delete the stored files of collections that are gone (unless a backup runs: the sweeper will)."""
    with_files = [c for c in deleted if c.file_fields()]
    if not with_files or not await file_deletes.deletes_allowed(sat):
        return
    for collection in with_files:
        try:
            await sat.storage().delete_prefix(keys.collection_prefix(collection.id))
        except Exception:
            log.warning("could not delete the files of collection %s", collection.id, exc_info=True)


async def import_collections(request: Request) -> Response:
    """Replace the schema with the submitted collections (and with `deleteMissing`, only them)."""
    await require_superuser(request)
    values, is_json = await bound_values(request, ("collections", "deleteMissing"))
    items = values.get("collections")
    delete_missing = values.get("deleteMissing", False)
    if not is_json and "deleteMissing" in values:  # a form value, as Go's strconv.ParseBool reads it
        text = to_str(delete_missing)
        delete_missing = parse_bool(text) if text else False
    well_formed = items is None or (isinstance(items, list) and all(isinstance(item, (dict, type(None))) for item in items))
    if not well_formed or not isinstance(delete_missing, bool):
        raise bad_request(LOADING_FAILED)
    items = [item or {} for item in items or []]  # null decodes to an empty Go map
    if not items:
        raise ApiError(400, "An error occurred while validating the submitted data.",
                       {"collections": field_error("validation_required", "Cannot be blank.")})
    sat = satchel(request)
    deleted = await sat.change_schema(collections_import.import_collections, items, delete_missing)
    await _remove_files(sat, deleted)
    return Response(status_code=204)


async def collection_scaffolds(request: Request) -> JSONResponse:
    await require_superuser(request)
    return picked_json(request, scaffolds.scaffolds())


async def truncate_collection(request: Request) -> Response:
    await require_superuser(request)
    collection = _find(request)
    if collection.data["type"] == "view":
        raise bad_request("View collections cannot be truncated since they don't store their own records.")
    await record_delete.truncate(satchel(request), collection)
    return Response(status_code=204)
