"""What one compilation shares: the dialect, the schema, the request, and the joins so far.

Every join is keyed by the reference's alias for it, so `author.name = "a" && author.age > 1`
joins `author` once and both comparisons read the same joined row, as they do there.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from ..collection_model import Collection
from .errors import FilterError
from .request_info import RequestInfo

MAX_JOINS = 40  # joins per query, rules and filter together
MAX_EXPRESSIONS = 200  # comparisons per filter or rule (the reference's default limit)
MAX_FILTER_LENGTH = 3500  # characters in a client filter (the reference's limit)


@dataclass
class Join:
    table: Any
    on: Any


@dataclass
class RuleJoin:
    """A collection a client filter reached through a relation: its list rule applies too."""

    collection: Collection
    table: Any
    key: str


class WithPending:
    """A schema that also knows one collection it doesn't store: one being saved, or the collections list."""

    def __init__(self, schema: Any, collection: Collection, table: Any) -> None:
        self.schema = schema
        self.pending = collection
        self.pending_table = table

    def find_collection(self, id_or_name: str) -> Collection | None:
        if id_or_name and id_or_name in (self.pending.id, self.pending.name):
            return self.pending
        found = self.schema.find_collection(id_or_name)
        return None if found is not None and found.id == self.pending.id else found  # renamed away

    def table(self, collection: Collection) -> Any:
        return self.pending_table if collection is self.pending else self.schema.table(collection)


class Context:
    def __init__(self, schema: Any, dialect: Any, request: RequestInfo | None) -> None:
        self.schema = schema  # anything with find_collection(id_or_name) and table(collection)
        self.dialect = dialect
        self.request = request
        self.static = request.static() if request is not None else {}
        self.joins: dict[str, Join] = {}
        self.rule_joins: dict[str, RuleJoin] = {}
        self._counter = 0

    def name(self, prefix: str = "_t") -> str:
        """A fresh SQL alias; the reference's long aliases are only used as keys."""
        self._counter += 1
        return f"{prefix}{self._counter}"

    def collection(self, id_or_name: str) -> Collection | None:
        return self.schema.find_collection(id_or_name)

    def table_alias(self, collection: Collection, prefix: str = "_t") -> Any:
        return self.schema.table(collection).alias(self.name(prefix))

    def join(self, key: str, make: Any) -> Any:
        """The table joined under `key`, made by `make()` -> (table, on) on first use."""
        found = self.joins.get(key)
        if found is not None:
            return found.table
        if len(self.joins) >= MAX_JOINS:
            raise FilterError(f"too many joins (max: {MAX_JOINS})")
        table, on = make()
        self.joins[key] = Join(table, on if on is not None else sa.true())
        return table

    def add_rule_join(self, collection: Collection, table: Any, key: str) -> None:
        self.rule_joins.setdefault(key, RuleJoin(collection, table, key))

    def from_clause(self, base: Any) -> Any:
        """`base LEFT JOIN ...` over every registered join, in registration order."""
        frm = base
        for join in self.joins.values():
            frm = frm.outerjoin(join.table, join.on)
        return frm
