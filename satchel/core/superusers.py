"""Superuser accounts from the command line (`satchel superuser upsert|delete`)."""

from __future__ import annotations

from ..db import store
from ..errors import ApiError
from . import record_delete
from .email_format import is_email_format
from .fields.date import now
from .fields.password import hash_password
from .fields.text import generate
from .state import Satchel


async def upsert(sat: Satchel, email: str, password: str) -> str:
    if not is_email_format(email):
        raise ValueError("invalid or missing email address")
    if len(password) < 8:
        raise ValueError("the password must be at least 8 characters")
    collection = sat.superusers()
    table = sat.schema.table(collection)
    existing = await sat.db.read(store.select_by, table, "email", email, True)
    values = {"password": hash_password(password), "tokenKey": generate("[a-zA-Z0-9]{50}"), "updated": now()}
    if existing:
        await sat.db.write(store.update_record, table, existing[0]["id"], values)
    else:
        record = {"id": generate("[a-z0-9]{15}"), "email": email, "emailVisibility": False, "verified": True, "created": now(), **values}
        await sat.db.write(store.insert_record, table, record)
    return f'Successfully saved superuser "{email}"!'


async def delete(sat: Satchel, email: str) -> str:
    collection = sat.superusers()
    table = sat.schema.table(collection)
    existing = await sat.db.read(store.select_by, table, "email", email, True)
    if not existing:
        return f'Superuser "{email}" is missing or already deleted.'
    try:
        await record_delete.delete(sat, collection, existing[0]["id"])
    except ApiError as exc:  # a required relation still points at this superuser
        raise ValueError(f'failed to delete superuser "{existing[0]["email"]}": {exc.message}') from exc
    return f'Successfully deleted superuser "{email}"!'
