"""Who is asking: the auth record behind a token, and password logins."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..db import store
from . import tokens
from .collection_model import Collection
from .fields.password import check_password
from .state import Satchel


@dataclass(frozen=True)
class Auth:
    collection: Collection
    record: dict[str, Any]

    @property
    def is_superuser(self) -> bool:
        return self.collection.is_superusers

    @property
    def id(self) -> str:
        return self.record["id"]


def is_superuser(auth: Auth | None) -> bool:
    return auth is not None and auth.is_superuser


def token_from_header(header: str) -> str:
    """The raw token, with an any-case "Bearer " prefix taken off."""
    if len(header) > 7 and header[:7].lower() == "bearer ":
        return header[7:]
    return header


async def auth_from_token(sat: Satchel, token: str, kind: str) -> Auth | None:
    """The auth record a valid token of `kind` names; None for any failure (the caller is a guest)."""
    claims = tokens.unverified_claims(token, kind)
    if claims is None:
        return None
    collection = sat.schema.by_id.get(claims["collectionId"])
    if collection is None or not collection.is_auth:
        return None
    record = await sat.db.read(store.select_record, sat.schema.table(collection), claims["id"])
    if record is None or not tokens.verify(token, collection, record, kind):
        return None
    return Auth(collection, record)


async def auth_with_password(sat: Satchel, collection: Collection, identity: str, password: str, field: str = "") -> Auth | None:
    fields = collection.data["passwordAuth"]["identityFields"]
    if field:
        fields = [f for f in fields if f == field]
    table = sat.schema.table(collection)
    for name in fields:
        if collection.field(name) is None:
            continue
        rows = await sat.db.read(store.select_by, table, name, identity, name == "email")
        if len(rows) == 1 and check_password(password, rows[0]["password"]):
            return Auth(collection, rows[0])
    return None
