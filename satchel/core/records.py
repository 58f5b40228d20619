"""Record create, update, delete and export: validation, file changes and one transaction each.

Inside a batch, `sat.db` is a Transaction: the writes share it, and the file work that must
wait for the commit (or undo on rollback) is handed to it through on_commit / on_rollback."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ..db import store
from ..db.indexes import violated_columns
from ..errors import ApiError, bad_request, field_error
from ..storage.base import StorageError
from . import file_deletes, record_files, record_refs
from .auth import Auth, is_superuser
from .collection_model import Collection
from .fields import FileField, MultiValueField, field_type, field_type_as
from .fields.casting import to_id
from .fields.date import now
from .fields.password import check_password, hash_password
from .fields.relation import missing_records_error
from .fields.text import generate
from .realtime.events import announce_record
from .record_data import apply_body
from .state import Satchel

log = logging.getLogger("satchel.records")


@dataclass
class Save:
    """What one create or update will write: values, new file entries, and the old file names."""

    values: dict[str, Any]
    files: dict[str, list[record_files.Entry]]
    old_files: dict[str, list[str]]
    passwords: dict[str, str]


def from_row(collection: Collection, row: dict[str, Any], fields: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The values of the row's `fields` (all of the collection's by default)."""
    fields = collection.fields if fields is None else fields
    if collection.is_view:
        return {f["name"]: field_type(f).from_view(row.get(f["name"]), f) for f in fields}
    return {f["name"]: field_type(f).from_db(row.get(f["name"]), f) for f in fields}


def export(collection: Collection, values: dict[str, Any], auth: Auth | None, show_email: bool = False) -> dict[str, Any]:
    """The record JSON: hidden fields only for superusers, email only when it may be seen."""
    superuser = is_superuser(auth)
    out: dict[str, Any] = {"collectionId": collection.id, "collectionName": collection.name}
    for field in collection.fields:
        name = field["name"]
        if collection.is_auth and name in ("password", "tokenKey"):
            continue
        if field.get("hidden") and not superuser:
            continue
        out[name] = field_type(field).to_json(values.get(name), field)
    if collection.is_auth and not (show_email or superuser or values.get("emailVisibility")):
        if not (auth is not None and auth.collection.id == collection.id and auth.id == values.get("id")):
            out.pop("email", None)
    return dict(sorted(out.items()))


class _Lookup:
    """What field validation may ask of the database, inside the validating connection."""

    def __init__(self, sat: Satchel, conn: Connection) -> None:
        self.sat, self.conn = sat, conn

    def find_collection(self, id_or_name: str) -> Collection | None:
        return self.sat.find_collection(id_or_name)

    def relations_exist(self, collection_id: str, ids: list[str]) -> bool:
        target = self.sat.schema.by_id.get(collection_id)
        if target is None:
            return False
        return store.count_ids(self.conn, self.sat.schema.table(target), ids) == len(set(ids))


def _prepare(
    sat: Satchel, collection: Collection, current: dict[str, Any], body: Any, auth: Auth | None, is_new: bool
) -> Save:
    values = dict(current)
    superuser = is_superuser(auth)
    data = dict(body.values)
    passwords: dict[str, str] = {}
    for field in collection.fields:
        if field["type"] == "password" and field["name"] in data:
            passwords[field["name"]] = field_type(field).prepare(data.pop(field["name"]), field)
    apply_body(collection, values, data, superuser)
    if is_new:
        # 123 and true are ids too (that fail the length check), as in the reference
        values["id"] = to_id(data.get("id")) or generate("[a-z0-9]{15}")
    else:
        values["id"] = current["id"]
    files: dict[str, list[record_files.Entry]] = {}
    old_files: dict[str, list[str]] = {}
    for field in collection.file_fields():
        name = field["name"]
        ftype = field_type_as(field, FileField)
        old = ftype.as_list(current.get(name))
        entries = record_files.resolve(field, old, data, body.files)
        if entries is not None:
            files[name] = entries
            old_files[name] = old
            values[name] = ftype.shape(record_files.names(entries), field)
    stamp = now()
    for field in collection.fields:
        if field["type"] == "autodate" and (is_new and field.get("onCreate") or field.get("onUpdate")):
            values[field["name"]] = stamp
    # A new password or email ends every session: earlier auth and file tokens stop verifying.
    if collection.is_auth and (is_new or passwords.get("password") or values.get("email") != current.get("email")):
        values["tokenKey"] = generate("[a-zA-Z0-9]{50}")
    return Save(values, files, old_files, passwords)


