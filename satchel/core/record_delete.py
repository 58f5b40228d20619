"""Deleting a record, and what that does to the records whose relations point at it.

PocketBase's rules, all in the delete's one transaction: a relation drops the deleted id
(single → "", multiple → the id taken out of the list); a relation left empty whose field
has `cascadeDelete` deletes its record too (recursively, through the same rules); a
required relation left empty refuses the whole delete. Without this a deleted user's
records would pass to whoever signs up next with the same id.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ..db import store
from ..errors import bad_request
from ..storage import keys
from . import file_deletes, record_refs
from .collection_model import Collection
from .fields import MultiValueField, field_type, field_type_as
from .fields.date import now
from .realtime.bus import Bus
from .realtime.events import announce_record
from .schema import Schema
from .state import Satchel

log = logging.getLogger("satchel.records")

REQUIRED_REFERENCE = "Failed to delete record. Make sure that the record is not part of a required relation reference."
TRUNCATE_REFUSED = "Failed to truncate collection (most likely due to required cascade delete record references)."
BATCH = 4000  # referencing rows read at once, as PocketBase does

Deleted = tuple[Collection, str]


class Refused(Exception):
    """The whole delete is refused: a required relation would be left empty."""

    message = REQUIRED_REFERENCE


class OnlySuperuser(Refused):
    """The last superuser would go, and nobody could manage the instance any more."""

    message = "You can't delete the only existing superuser."


def references(schema: Schema, target: Collection) -> list[tuple[Collection, dict[str, Any]]]:
    """Every relation field pointing at `target` (its own included), by collection name then field order."""
    return [
        (collection, field)
        for collection in sorted(schema.all(), key=lambda c: c.name)
        for field in collection.fields
        if field["type"] == "relation" and field.get("collectionId") == target.id
    ]


class _Walk:
    """One delete's state: its connection, the records gone so far, and a count of rows written
    (a cascade that wrote more than its own row may have changed rows read before it)."""

    def __init__(self, conn: Connection, schema: Schema, bus: Bus | None) -> None:
        self.conn, self.schema, self.bus = conn, schema, bus
        self.deleted: list[Deleted] = []
        self.writes = 0
        self._references: dict[str, list[tuple[Collection, dict[str, Any]]]] = {}

    def references(self, collection: Collection) -> list[tuple[Collection, dict[str, Any]]]:
        if collection.id not in self._references:
            # A view's relations are its sources' own: nothing to unlink or cascade in it.
            self._references[collection.id] = [(c, f) for c, f in references(self.schema, collection) if not c.is_view]
        return self._references[collection.id]

    def delete(self, collection: Collection, rows: list[dict[str, Any]]) -> None:
        ids = [row["id"] for row in rows]
        table = self.schema.table(collection)
        store.delete_records(self.conn, table, ids)
        if ids and collection.is_superusers and not store.select_some(self.conn, table, 1):
            raise OnlySuperuser()
        self.deleted += [(collection, i) for i in ids]
        self.writes += len(ids)
        for row in rows:  # realtime: each record as it was, with this transaction's commit
            self._announce("delete", collection, row)

    def unlink(self, collection: Collection, field: dict[str, Any], kept: list[tuple[dict[str, Any], list[str]]]) -> None:
        changes = [(row, unlinked(collection, field, ids)) for row, ids in kept]
        store.update_records(self.conn, self.schema.table(collection), [(row["id"], values) for row, values in changes])
        self.writes += len(changes)
        for row, values in changes:
            self._announce("update", collection, {**row, **values})

    def _announce(self, action: str, collection: Collection, row: dict[str, Any]) -> None:
        if self.bus is not None:
            announce_record(self.bus, self.conn, action, collection.id, row)


def delete_cascading(conn: Connection, schema: Schema, collection: Collection, record_id: str, bus: Bus | None = None) -> list[Deleted]:
    """Delete a record and settle its references; returns every record deleted.

    The walk is PocketBase's recursion (a referencing record is deleted, with everything
    that follows from it, before the next one is looked at), run on an explicit stack so
    that a long chain can't exhaust Python's."""
    walk = _Walk(conn, schema, bus)
    stack = [_delete_one(walk, collection, record_id)]
    while stack:
        child = next(stack[-1], None)
        if child is None:
            stack.pop()
        else:
            stack.append(_delete_one(walk, *child))
    return walk.deleted


def _delete_one(walk: _Walk, collection: Collection, record_id: str) -> Iterator[Deleted]:
    """Delete one row, then settle each reference to it; yields each referencing record to delete in turn.

    The row goes first, so a cycle of cascades finds nothing left to come back to."""
    row = store.select_record(walk.conn, walk.schema.table(collection), record_id)
    walk.delete(collection, [row] if row is not None else [])
    for internal, rows in record_refs.owned_rows(walk.conn, walk.schema, collection, record_id):
        walk.delete(internal, rows)
    for ref_collection, field in walk.references(collection):
        table = walk.schema.table(ref_collection)
        multiple = field_type(field).is_multiple(field)
        # Deleting a record nothing points at touches no other row: such a batch settles at once.
        at_once = not walk.references(ref_collection)
        while True:
            rows = store.select_referencing(walk.conn, table, field["name"], record_id, multiple, BATCH)
            if at_once:
                outcomes = [(row, _kept(field, row, record_id)) for row in rows]
                walk.delete(ref_collection, [row for row, kept in outcomes if kept is None])
                walk.unlink(ref_collection, field, [(row, kept) for row, kept in outcomes if kept is not None])
            else:
                yield from _settle_in_turn(walk, ref_collection, field, record_id, rows)
            if len(rows) < BATCH:
                break


def _settle_in_turn(walk: _Walk, collection: Collection, field: dict[str, Any], record_id: str, rows: list[dict[str, Any]]) -> Iterator[Deleted]:
    stale = False
    for row in rows:
        if stale:  # a cascade since the batch was read may have changed or deleted this row
            fresh = store.select_record(walk.conn, walk.schema.table(collection), row["id"])
            if fresh is None:
                continue
            row = fresh
        kept = _kept(field, row, record_id)
        if kept is None:
            before = walk.writes
            yield collection, row["id"]
            stale = stale or walk.writes != before + 1
        else:
            walk.unlink(collection, field, [(row, kept)])


DROP, CASCADE, REQUIRED = "drop", "cascade", "required"


def _kept(field: dict[str, Any], row: dict[str, Any], record_id: str) -> list[str] | None:
    """The ids the row's relation keeps, or None when the row is to be deleted too.

    A required relation that would be left empty refuses the whole delete."""
    ids = [i for i in field_type_as(field, MultiValueField).as_list(row[field["name"]]) if i != record_id]
    outcome = settling(field, ids)
    if outcome == DROP:
        return ids
    if outcome == CASCADE:
        return None
    raise Refused()


def settling(field: dict[str, Any], kept: list[str] | tuple[str, ...]) -> str:
    """What PocketBase's delete does to a relation value left with `kept` ids: DROP the rest
    (an edit), CASCADE (delete the record too), or refuse the delete (REQUIRED)."""
    if kept or not (field.get("cascadeDelete") or field.get("required")):
        return DROP
    return CASCADE if field.get("cascadeDelete") else REQUIRED


def unlinked(collection: Collection, field: dict[str, Any], ids: list[str]) -> dict[str, Any]:
    """The columns a reference update writes: the relation without the id, and the update stamps.

    Saved without validation, as PocketBase does: another relation of the record may still
    name a record deleted earlier in this same transaction."""
    ftype = field_type_as(field, MultiValueField)
    values = {field["name"]: ftype.to_db(ftype.shape(ids, field), field)}
    stamp = now()
    for other in collection.fields:
        if other["type"] == "autodate" and other.get("onUpdate"):
            values[other["name"]] = field_type(other).to_db(stamp, other)
    return values


def truncate_cascading(conn: Connection, schema: Schema, collection: Collection, bus: Bus | None = None) -> list[Deleted]:
    """Delete every record of `collection`, each as a record delete does (its references settled)."""
    walk = _Walk(conn, schema, bus)
    table = schema.table(collection)
    if not walk.references(collection):  # nothing to settle: whole batches go at once
        while rows := store.select_some(conn, table, BATCH):
            walk.delete(collection, rows)
        return walk.deleted
    deleted: list[Deleted] = []
    while rows := store.select_some(conn, table, BATCH):
        for row in rows:
            deleted += delete_cascading(conn, schema, collection, row["id"], bus)
    return deleted


async def delete(sat: Satchel, collection: Collection, record_id: str) -> None:
    """Delete in one transaction, then remove the files of every record that went (orphans at worst)."""
    await _delete(sat, None, delete_cascading, collection, record_id)


async def truncate(sat: Satchel, collection: Collection) -> None:
    """Delete every record of the collection in one transaction, or none; then their files."""
    await _delete(sat, TRUNCATE_REFUSED, truncate_cascading, collection)


async def _delete(sat: Satchel, refusal: str | None, deletes: Callable[..., list[Deleted]], collection: Collection, *args: Any) -> None:
    """Run `deletes` in one transaction; a refusal answers `refusal`, or else the refusal's own words."""
    try:
        deleted = await sat.db.write(deletes, sat.schema, collection, *args, sat.bus)
    except Refused as exc:
        raise bad_request(refusal or exc.message) from None
    except sa.exc.SQLAlchemyError as exc:  # e.g. a deadlock with another instance: PocketBase's one answer
        log.warning("record delete failed: %s", exc)
        raise bad_request(refusal or REQUIRED_REFERENCE) from exc
    await sat.db.on_commit(lambda: _remove_files(sat, deleted))  # in a batch: once it commits


async def _remove_files(sat: Satchel, deleted: list[Deleted]) -> None:
    if not await file_deletes.deletes_allowed(sat):
        log.info("a backup is running: the files of %d deleted records stay for the sweeper", len(deleted))
        return
    for owner, gone_id in deleted:
        if not owner.file_fields():
            continue
        try:
            await sat.storage().delete_prefix(keys.record_prefix(owner.id, gone_id))
        except Exception:
            log.warning("could not delete the files of %s/%s", owner.id, gone_id, exc_info=True)
