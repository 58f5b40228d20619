"""Rules applied to queries: list filters, per-record checks and the create check.

Each function returns SQL conditions (or runs a small query) for one collection and one
request. When a rule or filter needs joins, the record query keeps its plain shape and
the joins go into `id IN (SELECT id FROM t LEFT JOIN ... WHERE ...)`, so that counting
and paging never see duplicated rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from ..collection_model import Collection
from ..schema import table_for
from .compiler import compile_rule, related_list_rules
from .context import MAX_FILTER_LENGTH, Context, WithPending
from .dialect_sqlite import SQLiteDialect
from .errors import FilterError
from .paths import Ref
from .request_info import RequestInfo
from .resolver import Root


class SuperusersOnly(Exception):
    """The rule is null: only superusers may act (403 for everyone else)."""


@dataclass
class Scope:
    """What rule checks need from the running instance."""

    schema: Any  # core.schema.Schema
    is_sqlite: bool

    def dialect(self) -> Any:
        if self.is_sqlite:
            return SQLiteDialect()
        from .dialect_pg import PostgresDialect  # ~2 MB of code a SQLite server never needs

        return PostgresDialect()

    def context(self, request: RequestInfo | None) -> Context:
        return Context(self.schema, self.dialect(), request)


def scope_of(sat: Any) -> Scope:
    return Scope(sat.schema, sat.db.is_sqlite)


def _finish(ctx: Context, table: Any, conditions: list[Any]) -> Any:
    """One condition on `table`'s rows; joins are kept inside an `id IN (...)` subquery."""
    if not conditions:
        return None
    where = conditions[0] if len(conditions) == 1 else sa.and_(*conditions)
    if not ctx.joins:
        return where
    inner = sa.select(table.c.id).select_from(ctx.from_clause(table)).where(where).correlate(None)
    return table.c.id.in_(inner)


def list_condition(scope: Scope, collection: Collection, request: RequestInfo, filter_text: str) -> Any:
    """The WHERE for a list request: the list rule (unless superuser) and the client's filter.

    Raises SuperusersOnly for a null rule and FilterError for a bad filter (both before any query)."""
    rule = collection.rule("listRule")
    superuser = request.is_superuser
    if rule is None and not superuser:
        raise SuperusersOnly()
    table = scope.schema.table(collection)
    ctx = scope.context(request)
    root = Root(collection, Ref(table=table), collection.name)
    conditions = []
    if rule and not superuser:
        conditions.append(compile_rule(ctx, root, rule, allow_hidden=True))
    if filter_text:
        if len(filter_text) > MAX_FILTER_LENGTH:
            raise FilterError("max filter length limit reached")
        conditions.append(compile_rule(ctx, root, filter_text, allow_hidden=superuser))
        if not superuser:
            conditions += related_list_rules(ctx)
    return _finish(ctx, table, conditions)


def rule_condition(scope: Scope, collection: Collection, rule_name: str, request: RequestInfo) -> Any:
    """The WHERE a record must meet for view/update/delete (None: no restriction)."""
    rule = collection.rule(rule_name)
    if request.is_superuser:
        return None
    if rule is None:
        raise SuperusersOnly()
    if rule == "":
        return None
    table = scope.schema.table(collection)
    ctx = scope.context(request)
    root = Root(collection, Ref(table=table), collection.name)
    return _finish(ctx, table, [compile_rule(ctx, root, rule, allow_hidden=True)])


def unsaved_check(scope: Scope, collection: Collection, rule: str, row: dict[str, Any], request: RequestInfo) -> Any:
    """`SELECT 1 ... WHERE rule` for a record that isn't stored yet (the create rule)."""
    ctx = scope.context(request)
    root = Root(collection, Ref(values=row), collection.name)
    condition = compile_rule(ctx, root, rule, allow_hidden=True)
    base = sa.select(sa.literal(1).label("one")).subquery(ctx.name("_new"))
    return sa.select(sa.literal_column("1")).select_from(ctx.from_clause(base)).where(condition).limit(1)


def values_check(
    scope: Scope, collection: Collection, rule_name: str, row: dict[str, Any], request: RequestInfo, filter_text: str = "",
) -> Any:
    """Whether the record `row` (its stored values, maybe deleted since) meets a rule and a client's
    filter: True or False when that needs no query, else a `SELECT 1 ... WHERE` to run.

    Realtime events are checked this way, on the values they carry: a delete's record is gone by
    the time subscribers are checked, and an update's may have changed again."""
    rule = collection.rule(rule_name)
    superuser = request.is_superuser
    if rule is None and not superuser:
        return False
    if filter_text and not superuser and any(prefix in filter_text for prefix in ("@collection.", "@request.")):
        return False  # the reference's superuser-only filter fields
    if (superuser or rule == "") and not filter_text:
        return True
    ctx = scope.context(request)
    root = Root(collection, Ref(values=row), collection.name)
    conditions = []
    if rule and not superuser:
        conditions.append(compile_rule(ctx, root, rule, allow_hidden=True))
    if filter_text:
        if len(filter_text) > MAX_FILTER_LENGTH:
            return False
        conditions.append(compile_rule(ctx, root, filter_text, allow_hidden=superuser))
        if not superuser:
            conditions += related_list_rules(ctx)
    base = sa.select(sa.literal(1).label("one")).subquery(ctx.name("_rt"))
    where = conditions[0] if len(conditions) == 1 else sa.and_(*conditions)
    return sa.select(sa.literal_column("1")).select_from(ctx.from_clause(base)).where(where).limit(1)


def rule_error(schema: Any, collection: Collection, rule: str | None) -> str | None:
    """Why a rule can't be compiled for `collection` (as saved, maybe not stored yet), or None.

    For collection validation (the reference's `validation_invalid_rule`); like there, the
    request is empty, so `@request.auth.*` paths are not checked."""
    if not rule:
        return None
    table = table_for(collection)
    ctx = Context(WithPending(schema, collection, table), SQLiteDialect(), RequestInfo())
    root = Root(collection, Ref(table=table), collection.name)
    try:
        compile_rule(ctx, root, rule, allow_hidden=True)
    except (FilterError, RecursionError) as exc:
        return str(exc) or "invalid rule"
    return None
