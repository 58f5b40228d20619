"""`PUT /api/collections/import`: many collections created, updated and deleted at once.

As in PocketBase, each imported collection is matched to a stored one by id, else by name,
and laid over it; with `deleteMissing` the stored collections and fields the import leaves
out go (system ones stay). Every collection is checked against the schema as the import
leaves it, so collections may point at each other; the first one that fails refuses the
whole import, whose changes run in the one transaction of `Satchel.change_schema`.

View collections come last, as in the reference: every stored SQL view is dropped first (a
table can't change under one), then the imported views read their fields from their queries
against the tables as imported, and the stored views the import leaves are built again.
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ..db import tables
from ..db.indexes import parse_index, unknown_columns
from ..db.views import drop_view
from ..errors import ApiError, field_error, sentenize
from . import schema, views
from .collection_model import TYPES, Collection
from .collection_shape import INVALID
from .collections import new_collection, updated_collection, validate_collection, view_query
from .fields import FIELD_TYPES, field_id
from .fields.casting import to_str
from .schema import Schema

FAILED = "Failed to import collections."
#: ozzo-validation's own rules: their raw messages start lower-case and end without a dot
OZZO_CODES = frozenset({
    "validation_required", "validation_nil", "validation_empty", "validation_match_invalid", "validation_in_invalid",
    "validation_not_in_invalid", "validation_length_out_of_range", "validation_length_too_long",
    "validation_length_too_short", "validation_length_invalid", "validation_min_greater_equal_than_required",
    "validation_max_less_equal_than_required", "validation_min_greater_than_required",
    "validation_max_less_than_required", "validation_is_email", "validation_is_url",
})
#: PocketBase's own messages that end without a dot (the API adds it)
UNDOTTED_CODES = frozenset({"validation_invalid_rule", "validation_duplicated_field_name", "validation_invalid_view_query"})

Planned = tuple[Collection, Collection | None]  # the collection as imported, the stored one it replaces


def import_collections(conn: Connection, stored: Schema, items: list[dict[str, Any]], delete_missing: bool) -> list[Collection]:
    """Apply the import; returns the collections it deleted (their files go after the commit)."""
    # Views last (their queries read the others), then by the stamps the import gives: the
    # first collection in this order that fails is the one the answer names.
    ordered = sorted(items, key=lambda data: _order(stored, data))
    planned = [_planned(stored, data, delete_missing) for data in ordered]
    imported_ids = {c.id for c, _ in planned}
    deleted = [c for c in stored.all() if delete_missing and c.id not in imported_ids and not c.data.get("system")]
    gone = {c.id for c in deleted} | imported_ids
    after = _lookup([c for c in stored.all() if c.id not in gone] + [c for c, _ in planned])
    for collection, _ in planned:  # the reference meets these creating the tables, before any validation
        if failures := _index_failures(collection):
            raise ApiError(400, FAILED, {"indexes": failures})
    for (collection, current), data in zip(planned, ordered, strict=True):
        errors = _errors(collection, current, data, after)
        if errors:
            raise _invalid(collection, errors)
    for stored_view in (c for c in stored.all() if c.is_view):
        drop_view(conn, stored_view.name)
    for collection in deleted:  # first, so an imported collection may take a deleted one's name
        schema.delete_collection(conn, collection)
    for (collection, current), data in zip(planned, ordered, strict=True):
        select = ""
        if collection.is_view:
            collection, select = _inferred_view(conn, after, collection, current, data)
            after = after.replaced(collection)  # a view over this one copies its fields
        try:
            if current is None:
                schema.create_collection(conn, collection, select)
            else:
                schema.update_collection(conn, current, collection, select)
        except sa.exc.SQLAlchemyError as exc:  # e.g. two collections of one name: the reference's failure too
            raw = f"failed to save collection {json.dumps(collection.name)}: {getattr(exc, 'orig', None) or exc}"
            raise _failure(f"Failed to import the collections configuration. Raw error:\n{raw}") from exc
    left = [c for c in stored.all() if c.is_view and c.id not in gone]
    views.rebuild(conn, after, left, "Failed to import the collections configuration. Raw error:\n[{view}] {error}.")
    return deleted


def _inferred_view(
    conn: Connection, after: Schema, planned: Collection, current: Collection | None, data: dict[str, Any]
) -> tuple[Collection, str]:
    """An imported view with the fields its query gives over the tables as imported, checked as
    the reference saves one: a query that fails is a failed save, then the usual checks; and
    the SELECT its SQL view is made from."""
    body = {**data, "id": planned.id, "name": planned.name}
    inference = views.infer(conn, after, view_query(body, current) or "")
    if inference.error is not None:
        raw = f"failed to save collection {json.dumps(planned.name)}: {inference.error}"
        raise _failure(f"Failed to import the collections configuration. Raw error:\n{raw}")
    others = Schema([c for c in after.all() if c.id != planned.id])  # its own name and id are free
    try:
        if current is None:
            return new_collection(body, others, view=inference), inference.select
        return updated_collection(current, body, others, view=inference), inference.select
    except ApiError as exc:
        raise _invalid(planned, exc.data) from exc


def _invalid(collection: Collection, errors: dict[str, Any]) -> ApiError:
    return _failure(f"Data validations failed for collection {json.dumps(collection.name)} ({collection.id}):\n{_raw(errors)}")


def _index_failures(collection: Collection) -> dict[str, Any]:
    """The indexes the reference can't create: unreadable ones, and those naming a missing column."""
    statements = collection.data.get("indexes") or []
    failures = {
        str(position): field_error("validation_invalid_index_expression", "Invalid CREATE INDEX expression.")
        for position, statement in enumerate(statements)
        if parse_index(statement) is None
    }
    problems = unknown_columns(statements, {f["name"] for f in collection.fields})
    return failures | {key: field_error(code, message) for key, (code, message, _) in problems.items()}