def _auth_form_errors(
    collection: Collection, save: Save, body: dict[str, Any], current: dict[str, Any], is_new: bool, manage: bool
) -> dict[str, Any]:
    """Checks of the auth form that PocketBase runs before any field check (and alone).

    `manage`: a superuser or a manager (manageRule) may change email and verified, and a
    password without the old one."""
    errors: dict[str, Any] = {}
    if not collection.is_auth:
        return errors
    mismatch = field_error("validation_values_mismatch", "Values don't match.")
    if not is_new and not manage and save.values.get("email") != current.get("email"):
        errors["email"] = mismatch
    if not manage and bool(save.values.get("verified")) != bool(current.get("verified")):
        errors["verified"] = mismatch
    password = save.passwords.get("password", "")
    confirm, old = (body.get(k) if isinstance(body.get(k), str) else "" for k in ("passwordConfirm", "oldPassword"))
    if (is_new or confirm or old) and not password:
        errors["password"] = field_error("validation_required", "Cannot be blank.")
    if (is_new or password or old) and not confirm:
        errors["passwordConfirm"] = field_error("validation_required", "Cannot be blank.")
    elif confirm != password:
        errors["passwordConfirm"] = mismatch
    if not is_new and not manage and (password or confirm):
        if not old:
            errors["oldPassword"] = field_error("validation_required", "Cannot be blank.")
        elif not check_password(old, current.get("password") or ""):
            errors["oldPassword"] = field_error("validation_invalid_old_password", "Missing or invalid old password.")
    return errors


def _validate(conn: Connection, sat: Satchel, collection: Collection, save: Save, is_new: bool) -> dict[str, Any]:
    lookup = _Lookup(sat, conn)
    errors: dict[str, Any] = {}
    table = sat.schema.table(collection)
    # The latest stored names: only these may be kept by name (no pointing at other objects).
    db_row = None if is_new or not collection.file_fields() else store.select_record(conn, table, save.values["id"])
    for field in collection.fields:
        name = field["name"]
        ftype = field_type(field)
        if isinstance(ftype, FileField):
            db_names = ftype.as_list(db_row.get(name)) if db_row else []
            entries = save.files.get(name, ftype.as_list(save.values.get(name)))
            error = record_files.validate(field, entries, db_names)
        elif field["type"] == "password":
            plain = save.passwords.get(name, "")
            if plain:
                error = ftype.validate_value(plain, field, lookup)
            else:
                error = field_error("validation_required", "Cannot be blank.") if field.get("required") and not save.values.get(name) else None
        elif name == "id":
            error = ftype.validate(save.values["id"], field, lookup)
            if error is None and is_new and store.select_record(conn, table, save.values["id"]):
                error = field_error("validation_pk_invalid", "The record primary key is invalid or already exists.")
        else:
            error = ftype.validate(save.values.get(name), field, lookup)
        if error is None and name == "email" and collection.is_auth and save.values.get("email"):
            for other in store.select_by(conn, table, "email", save.values["email"], nocase=True):
                if other["id"] != save.values["id"]:
                    error = field_error("validation_not_unique", "Value must be unique.")
        if error is not None:
            errors[name] = error
    return errors or record_refs.ref_errors(collection, save.values, lookup)  # once the fields hold, as the reference


def _to_row(collection: Collection, values: dict[str, Any]) -> dict[str, Any]:
    return {f["name"]: field_type(f).to_db(values.get(f["name"]), f) for f in collection.fields}


async def save(
    sat: Satchel, collection: Collection, current: dict[str, Any] | None, body: Any, auth: Auth | None,
    check: Callable[[dict[str, Any]], Awaitable[bool]] | None = None,
    manager: bool | Callable[[dict[str, Any]], Awaitable[bool]] = False,
) -> dict[str, Any]:
    """Create (current is None) or update a record; returns its new values.

    `check` sees the row as it would be stored, before any validation (the create rule);
    `manager` says (or, given that row, finds out) whether the caller passes the auth
    collection's manageRule for this record."""
    is_new = current is None
    failed = "Failed to create record." if is_new else "Failed to update record."
    base = current if current is not None else {f["name"]: field_type(f).zero(f) for f in collection.fields}
    plan = _prepare(sat, collection, base, body, auth, is_new)
    row = _to_row(collection, plan.values)
    if check is not None and not await check(row):
        raise bad_request(failed)
    if callable(manager):
        manager = await manager(row)
    errors = _auth_form_errors(collection, plan, body.values, base, is_new, manager or is_superuser(auth))
    if not errors:
        try:
            errors = await sat.db.read(_validate, sat, collection, plan, is_new)
        except sa.exc.DataError as exc:  # a value the database can't hold (PostgreSQL text refuses NUL)
            log.info("record values refused by the database: %s", exc)
            raise bad_request(failed) from exc
    if errors:
        raise ApiError(400, failed, errors)
    for name, plain in plan.passwords.items():
        if plain:
            plan.values[name] = hash_password(plain, collection.fields_by_name[name].get("cost") or 0)
    storage = None
    written: list[str] = []
    if any(isinstance(e, record_files.NewFile) for entries in plan.files.values() for e in entries):
        try:
            storage = sat.storage()
            for entries in plan.files.values():
                written += await record_files.store_new(storage, collection, plan.values["id"], entries)
        except (StorageError, OSError, ValueError) as exc:  # ValueError: metadata a storage refuses
            log.warning("file upload failed: %s", exc)
            raise bad_request(failed) from exc
    try:
        errors = await sat.db.write(_commit, sat, collection, plan.values, is_new)
    except sa.exc.SQLAlchemyError as exc:
        if storage is not None:
            await record_files.delete_keys(storage, written)
        columns = violated_columns(exc, collection.name, collection.data.get("indexes") or [])
        if columns:
            raise ApiError(400, failed, {c: field_error("validation_not_unique", "Value must be unique.") for c in columns}) from exc
        log.warning("record write failed: %s", exc)
        raise bad_request(failed) from exc
    if errors:
        if storage is not None:
            await record_files.delete_keys(storage, written)
        raise ApiError(400, failed, errors)
    if storage is not None and written:
        await sat.db.on_rollback(lambda: record_files.delete_keys(storage, written))
    await sat.db.on_commit(lambda: _after_commit(sat, collection, plan))
    return plan.values


