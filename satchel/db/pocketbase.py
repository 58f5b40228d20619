"""Read a stopped PocketBase (0.23 and later) `data.db`, without changing a byte of it.

The file is opened with SQLite's `immutable`: no locks, no `-wal`/`-shm` files made. That is
only sound while nothing writes to it and its WAL holds nothing, so a WAL with content (a
PocketBase still running, or killed before it could checkpoint) is refused.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import orjson

ROWS_PER_READ = 500
#: `_collections` columns every PocketBase from 0.23 on has (before 0.23: `schema`, no `fields`)
COLLECTION_COLUMNS = {"id", "system", "type", "name", "fields", "indexes", "options", "created", "updated"}


class PocketBaseReadError(Exception):
    """The directory is not a PocketBase data directory this importer can read; the message says why."""


class PocketBaseDB:
    """The tables of one PocketBase `data.db`, read-only."""

    def __init__(self, data_dir: str) -> None:
        path = os.path.join(os.path.abspath(data_dir), "data.db")
        if not os.path.isfile(path):
            raise PocketBaseReadError(f"{data_dir} holds no data.db: not a PocketBase data directory")
        wal = path + "-wal"
        if os.path.exists(wal) and os.path.getsize(wal) > 0:
            raise PocketBaseReadError(
                f"{wal} holds changes not yet in data.db: PocketBase is running or was not stopped cleanly; "
                "stop it (start and stop it once after a crash) and run the import again"
            )
        self.conn = sqlite3.connect(f"file:{quote(path)}?immutable=1", uri=True, check_same_thread=False)
        self.conn.row_factory = sqlite3.Row
        self._check_version()

    def close(self) -> None:
        self.conn.close()

    def _columns(self, table: str) -> set[str]:
        return {row[1] for row in self.conn.execute(f"PRAGMA table_info({_quote(table)})")}

    def _check_version(self) -> None:
        try:
            columns = self._columns("_collections")
        except sqlite3.DatabaseError as exc:
            raise PocketBaseReadError(f"data.db is not a readable SQLite database ({exc})") from None
        if not columns:
            raise PocketBaseReadError("data.db has no _collections table: not a PocketBase database")
        if "schema" in columns and "fields" not in columns:
            raise PocketBaseReadError(
                "this data directory is from PocketBase before 0.23, which Satchel can't import: "
                "open it once with PocketBase 0.23 or later (it migrates the data), then import it"
            )
        if missing := COLLECTION_COLUMNS - columns:
            raise PocketBaseReadError(f"_collections lacks the columns {sorted(missing)}: not a PocketBase 0.23-0.40 database")

    def collections(self) -> list[dict[str, Any]]:
        """Each collection as PocketBase's API prints it: the row, with `options` spread out."""
        rows = self.conn.execute("SELECT * FROM _collections ORDER BY created, id").fetchall()
        out = []
        for row in rows:
            data = dict(row)
            options = orjson.loads(data.pop("options") or "{}")
            data["fields"] = orjson.loads(data["fields"] or "[]")
            data["indexes"] = orjson.loads(data["indexes"] or "[]")
            data["system"] = bool(data["system"])
            out.append({**data, **options})
        return out

    def param(self, key: str) -> str | None:
        """The raw `_params` value (JSON, or ciphertext when PocketBase ran with an encryption key)."""
        row = self.conn.execute("SELECT value FROM _params WHERE id = ?", (key,)).fetchone()
        if row is None or row[0] is None:
            return None
        value = row[0]
        return value.decode() if isinstance(value, bytes) else str(value)

    def count(self, table: str) -> int:
        return int(self.conn.execute(f"SELECT COUNT(*) FROM {_quote(table)}").fetchone()[0])

    def has_table(self, table: str) -> bool:
        return bool(self._columns(table))

    def batches(self, table: str, after: str = "") -> Iterator[list[dict[str, Any]]]:
        """The table's rows in id order, `ROWS_PER_READ` at a time, each batch read on its own
        (keyset pages: no cursor stays open between batches)."""
        sql = f"SELECT * FROM {_quote(table)} WHERE id > ? ORDER BY id LIMIT {ROWS_PER_READ}"
        while rows := self.conn.execute(sql, (after,)).fetchall():
            yield [dict(row) for row in rows]
            after = rows[-1]["id"]


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
