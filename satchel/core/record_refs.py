"""Records of PocketBase's internal collections point at an auth record by collection and id.

Once its fields are valid, the reference checks those references (its recordRefHooks): the
collection must be an auth collection, the record must exist in it, and an external auth
must name a known OAuth2 provider. They go when their auth record or collection goes.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy.engine import Connection

from ..db import store
from ..errors import field_error
from .auth_options import PROVIDERS
from .collection_model import INTERNAL_COLLECTIONS, Collection
from .fields.base import RecordLookup, required_error
from .schema import Schema


def ref_errors(collection: Collection, values: dict[str, Any], lookup: RecordLookup) -> dict[str, Any]:
    """The first broken reference of an internal collection's record, keyed by its field."""
    if not collection.data.get("system") or collection.name not in INTERNAL_COLLECTIONS:
        return {}
    collection_id = values.get("collectionRef") or ""
    if not collection_id:
        return {"collectionRef": required_error()}
    target = lookup.find_collection(collection_id)
    if target is None or target.id != collection_id:  # by id only
        return {"collectionRef": field_error("validation_invalid_collection_id", "Missing or invalid collection.")}
    if not target.is_auth:
        return {"collectionRef": field_error("validation_invalid_collection_type", "Invalid collection type - must be auth.")}
    record_id = values.get("recordRef") or ""
    if not record_id:
        return {"recordRef": required_error()}
    if not lookup.relations_exist(target.id, [record_id]):
        return {"recordRef": field_error("validation_invalid_record", "Missing or invalid record.")}
    if collection.name == "_externalAuths":
        provider = values.get("provider") or ""
        if not provider:
            return {"provider": required_error()}
        if provider not in PROVIDERS:
            return {"provider": field_error("validation_in_invalid", "Must be a valid value.")}
    return {}


def internal_collections(schema: Schema) -> list[Collection]:
    """PocketBase's internal collections this database has."""
    found = (schema.find_collection(name) for name in INTERNAL_COLLECTIONS)
    return [c for c in found if c is not None and c.data.get("system")]


def owned_rows(conn: Connection, schema: Schema, owner: Collection, record_id: str | None = None) -> Iterator[tuple[Collection, list[dict[str, Any]]]]:
    """The internal records of one auth record (or, without `record_id`, of every record of `owner`):
    the reference deletes them with their owner."""
    if not owner.is_auth:
        return
    owned = {"collectionRef": owner.id} if record_id is None else {"collectionRef": owner.id, "recordRef": record_id}
    for internal in internal_collections(schema):
        yield internal, store.select_matching(conn, schema.table(internal), owned)
