"""`/api/collections`: superusers shape the schema here."""

from __future__ import annotations

import logging

import sqlalchemy as sa
from starlette.requests import Request
from starlette.responses import Response

from ..core import rules, schema
from ..core.collections import new_collection, updated_collection
from ..storage import keys
from .body import read_body
from .context import JSONResponse, query_value, require_superuser, satchel
from ..errors import ApiError, bad_request, not_found
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
    collection = new_collection(await _body(request), sat.schema)
    await sat.db.write(schema.create_collection, collection)
    await sat.refresh()
    return picked_json(request, collection.public())


async def update_collection(request: Request) -> JSONResponse:
    await require_superuser(request)
    sat = satchel(request)
    current = _find(request)
    collection = updated_collection(current, await _body(request), sat.schema)
    await sat.db.write(schema.update_collection, current, collection)
    await sat.refresh()
    return picked_json(request, collection.public())


async def delete_collection(request: Request) -> Response:
    await require_superuser(request)
    sat = satchel(request)
    collection = _find(request)
    if collection.data.get("system"):
        raise bad_request("Failed to delete collection due to existing dependency.")
    for other in sat.schema.all():
        if other.id != collection.id and any(
            f["type"] == "relation" and f.get("collectionId") == collection.id for f in other.fields
        ):
            raise ApiError(400, "Failed to delete collection due to existing dependency.")
    await sat.db.write(schema.delete_collection, collection)
    await sat.refresh()
    if collection.file_fields():
        try:
            await sat.storage().delete_prefix(keys.collection_prefix(collection.id))
        except Exception:  # noqa: BLE001 - the table is gone; leftover files are orphans
            log.warning("could not delete the files of collection %s", collection.id, exc_info=True)
    return Response(status_code=204)
