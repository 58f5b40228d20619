"""`GET /api/collections?filter=...`: the filter language over six plain columns.

The reference reads this filter with a simple resolver that knows only `id`, `created`,
`updated`, `name`, `system` and `type` (no relations, no `@request`, no `@collection`).
The collections live in memory here, so their rows are handed to the query as bound
values and the database only evaluates the condition.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from ...strconv import go_quote
from ..collection_model import Collection
from ..fields import field_type
from ..schema import table_for
from .access import Scope
from .compiler import compile_group
from .context import MAX_EXPRESSIONS, MAX_FILTER_LENGTH, Context, WithPending
from .errors import FilterError
from .parser import parse
from .paths import Ref
from .resolver import Resolver, Root

COLUMNS = {"id": "text", "created": "autodate", "updated": "autodate", "name": "text", "system": "bool", "type": "text"}


def _pseudo_collection() -> Collection:
    fields = [field_type({"type": kind}).normalize_options({"name": name, "type": kind}) for name, kind in COLUMNS.items()]
    return Collection({"id": "", "name": "_collections", "type": "base", "fields": fields})


class _ColumnsOnly(Resolver):
    def resolve(self, name: str) -> Any:
        if name not in COLUMNS:
            raise FilterError(f"failed to resolve field {go_quote(name)}")
        return super().resolve(name)


def matching_ids_query(scope: Scope, collections: list[dict[str, Any]], filter_text: str) -> Any:
    """`SELECT id` of the collections (their public JSON) that meet the filter; FilterError if it is bad."""
    if len(filter_text) > MAX_FILTER_LENGTH:
        raise FilterError("max filter length limit reached")
    pseudo = _pseudo_collection()
    types = {column.name: column.type for column in table_for(pseudo).columns}
    rows = sa.union_all(*(
        sa.select(*(sa.literal(item[name], types[name]).label(name) for name in COLUMNS)) for item in collections
    )).subquery("_collections")
    ctx = Context(WithPending(scope.schema, pseudo, rows), scope.dialect(), None)
    resolver = _ColumnsOnly(ctx, Root(pseudo, Ref(table=rows), "_collections"), allow_hidden=True)
    condition = compile_group(resolver, parse(filter_text), [MAX_EXPRESSIONS])
    return sa.select(rows.c.id).where(condition)
