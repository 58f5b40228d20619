"""PocketBase 0.40's own SQLite layout (`pb_data/data.db`), written by `satchel export-pocketbase`.

The system tables are made as PocketBase's init migration makes them and its migrations up to
0.40.6 are recorded as applied, so PocketBase opens the file as one of its own and only runs
what it has beyond that: its logs database (`auxiliary.db`) it makes itself on first start.
Record tables get the column types PocketBase gives each field.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from typing import Any

import orjson

SYSTEM_TABLES = """
CREATE TABLE `_migrations` (file VARCHAR(255) PRIMARY KEY NOT NULL, applied INTEGER NOT NULL);
CREATE TABLE `_params` (
    `id`      TEXT PRIMARY KEY DEFAULT ('r'||lower(hex(randomblob(7)))) NOT NULL,
    `value`   JSON DEFAULT NULL,
    `created` TEXT DEFAULT (strftime('%Y-%m-%d %H:%M:%fZ')) NOT NULL,
    `updated` TEXT DEFAULT (strftime('%Y-%m-%d %H:%M:%fZ')) NOT NULL
);
CREATE TABLE `_collections` (
    `id`         TEXT PRIMARY KEY DEFAULT ('r'||lower(hex(randomblob(7)))) NOT NULL,
    `system`     BOOLEAN DEFAULT FALSE NOT NULL,
    `type`       TEXT DEFAULT "base" NOT NULL,
    `name`       TEXT UNIQUE NOT NULL,
    `fields`     JSON DEFAULT "[]" NOT NULL,
    `indexes`    JSON DEFAULT "[]" NOT NULL,
    `listRule`   TEXT DEFAULT NULL,
    `viewRule`   TEXT DEFAULT NULL,
    `createRule` TEXT DEFAULT NULL,
    `updateRule` TEXT DEFAULT NULL,
    `deleteRule` TEXT DEFAULT NULL,
    `options`    JSON DEFAULT "{}" NOT NULL,
    `created`    TEXT DEFAULT (strftime('%Y-%m-%d %H:%M:%fZ')) NOT NULL,
    `updated`    TEXT DEFAULT (strftime('%Y-%m-%d %H:%M:%fZ')) NOT NULL
);
CREATE INDEX idx__collections_type on `_collections` (`type`);
"""
#: The data.db migrations of PocketBase 0.40.6, as a data directory it made lists them.
MIGRATIONS = (
    "1640988000_init.go",
    "1717233556_v0.23_migrate.go",
    "1717233557_v0.23_migrate2.go",
    "1717233558_v0.23_migrate3.go",
    "1717233559_v0.23_migrate4.go",
    "1763020353_update_default_auth_alert_templates.go",
    "1778828400_normalize_indexes.go",
)
COLLECTION_COLUMNS = (
    "id", "system", "type", "name", "fields", "indexes",
    "listRule", "viewRule", "createRule", "updateRule", "deleteRule", "options", "created", "updated",
)
ROWS_PER_INSERT = 500


def _quoted(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def column_sql(name: str, kind: str, default: Any) -> str:
    """A record column as PocketBase declares it, from Satchel's column kind and default."""
    if name == "id":
        return f"{_quoted(name)} TEXT PRIMARY KEY DEFAULT ('r'||lower(hex(randomblob(7)))) NOT NULL"
    if kind == "number":
        return f"{_quoted(name)} NUMERIC DEFAULT 0 NOT NULL"
    if kind == "bool":
        return f"{_quoted(name)} BOOLEAN DEFAULT FALSE NOT NULL"
    if kind == "json":
        return f"{_quoted(name)} JSON DEFAULT NULL" if default is None else f"{_quoted(name)} JSON DEFAULT {_literal(default)} NOT NULL"
    return f"{_quoted(name)} TEXT DEFAULT {_literal(str(default))} NOT NULL"


