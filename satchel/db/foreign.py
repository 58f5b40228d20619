"""Recognise a data directory that belongs to PocketBase, so Satchel never writes into it."""

from __future__ import annotations

import os
import sqlite3
from urllib.parse import quote


class ForeignDataDirError(Exception):
    """The data directory holds another program's database; the message says what to do."""


def refuse_pocketbase_dir(data_dir: str) -> None:
    """Raise ForeignDataDirError when `data_dir/data.db` is PocketBase's (its `_collections`
    table has PocketBase's columns, not Satchel's `definition`)."""
    path = os.path.join(os.path.abspath(data_dir), "data.db")
    if os.path.isfile(path) and _is_pocketbase_db(path):
        raise ForeignDataDirError(
            f"{data_dir} is a PocketBase data directory, which Satchel leaves untouched: "
            f"move its data in with `satchel import-pocketbase {data_dir}` "
            "and point --dir at a directory of Satchel's own."
        )


def _is_pocketbase_db(path: str) -> bool:
    # immutable=1: read without locks and without creating -wal/-shm files, so nothing there changes.
    try:
        conn = sqlite3.connect(f"file:{quote(path)}?immutable=1", uri=True)
    except sqlite3.Error:
        return False
    try:
        columns = {row[1] for row in conn.execute("PRAGMA table_info(_collections)")}
    except sqlite3.DatabaseError:  # not a database at all: not ours to judge here
        return False
    finally:
        conn.close()
    return "fields" in columns and "definition" not in columns
