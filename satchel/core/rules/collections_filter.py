"""`GET /api/collections?filter=...`: the filter language over six plain columns.

The reference reads this filter with a simple resolver that knows only `id`, `created`,
`updated`, `name`, `system` and `type` (no relations, no `@request`, no `@collection`).
The collections live in memory here, so their rows are handed to the query as bound
values and the database only evaluates the condition.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from ..schema import table_for
from .access import Scope
from .simple_fields import SimpleFields

FIELDS = SimpleFields(
    "_collections", {"id": "text", "created": "autodate", "updated": "autodate", "name": "text", "system": "bool", "type": "text"}
)


def matching_ids_query(scope: Scope, collections: list[dict[str, Any]], filter_text: str) -> Any:
    """`SELECT id` of the collections (their public JSON) that meet the filter; FilterError if it is bad."""
    types = {column.name: column.type for column in table_for(FIELDS.collection).columns}
    rows = sa.union_all(*(
        sa.select(*(sa.literal(item[name], types[name]).label(name) for name in FIELDS.columns)) for item in collections
    )).subquery("_collections")
    return sa.select(rows.c.id).where(FIELDS.condition(scope, rows, filter_text))