def _errors(collection: Collection, current: Collection | None, data: dict[str, Any], after: Schema) -> dict[str, Any]:
    """The reference validates an imported collection after saving it, as an update of the stored
    one or else of itself: so a new collection's id is never checked, nor its name against itself."""
    # a view is checked once its sources are saved, with the fields its query gives (_inferred_view)
    errors = {} if collection.is_view else validate_collection(collection, after, current or collection)
    type_ = collection.data["type"]
    if current is None and type_ not in TYPES:
        errors["type"] = field_error("validation_in_invalid", "Must be a valid value.")
    if current is not None and data.get("type") not in (None, "", current.data["type"]):
        errors["type"] = field_error("validation_collection_type_change", "Collection type cannot be changed.")
    return errors


def _order(stored: Schema, data: dict[str, Any]) -> tuple[bool, str, str]:
    current = stored.find_collection(_identifier(data))
    stamps = [to_str(data[key]) if key in data else (current.data[key] if current else "") for key in ("created", "updated")]
    return data.get("type", current.data["type"] if current else "") == "view", stamps[0], stamps[1]


def _identifier(data: dict[str, Any]) -> str:
    return to_str(data.get("id")) or to_str(data.get("name"))


def _planned(stored: Schema, data: dict[str, Any], delete_missing: bool) -> Planned:
    """The collection `data` makes, over the stored one it names (by id, else by name)."""
    data = {key: value for key, value in data.items() if value is not None or key != "fields"}  # null: no fields sent
    fields = data.get("fields")
    for index, field in enumerate(fields if isinstance(fields, list) else []):
        if not isinstance(field, dict) or not isinstance(field.get("type"), str) or field["type"] not in FIELD_TYPES:
            text = json.dumps(field, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
            kind = "null" if field is None else "object"  # Go words it "cannot" or "unable to" at random
            raise _failure(
                f"Failed to import the collections configuration. Raw error:\njson: cannot unmarshal JSON {kind} into Go "
                f'core.fieldWithType within "/fields/{index}": missing or unknown field type in {text}'
            )
    if any(not isinstance(data.get(key), (str, type(None))) for key in ("created", "updated")):
        raise _failure(f"Failed to import the collections configuration. Raw error:\n{INVALID}")
    current = stored.find_collection(_identifier(data))
    body = data if current is None else {**data, "fields": _fields(current, data.get("fields"), delete_missing)}
    if isinstance(body.get("fields"), list) and (clash := _clashing_name(body["fields"])) is not None:
        name = to_str(data.get("name")) or (current.name if current else "")
        raw = f"failed to save collection {json.dumps(name)}: duplicate column name: {clash}"
        raise _failure(f"Failed to import the collections configuration. Raw error:\n{raw}")
    try:
        if current is None:
            return new_collection(body, stored, check=False), None
        return updated_collection(current, body, stored, check=False), current
    except ApiError as exc:  # a value of the wrong JSON type
        raise _failure(f"Failed to import the collections configuration. Raw error:\n{exc.message}") from exc


def _clashing_name(fields: list[dict[str, Any]]) -> str | None:
    """A column name two fields of the list would both take: the reference adds them to its field
    list as it reads them (a field without an id replaces the one of its name, one with an id the
    one of that id), and its table can't have both, so the save fails."""
    placed: list[dict[str, Any]] = []
    for field in fields:
        key = ("id", field["id"]) if field.get("id") else ("name", field.get("name"))
        same = next((i for i, other in enumerate(placed) if other.get(key[0]) == key[1]), None)
        if same is None:
            placed.append(field)
        else:
            placed[same] = field
    seen: set[str] = set()
    for field in placed:
        name = to_str(field.get("name"))
        if name.lower() in seen:
            return name
        seen.add(name.lower())
    return None


def _fields(current: Collection, submitted: Any, delete_missing: bool) -> list[dict[str, Any]]:
    """The imported field list: the submitted fields, then the stored ones they leave out (only
    the system ones with `deleteMissing`). A stored field left out by id but sent under its name
    and type takes that place, with its stored definition, as in the reference."""
    if not isinstance(submitted, list) and not (submitted is None and delete_missing):
        return current.fields if submitted is None else submitted  # absent: kept; of a wrong type: refused later
    fields = [{**f, "id": f.get("id") or field_id(f["type"], to_str(f.get("name")))} for f in submitted or []]
    for old in current.fields:
        if (delete_missing and not old.get("system")) or any(f["id"] == old["id"] for f in fields):
            continue
        same = next((i for i, f in enumerate(fields) if f.get("name") == old["name"] and f["type"] == old["type"]), None)
        if same is None:
            fields.append(old)
        else:
            fields[same] = old
    return fields


def _lookup(collections: list[Collection]) -> Schema:
    """The schema as the import leaves it; an invalid collection's table gets the first column of
    each name (the rules are checked against it)."""
    lookup = Schema()
    for collection in collections:
        lookup.by_id[collection.id] = collection
        lookup.by_name[to_str(collection.name).lower()] = collection
        columns: dict[str, tuple[str, str, Any]] = {}
        for column in schema.columns(collection):
            if column[0]:  # a field without a name has no column (its error is reported)
                columns.setdefault(to_str(column[0]).lower(), column)
        lookup.tables[collection.id] = tables.record_table(collection.name, list(columns.values()))
    return lookup


def _raw(errors: dict[str, Any]) -> str:
    """The errors as the reference serializes them into its message: each one's raw text, indented."""

    def raw(item: dict[str, Any]) -> Any:
        if not isinstance(item.get("code"), str):
            return {key: raw(value) for key, value in item.items()}
        message: str = item["message"]
        if item["code"] in OZZO_CODES:
            message = message[:1].lower() + message[1:]
        if item["code"] in OZZO_CODES | UNDOTTED_CODES:
            message = message.removesuffix(".")
        return message

    return json.dumps(raw(errors), indent=2, sort_keys=True, ensure_ascii=False)


def _failure(message: str) -> ApiError:
    return ApiError(400, FAILED, {"collections": field_error("validation_collections_import_failure", sentenize(message))})
