"""The collections every database holds, as a fresh PocketBase 0.40.6 has them, and the upgrade
that brings a database made by an older Satchel up to them.

A fresh database gets PocketBase's four internal collections (`_mfas`, `_otps`,
`_externalAuths`, `_authOrigins`), `_superusers` and `users`, in that order and with the
reference's ids, fields, indexes and rules. An older database gets whichever internal
collection it lacks (never `users` again: its owner may have deleted it). Every process runs
this at start, each in one write transaction behind the bootstrap lock (db/tables.py), so
processes and instances starting at once create each collection once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy.engine import Connection

from ..db import store, tables, versions
from . import schema
from .collection_model import INTERNAL_COLLECTIONS, SUPERUSERS, Collection
from .collections import auth_system_fields, new_collection
from .schema import Schema

log = logging.getLogger("satchel.bootstrap")

OWNER_RULE = "@request.auth.id != '' && recordRef = @request.auth.id && collectionRef = @request.auth.collectionId"


def bootstrap(conn: Connection) -> None:
    """Create the system tables and whatever system collection is missing (run in a write transaction)."""
    tables.create_system_tables(conn)
    stored = store.load_collections(conn)
    names = {data["name"].lower() for data in stored}
    wanted = [name for name in INTERNAL_COLLECTIONS if name.lower() not in names]
    for name in INTERNAL_COLLECTIONS:
        if name.lower() in names and not any(d["name"] == name and d["system"] for d in stored):
            log.warning("a collection of the database's own is named %s: PocketBase's %s is not created", name, name)
    if not stored:
        wanted += [SUPERUSERS, "users"]
    outdated = [data for data in stored if _without_autodate_help(data) != data]
    if not wanted and not outdated:
        return
    versions.bump(conn)  # every process reloads
    for data in outdated:
        store.save_collection(conn, _without_autodate_help(data), is_new=False)
    lookup = Schema.load_sync(conn, -1)
    for name in wanted:
        collection = _BUILDERS[name](lookup)
        schema.create_collection(conn, collection)
        lookup = Schema([*lookup.all(), collection])


def _without_autodate_help(data: dict[str, Any]) -> dict[str, Any]:
    """A definition stored before autodate fields lost their `help` key, as the reference prints it."""
    fields = [{k: v for k, v in f.items() if k != "help"} if f["type"] == "autodate" else f for f in data["fields"]]
    return {**data, "fields": fields}


def _system(body: dict[str, Any], lookup: Schema) -> Collection:
    """A system collection whose fields are all system fields."""
    collection = new_collection(body, lookup)
    collection.data["system"] = True
    for field in collection.fields:
        field["system"] = True
    return collection


def _autodates(system: bool) -> list[dict[str, Any]]:
    return [
        {"name": "created", "type": "autodate", "onCreate": True, "onUpdate": False, "system": system},
        {"name": "updated", "type": "autodate", "onCreate": True, "onUpdate": True, "system": system},
    ]


def _texts(*names: str, **options: Any) -> list[dict[str, Any]]:
    return [{"name": name, "type": "text", "required": True, **options} for name in names]


def _internal(name: str, fields: list[dict[str, Any]], indexes: list[str], deletable: bool) -> Callable[[Schema], Collection]:
    """One of the reference's internal collections: records of an auth record, which only their
    owner may list and view (and delete, where `deletable`)."""
    owner = {"listRule": OWNER_RULE, "viewRule": OWNER_RULE, "deleteRule": OWNER_RULE if deletable else None}
    body = {"name": name, "type": "base", **owner, "fields": [*_texts("collectionRef", "recordRef"), *fields, *_autodates(True)], "indexes": indexes}
    return lambda lookup: _system(body, lookup)


def _superusers(lookup: Schema) -> Collection:
    superusers = _system({"name": SUPERUSERS, "type": "auth", "fields": [*auth_system_fields(), *_autodates(system=True)]}, lookup)
    superusers.data["authToken"]["duration"] = 86400
    return superusers


def _users(lookup: Schema) -> Collection:
    owner = "id = @request.auth.id"
    return new_collection(
        {
            "id": "_pb_users_auth_", "name": "users", "type": "auth",
            "listRule": owner, "viewRule": owner, "createRule": "", "updateRule": owner, "deleteRule": owner,
            "oauth2": {"mappedFields": {"id": "", "name": "name", "username": "", "avatarURL": "avatar"}},
            "fields": [
                *auth_system_fields(),  # first, as the reference makes it
                {"name": "name", "type": "text", "max": 255},
                {
                    "name": "avatar", "type": "file", "maxSelect": 1,
                    "mimeTypes": ["image/jpeg", "image/png", "image/svg+xml", "image/gif", "image/webp"],
                },
                *_autodates(system=False),
            ],
        },
        lookup,
    )


_BUILDERS: dict[str, Callable[[Schema], Collection]] = {
    "_mfas": _internal("_mfas", _texts("method"), ["CREATE INDEX `idx_mfas_collectionRef_recordRef` ON `_mfas` (collectionRef,recordRef)"], False),
    "_otps": _internal(
        "_otps",
        [
            {"name": "password", "type": "password", "required": True, "hidden": True, "cost": 8},
            {"name": "sentTo", "type": "text", "hidden": True},
        ],
        ["CREATE INDEX `idx_otps_collectionRef_recordRef` ON `_otps` (collectionRef, recordRef)"],
        False,
    ),
    "_externalAuths": _internal(
        "_externalAuths",
        _texts("provider", "providerId"),
        [
            "CREATE UNIQUE INDEX `idx_externalAuths_record_provider` ON `_externalAuths` (collectionRef, recordRef, provider)",
            "CREATE UNIQUE INDEX `idx_externalAuths_collection_provider` ON `_externalAuths` (collectionRef, provider, providerId)",
        ],
        True,
    ),
    "_authOrigins": _internal(
        "_authOrigins",
        _texts("fingerprint"),
        ["CREATE UNIQUE INDEX `idx_authOrigins_unique_pairs` ON `_authOrigins` (collectionRef, recordRef, fingerprint)"],
        True,
    ),
    SUPERUSERS: _superusers,
    "users": _users,
}
