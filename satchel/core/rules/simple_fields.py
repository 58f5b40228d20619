"""PocketBase's simple field resolver: a table read through the filter language by a fixed
set of plain columns (no relations, no `@request`, no `@collection`), as the collections
list and the Logs API have it."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from ...strconv import go_quote
from ..collection_model import Collection
from ..fields import field_type
from .access import Scope
from .compiler import compile_group
from .context import MAX_EXPRESSIONS, MAX_FILTER_LENGTH, Context, WithPending
from .errors import FilterError
from .parser import parse
from .paths import Ref
from .request_info import RequestInfo
from .resolver import Resolver, Root
from .sort import RANDOM, ROWID, order_by, parse_sort


class SimpleFields:
    """What a filter or sort may name: the plain columns `columns` (name -> field type) of the
    table it is applied to, and the names matching `patterns` (such as `data.*` paths)."""

    def __init__(self, name: str, columns: dict[str, str], patterns: Iterable[str] = ()) -> None:
        fields = [field_type({"type": kind}).normalize_options({"name": col, "type": kind}) for col, kind in columns.items()]
        self.collection = Collection({"id": "", "name": name, "type": "base", "fields": fields})
        self.columns = columns
        self.patterns = [re.compile(p, re.ASCII) for p in patterns]

    def allows(self, name: str) -> bool:
        return name in self.columns or any(p.match(name) for p in self.patterns)

    def condition(self, scope: Scope, table: Any, filter_text: str) -> Any:
        """The filter as a condition on `table`'s rows; FilterError if it is bad."""
        if len(filter_text) > MAX_FILTER_LENGTH:
            raise FilterError("max filter length limit reached")
        ctx = Context(WithPending(scope.schema, self.collection, table), scope.dialect(), None)
        resolver = _Restricted(self, ctx, Root(self.collection, Ref(table=table), self.collection.name), allow_hidden=True)
        return compile_group(resolver, parse(filter_text), [MAX_EXPRESSIONS])

    def order(self, scope: Scope, table: Any, sort_text: str) -> list[Any]:
        """The sort as ORDER BY clauses on `table`; FilterError for a name outside the set."""
        for name, _ in parse_sort(sort_text) if sort_text else []:
            if name not in (RANDOM, ROWID) and not self.allows(name):
                raise FilterError(f"invalid sort field {go_quote(name)}")
        pending = Scope(WithPending(scope.schema, self.collection, table), scope.is_sqlite)
        return order_by(pending, self.collection, RequestInfo(), sort_text)


class _Restricted(Resolver):
    def __init__(self, fields: SimpleFields, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields = fields

    def resolve(self, name: str) -> Any:
        if not self.fields.allows(name):
            raise FilterError(f"failed to resolve field {go_quote(name)}")
        return super().resolve(name)
