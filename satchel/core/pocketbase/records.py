"""A batch of PocketBase records written into Satchel's table by id, and checked there.

Rows already equal are left alone and rows that differ are updated, so running the import
again after an interruption neither duplicates nor rewrites anything.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ...db import store, versions


def _stored(conn: Connection, table: sa.Table, rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    ids = [row["id"] for row in rows]
    return {row["id"]: dict(row) for row in conn.execute(sa.select(table).where(table.c.id.in_(ids))).mappings()}


def upsert(conn: Connection, table: sa.Table, rows: list[dict[str, Any]]) -> tuple[int, int]:
    """Insert the rows the table lacks, update those that differ: (inserted, updated).

    The version moves first (and so queues behind any schema change, as those do): these rows
    change without record events, so each process forgets the records it cached (core/record_cache.py)."""
    versions.bump(conn)
    stored = _stored(conn, table, rows)
    new = [row for row in rows if row["id"] not in stored]
    changed = [(row["id"], row) for row in rows if row["id"] in stored and stored[row["id"]] != row]
    if new:
        conn.execute(table.insert(), new)
    store.update_records(conn, table, changed)
    return len(new), len(changed)


def mismatched(conn: Connection, table: sa.Table, rows: list[dict[str, Any]]) -> list[str]:
    """The ids of the rows the table doesn't hold exactly so."""
    stored = _stored(conn, table, rows)
    return [row["id"] for row in rows if stored.get(row["id"]) != row]