class PocketBaseWriter:
    """A new `data.db` in PocketBase's layout, its content written in one transaction."""

    def __init__(self, path: str) -> None:
        self.conn = sqlite3.connect(path, isolation_level=None)
        self.conn.execute("PRAGMA journal_mode=WAL")  # as PocketBase keeps it
        self.conn.executescript(SYSTEM_TABLES)
        self.conn.execute("BEGIN")

    def add_collection_row(self, row: dict[str, Any]) -> None:
        """The `_collections` row (JSON columns as values); a view collection has nothing more
        until `add_views`."""
        values = [orjson.dumps(row[c]).decode() if c in ("fields", "indexes", "options") else row[c] for c in COLLECTION_COLUMNS]
        self.conn.execute(
            f"INSERT INTO `_collections` ({', '.join(map(_quoted, COLLECTION_COLUMNS))}) VALUES ({', '.join('?' * len(values))})",
            values,
        )

    def add_collection(self, row: dict[str, Any], columns: list[tuple[str, str, Any]], indexes: list[str]) -> None:
        """The `_collections` row, its table and its indexes."""
        self.add_collection_row(row)
        self.conn.execute(f"CREATE TABLE {_quoted(row['name'])} ({', '.join(column_sql(*column) for column in columns)})")
        for index in indexes:
            self.conn.execute(index)

    def add_views(self, views: list[tuple[str, str]]) -> list[str]:
        """Make each (name, query) view as PocketBase does (`SELECT * FROM (query)`, a non-text id
        cast to text), views over views after their sources; returns the names whose query
        SQLite can't run (a query written for PostgreSQL), left without their view."""
        pending = views
        while pending:
            failed = [(name, query) for name, query in pending if not self._add_view(name, query)]
            if len(failed) == len(pending):
                return [name for name, _ in failed]
            pending = failed
        return []

    def _add_view(self, name: str, query: str) -> bool:
        self.conn.execute("SAVEPOINT view")
        try:
            self.conn.execute(f"CREATE VIEW {_quoted(name)} AS SELECT * FROM ({query})")
            info = self.conn.execute(f"PRAGMA table_info({_quoted(name)})").fetchall()
            if not any(col[1].lower() == "id" and str(col[2]).lower() == "text" for col in info):
                picked = [f"CAST({_quoted(c[1])} as TEXT) {_quoted(c[1])}" if c[1] == "id" else _quoted(c[1]) for c in info]
                self.conn.execute(f"DROP VIEW {_quoted(name)}")
                self.conn.execute(f"CREATE VIEW {_quoted(name)} AS SELECT * FROM (SELECT {','.join(picked)} FROM ({query}))")
        except sqlite3.Error:
            self.conn.execute("ROLLBACK TO view")
            return False
        finally:
            self.conn.execute("RELEASE view")
        return True

    def add_rows(self, table: str, names: list[str], rows: Iterable[tuple[Any, ...]]) -> int:
        """Insert `rows` (values in the order of `names`), a batch at a time; returns how many."""
        statement = f"INSERT INTO {_quoted(table)} ({', '.join(map(_quoted, names))}) VALUES ({', '.join('?' * len(names))})"
        count, batch = 0, []
        for row in rows:
            batch.append(row)
            if len(batch) == ROWS_PER_INSERT:
                self.conn.executemany(statement, batch)
                count, batch = count + len(batch), []
        self.conn.executemany(statement, batch)
        return count + len(batch)

    def set_param(self, key: str, value: Any) -> None:
        self.conn.execute("INSERT INTO `_params` (`id`, `value`) VALUES (?, ?)", (key, orjson.dumps(value).decode()))

    def finish(self, applied_us: int) -> None:
        """Record the migrations as applied at `applied_us` (unix microseconds), commit, close."""
        self.conn.executemany(
            "INSERT INTO `_migrations` (file, applied) VALUES (?, ?)", [(name, applied_us + i) for i, name in enumerate(MIGRATIONS)]
        )
        self.conn.execute("COMMIT")
        self.conn.close()

    def close(self) -> None:
        """Close without committing (a failed export)."""
        self.conn.close()
