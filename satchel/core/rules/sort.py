"""The `sort` list parameter, resolved like filter identifiers (`-created,author.name,j.x`).

A sort field that needs joins becomes a correlated `(SELECT value ... LIMIT 1)`, so that
sorting never multiplies the listed rows. Keys order as SQLite does on both databases:
NULLs first, then numbers, then text in byte order.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from ...strconv import go_quote
from ..collection_model import Collection
from .access import Scope
from .errors import FilterError
from .paths import Ref
from .request_info import RequestInfo
from .resolver import Resolver, Root

MAX_SORT_FIELDS = 8
MAX_SORT_FIELD_LENGTH = 255
RANDOM, ROWID = "@random", "@rowid"


def parse_sort(raw: str) -> list[tuple[str, bool]]:
    """(name, descending) pairs, as the reference splits them (an empty part stays, and fails)."""
    fields = []
    for part in raw.split(","):
        part = part.strip()
        if part.startswith("-"):
            fields.append((part[1:], True))
        else:
            fields.append((part.removeprefix("+"), False))
    return fields


def order_by(scope: Scope, collection: Collection, request: RequestInfo, raw: str) -> list[Any]:
    """ORDER BY clauses for the records table; raises FilterError for a field the reference refuses."""
    if not raw:
        return []
    fields = parse_sort(raw)
    if len(fields) > MAX_SORT_FIELDS:
        raise FilterError("max sort expressions limit reached")
    table = scope.schema.table(collection)
    clauses: list[Any] = []
    for name, desc in fields:
        if len(name) > MAX_SORT_FIELD_LENGTH:
            raise FilterError("max sort field length limit reached")
        if name == RANDOM:
            clauses.append(sa.func.random())
        elif name == ROWID:
            if collection.is_view:  # a view has no rowid, nor the reference's sort by it
                raise FilterError("no rowid column in a view")
            clauses += _rowid(scope, table, desc)
        else:
            clauses += _field_keys(scope, collection, request, table, name, desc)
    return clauses


def _rowid(scope: Scope, table: Any, desc: bool) -> list[Any]:
    """SQLite's insertion order; PostgreSQL has no rowid, so creation time and id stand in."""
    columns = [sa.literal_column("_rowid_")] if scope.is_sqlite else [c for c in (table.c.get("created"), table.c.id) if c is not None]
    return [c.desc() if desc else c.asc() for c in columns]


def _field_keys(scope: Scope, collection: Collection, request: RequestInfo, table: Any, name: str, desc: bool) -> list[Any]:
    keys, ctx = _resolve(scope, collection, request, table, name)
    if not ctx.joins:
        return [_direction(key, desc, nullable) for key, nullable in keys]
    # Through a relation: read the first related value in this sort order (the reference's
    # DISTINCT keeps the first joined row), from a correlated subquery on a copy of the table.
    copy = table.alias(f"_sort_{len(ctx.joins)}")
    keys, ctx = _resolve(scope, collection, request, copy, name)
    ordered = [_direction(key, desc, nullable) for key, nullable in keys]
    first: sa.Select[Any] = sa.select(sa.literal_column("1")).select_from(ctx.from_clause(copy)).where(copy.c.id == table.c.id).order_by(*ordered).limit(1)
    return [_direction(first.with_only_columns(key).scalar_subquery(), desc, True) for key, _ in keys]


def _resolve(scope: Scope, collection: Collection, request: RequestInfo, table: Any, name: str) -> tuple[list[Any], Any]:
    ctx = scope.context(request)
    resolver = Resolver(ctx, Root(collection, Ref(table=table), collection.name), allow_hidden=request.is_superuser)
    operand = resolver.resolve(name)
    if operand.params or operand.ident.lower() == "null":
        raise FilterError(f"invalid sort field {go_quote(name)}")
    return ctx.dialect.order_keys(operand.value), ctx


def _direction(key: Any, desc: bool, nullable: bool) -> Any:
    """SQLite puts NULLs first going up and last going down; PostgreSQL is told to do the same."""
    if desc:
        return key.desc().nulls_last() if nullable else key.desc()
    return key.asc().nulls_first() if nullable else key.asc()