def _commit(conn: Connection, sat: Satchel, collection: Collection, values: dict[str, Any], is_new: bool) -> dict[str, Any]:
    """Write the row unless a relation target has gone since validation; returns those errors.

    Validation read the targets outside this transaction, and a record pointing at a deleted
    one would pass to whoever next takes its id. Share-locked here, a target's concurrent
    delete either waits for this row and then settles it, or is already committed and the
    save fails as validation would have."""
    errors = {}
    for field in collection.fields:
        ids = field_type_as(field, MultiValueField).as_list(values.get(field["name"])) if field["type"] == "relation" else []
        if not ids:
            continue
        target = sat.schema.by_id.get(field["collectionId"])
        if target is None or store.count_locked_ids(conn, sat.schema.table(target), ids) != len(set(ids)):
            errors[field["name"]] = missing_records_error()
    if errors:
        return errors
    if collection.is_auth and _auth_id_taken(conn, sat, collection, values["id"]):
        # Rules compare @request.auth.id alone: the same id in two auth collections would pass for both.
        return {"id": field_error("validation_invalid_auth_id", "Invalid or duplicated auth record id.")}
    table = sat.schema.table(collection)
    row = _to_row(collection, values)
    if is_new:
        store.insert_record(conn, table, row)
    else:
        store.update_record(conn, table, values["id"], row)
    announce_record(sat.bus, conn, "create" if is_new else "update", collection.id, row)
    return errors


def _auth_id_taken(conn: Connection, sat: Satchel, collection: Collection, record_id: str) -> bool:
    """Whether another auth collection holds a record with this id (PocketBase's loose cross-check)."""
    others = [c for c in sat.schema.all() if c.is_auth and c.id != collection.id]
    return any(store.count_ids(conn, sat.schema.table(other), [record_id]) for other in others)


async def _after_commit(sat: Satchel, collection: Collection, plan: Save) -> None:
    removed = any(set(old) - set(record_files.names(plan.files[name])) for name, old in plan.old_files.items())
    if not removed:
        return
    if not await file_deletes.deletes_allowed(sat):
        log.info("a backup is running: old files of %s stay for the sweeper", plan.values["id"])
        return
    try:
        storage = sat.storage()
    except StorageError:
        log.warning("storage unavailable: old files of %s stay as orphans", plan.values["id"])
        return
    for name, old in plan.old_files.items():
        await record_files.delete_removed(storage, collection, plan.values["id"], old, record_files.names(plan.files[name]))


async def find(sat: Satchel, collection: Collection, record_id: str) -> dict[str, Any] | None:
    row = await store.find_row(sat.db, sat.schema.table(collection), record_id)
    return from_row(collection, row) if row else None


async def find_files(sat: Satchel, collection: Collection, record_id: str) -> dict[str, Any] | None:
    """The values of a record's file fields, all a download checks; None when there is no such record.

    On PostgreSQL they may come from the process's record cache (core/record_cache.py)."""
    cache = None if collection.is_view else sat.record_cache
    version = sat.schema.version
    if cache is not None and (files := cache.get(collection.id, record_id, version)) is not None:
        return files
    token = cache.begin() if cache is not None else None
    row = await store.find_row(sat.db, sat.schema.table(collection), record_id)
    if row is None:
        return None
    files = from_row(collection, row, collection.file_fields())
    if cache is not None:
        cache.put(collection.id, record_id, files, version, token)
    return files
