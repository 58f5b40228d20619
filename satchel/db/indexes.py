"""Collection indexes, written in PocketBase's (SQLite) syntax and created on either database.

Parsed the way the reference parses them (dbutils.ParseIndex), so the same statements are
accepted, the same ones refused with the same messages, and a unique single-column index
means the same thing to relation lookups.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.schema import CreateIndex

from ..tokenizer import split_tokens

_INDEX = re.compile(
    r"create\s+(unique\s+)?\s*index\s*(if\s+not\s+exists\s+)?(\S*)\s+on\s+(\S*)\s*\(([\s\S]*)\)(?:\s*where\s+([\s\S]*))?",
    re.IGNORECASE | re.MULTILINE,
)
_COLUMN = re.compile(r"^([\s\S]+?)(?:\s+collate\s+(\w+))?(?:\s+(asc|desc))?$", re.IGNORECASE | re.MULTILINE)
_TRIM = "`\"'[]\r\n\t\f\v "
_IDENTIFIER = re.compile(r"^\w+$")


@dataclass(frozen=True)
class IndexColumn:
    name: str  # a column name, or an expression such as lower(`title`)
    collate: str
    sort: str  # "", "ASC" or "DESC"


@dataclass(frozen=True)
class Index:
    name: str
    unique: bool
    optional: bool  # IF NOT EXISTS
    columns: tuple[IndexColumn, ...]
    where: str

    def definition(self) -> tuple[Any, ...]:
        """What the index does, whatever it is called."""
        return self.unique, self.optional, tuple((c.name.strip(), c.collate, c.sort) for c in self.columns), self.where


def parse_index(statement: str) -> Index | None:
    """The index a CREATE INDEX statement describes, or None when the reference finds it invalid."""
    m = _INDEX.search(statement)
    if not m:
        return None
    unique, optional, name, table, raw_columns, where = m.groups()
    name = name.rpartition(".")[2].strip(_TRIM)
    try:
        parts = split_tokens(raw_columns, ",")
    except ValueError:
        return None
    columns = []
    for part in parts:
        cm = _COLUMN.match(part)
        column = cm.group(1).strip(_TRIM) if cm else ""
        if cm and column:
            columns.append(IndexColumn(column, (cm.group(2) or "").strip(), (cm.group(3) or "").upper()))
    if not name or not table.strip(_TRIM) or not columns:
        return None
    return Index(name, bool((unique or "").strip()), bool((optional or "").strip()), tuple(columns), (where or "").strip())


Problem = tuple[str, str, dict[str, Any]]  # code, message, params


def index_errors(statements: list[str], taken: dict[str, str]) -> dict[str, Problem]:
    """The first index the reference's collection validator refuses, keyed by its position.

    `taken` maps the lower-cased index names of other collections to their collection's name
    (index names share one namespace per database)."""
    names: set[str] = set()
    definitions: set[tuple[Any, ...]] = set()
    for position, statement in enumerate(statements):
        index = parse_index(statement)
        key = str(position)
        if index is None:
            return {key: ("validation_invalid_index_expression", "Invalid CREATE INDEX expression.", {})}
        if index.name.lower() in names:
            return {key: ("validation_duplicated_index_name", "The index name already exists.", {})}
        names.add(index.name.lower())
        used = taken.get(index.name.lower())
        if used is not None:
            return {key: ("validation_existing_index_name", f"The index name is already used in {used} collection.", {"usedTableName": used})}
        if index.definition() in definitions:
            return {key: ("validation_duplicated_index_definition", "The index definition already exists.", {})}
        definitions.add(index.definition())
    return {}


def unknown_columns(statements: list[str], column_names: set[str]) -> dict[str, Problem]:
    """Indexes naming a column the table lacks: the reference finds these when it builds the table,
    so only once everything else is valid, and reports each with SQLite's words."""
    errors: dict[str, Problem] = {}
    for position, index in enumerate(map(parse_index, statements)):
        missing = [c.name for c in index.columns if _IDENTIFIER.match(c.name) and c.name not in column_names] if index else []
        if index and missing:
            message = f"Failed to create index {index.name} - SQL logic error: no such column: {missing[0]} (1)."
            errors[str(position)] = ("validation_invalid_index_expression", message, {})
    return errors


def has_unique_index(statements: list[str], column: str) -> bool:
    """A UNIQUE index on `column` alone (WHERE clauses ignored, as the reference does)."""
    for statement in statements:
        index = parse_index(statement)
        if index and index.unique and len(index.columns) == 1 and index.columns[0].name.lower() == column.lower():
            return True
    return False


def _sql(text: str) -> Any:
    """An expression in SQLite syntax for either database: backtick identifiers become quoted ones."""
    return sa.text(text.replace("`", '"').replace("!= ''", "<> ''"))


def _column(conn: Connection, table: sa.Table, column: IndexColumn) -> Any:
    expr: Any = table.c[column.name] if column.name in table.c else _sql(column.name)
    if column.collate:
        if conn.dialect.name == "sqlite":
            expr = expr.collate(column.collate)
        elif column.collate.upper() == "NOCASE":
            expr = sa.func.lower(expr)  # PostgreSQL has no NOCASE: the same uniqueness through lower()
    if column.sort == "DESC":
        expr = expr.desc()
    return expr


def create_index(conn: Connection, table: sa.Table, statement: str) -> None:
    """Create an index given in PocketBase's syntax on `table`, whichever its collection's name in the text."""
    index = parse_index(statement)
    if index is None:
        raise ValueError(f"unsupported index: {statement}")
    columns = [_column(conn, table, c) for c in index.columns]
    where = _sql(index.where) if index.where else None
    # `_table`: an index made only of expressions (lower(t)) would otherwise not know its table.
    # Only this dialect's `where` keyword: naming another makes SQLAlchemy load that dialect (2 MB).
    partial: dict[str, Any] = {f"{conn.dialect.name}_where": where}
    create_if_missing(conn, sa.Index(index.name, *columns, unique=index.unique, _table=table, **partial))


def create_if_missing(conn: Connection, index: sa.Index) -> None:
    """`CREATE INDEX IF NOT EXISTS`: one statement, where `checkfirst` reflects the table's
    indexes first (on PostgreSQL a catalog query costing more than the index on a new table)."""
    conn.execute(CreateIndex(index, if_not_exists=True))


_SQLITE_UNIQUE = re.compile(r"UNIQUE constraint failed: (.+)$", re.MULTILINE)


def violated_columns(exc: Exception, table: str, statements: list[str]) -> list[str]:
    """The columns a unique-index violation names, as the reference reads SQLite's message.

    SQLite lists `table.column`s (nothing for an expression index); PostgreSQL names the
    index, whose plain columns are the same ones."""
    orig = getattr(exc, "orig", None)
    constraint = getattr(getattr(orig, "diag", None), "constraint_name", None)
    if constraint:
        index = next((i for i in map(parse_index, statements) if i and i.name == constraint), None)
        return [c.name for c in index.columns if _IDENTIFIER.match(c.name)] if index else []
    m = _SQLITE_UNIQUE.search(str(orig or exc))
    if not m:
        return []
    prefix = table.lower() + "."
    return [part.strip()[len(prefix):] for part in m.group(1).split(",") if part.strip().lower().startswith(prefix)]
