"""What of a PocketBase data directory Satchel carries, and what stops the import.

Anything Satchel can't carry is a problem, named in one sentence; one problem and nothing is
imported (no half import). System collections Satchel has no use for are left out and said so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

from ...db.pocketbase import PocketBaseDB
from ..collection_model import Collection
from ..collections import validate_collection
from ..fields import FIELD_TYPES, field_type
from ..schema import Schema

#: PocketBase's system collections Satchel has no counterpart for, and why leaving them out loses nothing
LEFT_OUT = {
    "_mfas": "MFA sessions, which expire within minutes",
    "_otps": "one-time passwords, which expire within minutes",
    "_authOrigins": "the devices each user logged in from, used for new-location alert mails (Satchel sends none)",
}
#: OAuth2 links: users who sign in only through a provider would be locked out without them
OAUTH_LINKS = "_externalAuths"
#: auth options Satchel has no flow for: on, they let users sign in in ways Satchel can't follow
UNSUPPORTED_AUTH = {"oauth2": "OAuth2", "mfa": "multi-factor", "otp": "one-time password"}
SETTINGS_KEY = "settings"
#: collection types the import carries (a view is made from its query after the tables: target.py)
IMPORTED_TYPES = ("base", "auth", "view")


@dataclass
class Plan:
    collections: list[Collection] = field(default_factory=list)
    left_out: list[str] = field(default_factory=list)  # sentences: collections not carried, and why
    problems: list[str] = field(default_factory=list)  # sentences: what can't be carried
    settings: dict[str, Any] | None = None  # PocketBase's settings, None when it has none stored


def make_plan(pb: PocketBaseDB, with_settings: bool = True) -> Plan:
    """Read every collection and (unless left out) the settings; check each collection the way
    Satchel checks its own."""
    plan = Plan()
    for data in pb.collections():
        name = data["name"]
        if name in LEFT_OUT or name == OAUTH_LINKS:
            _leave_out(pb, plan, name)
            continue
        problems = collection_problems(data)
        if problems:
            plan.problems.extend(problems)
            continue
        plan.collections.append(satchel_collection(data))
    lookup = Schema(plan.collections)
    for collection in plan.collections:
        errors = validate_collection(collection, lookup, collection)
        if errors:
            plan.problems.append(f"collection {collection.name!r} does not pass Satchel's checks: {orjson.dumps(errors).decode()}")
    if with_settings:
        plan.settings = _settings(pb, plan)
    return plan


def _leave_out(pb: PocketBaseDB, plan: Plan, name: str) -> None:
    rows = pb.count(name) if pb.has_table(name) else 0
    if name == OAUTH_LINKS and rows:
        plan.problems.append(
            f"{OAUTH_LINKS} holds {rows} OAuth2 link(s) and Satchel has no OAuth2 sign-in: those users could "
            "not sign in; give them passwords and remove the links in PocketBase first"
        )
        return
    why = LEFT_OUT.get(name, "OAuth2 links (none here)")
    plan.left_out.append(f"{name} ({rows} records): {why}")


def collection_problems(data: dict[str, Any]) -> list[str]:
    """Why a PocketBase collection can't be carried as it is (nothing: it can)."""
    name = data["name"]
    if data["type"] not in IMPORTED_TYPES:
        return [f"collection {name!r} is a {data['type']} collection, which this Satchel does not support"]
    problems = [
        f"collection {name!r} has {label} sign-in enabled, which Satchel does not support: switch it off in PocketBase first"
        for option, label in UNSUPPORTED_AUTH.items()
        if data["type"] == "auth" and isinstance(data.get(option), dict) and data[option].get("enabled")
    ]
    unknown = [f.get("name") for f in data["fields"] if f.get("type") not in FIELD_TYPES]
    if unknown:
        problems.append(f"collection {name!r} has fields of types Satchel does not know: {unknown}")
    return problems


def has_own_rows(collection: Collection) -> bool:
    """Base and auth collections hold records to copy; a view reads its sources' records."""
    return collection.data["type"] != "view"


def satchel_collection(data: dict[str, Any]) -> Collection:
    """The definition Satchel keeps: PocketBase's own (ids, rules, indexes, token secrets),
    each field with Satchel's full option set."""
    return Collection({**data, "fields": [field_type(f).normalize_options(f) for f in data["fields"]]})


def _settings(pb: PocketBaseDB, plan: Plan) -> dict[str, Any] | None:
    raw = pb.param(SETTINGS_KEY)
    if raw is None:
        return None
    try:
        settings = orjson.loads(raw)
    except orjson.JSONDecodeError:
        settings = None
    if not isinstance(settings, dict):
        plan.problems.append(
            "the settings in _params are not JSON: PocketBase encrypted them (it ran with --encryptionEnv) "
            "and Satchel can't decrypt them; import with --without-settings and set them again in Satchel "
            "(a PocketBase on S3: its s3 settings first, so its files are found)"
        )
        return None
    return settings
