"""`?expand=author,comments_via_post.author`: related records, each filtered by its own view rule.

A port of the reference's ExpandRecords: one path at a time, up to six levels deep, the
related records fetched once per level, a back-relation (`X_via_field`, or the legacy
`X(field)`) collecting the ids that point here. A path that can't be expanded (unknown field, a null view rule) is left
out silently, as there.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, replace
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ...strconv import go_quote
from ..collection_model import Collection
from ..fields import field_type
from ..fields.casting import to_str_list
from . import query
from .access import SuperusersOnly, rule_condition, scope_of
from .errors import FilterError
from .paths import has_unique_index
from .request_info import EXPAND, RequestInfo

log = logging.getLogger("satchel.rules")

MAX_DEPTH = 6
MAX_BACK_RELATIONS = 1000  # the reference's cap on ids collected per record through `X_via_field`
_VIA = re.compile(r"^(\w+)_via_(\w+)$", re.ASCII)
_VIA_LEGACY = re.compile(r"^(\w+)\((\w+)\)$", re.ASCII)  # `comments(post)`: deprecated there, still served
Memo = dict[tuple[str, ...], Any]  # one request's reads, so a repeated step costs no query


@dataclass
class Node:
    """A record in a response tree: its values and what was expanded under it."""

    collection: Collection
    values: dict[str, Any]
    expand: dict[str, Node | list[Node]] | None = None  # {} once a path was expanded under it, even emptily
    show_email: bool = False


@dataclass(frozen=True)
class Link:
    """How one path step relates records: a field (or a back-relation) and whether it holds many."""

    name: str
    target: Collection
    multiple: bool
    back_field: dict[str, Any] | None = None


def normalize(raw: str) -> list[str]:
    """The reference's path clean-up (no spaces, no dangling dots, no empty paths, a path dropped when
    a longer one continues it, no repeats), with each path cut to the six steps ever expanded.

    Cut and set-based, so the work follows the distinct paths, not the text: `owner` sent 2,000
    times is one path, and the reference's pairwise prefix check (quadratic) becomes a set look-up."""
    paths = []
    for part in raw.split(","):
        part = part.replace(" ", "").strip(".")
        if part:
            paths.append(".".join(part.split(".", MAX_DEPTH)[:MAX_DEPTH]))
    continued = {path[:i] for path in paths for i, char in enumerate(path) if char == "."}
    return list(dict.fromkeys(path for path in paths if path not in continued))


async def expand(sat: Any, nodes: list[Node], raw: str, request: RequestInfo) -> None:
    """Expand every path of `raw` under `nodes` (all of one collection), in place."""
    if not nodes or not raw:
        return
    info = replace(request, context=EXPAND)
    memo: Memo = {}
    for path in normalize(raw):
        try:
            await _expand(sat, nodes, path, info, 1, memo)
        except (FilterError, SuperusersOnly, RecursionError, sa.exc.SQLAlchemyError) as exc:
            log.debug("expand %r skipped: %s", path, exc)


async def _expand(sat: Any, nodes: list[Node], path: str, info: RequestInfo, depth: int, memo: Memo) -> None:
    if depth > MAX_DEPTH or not nodes:
        return
    head, _, rest = path.partition(".")
    link = _link(sat, nodes[0].collection, head)
    ids_of = await _ids_of(sat, nodes, link, memo)
    wanted = list(dict.fromkeys(i for ids in ids_of.values() for i in ids))
    related = await _fetch(sat, link.target, wanted, info, memo)
    if rest:
        await _expand(sat, related, rest, info, depth + 1, memo)
    by_id = {node.values["id"]: node for node in related}
    for node in nodes:
        if node.expand is None:
            node.expand = {}
        found = [by_id[i] for i in ids_of.get(node.values["id"], []) if i in by_id]
        if not found:
            continue
        old = node.expand.get(link.name)
        for earlier in old if isinstance(old, list) else ([old] if old else []):
            for fresh in found:
                if fresh.values["id"] == earlier.values["id"]:
                    fresh.expand = {**(earlier.expand or {}), **(fresh.expand or {})}
        node.expand[link.name] = found if link.multiple else found[0]


def _link(sat: Any, collection: Collection, name: str) -> Link:
    """The step `name`: a back-relation (`X_via_field`, or the older `X(field)`, X a collection's
    name or id; the expand key is the step as written) or a relation field of `collection`."""
    via = (_VIA_LEGACY if "(" in name else _VIA).fullmatch(name)
    if via:
        target = sat.find_collection(via.group(1))
        back = target.field(via.group(2)) if target is not None else None
        if back is None or back["type"] != "relation" or back.get("collectionId") != collection.id:
            raise FilterError(f"couldn't find back-relation {go_quote(name)}")
        return Link(name, target, not has_unique_index(target, back["name"]), back)
    relation = collection.field(name)
    target = sat.find_collection(relation.get("collectionId", "")) if relation and relation["type"] == "relation" else None
    if relation is None or target is None:
        raise FilterError(f"couldn't find relation field {go_quote(name)} in collection {go_quote(collection.name)}")
    return Link(name, target, field_type(relation).is_multiple(relation))


async def _ids_of(sat: Any, nodes: list[Node], link: Link, memo: Memo) -> dict[str, list[str]]:
    """Each node's related ids: the field's values, or the ids of the records pointing back."""
    if link.back_field is None:
        return {node.values["id"]: to_str_list(node.values.get(link.name)) for node in nodes}
    table = sat.schema.table(link.target)
    multiple = field_type(link.back_field).is_multiple(link.back_field)
    ids = [n.values["id"] for n in nodes]
    key = ("back", link.target.id, link.back_field["name"], *ids)
    if key not in memo:
        memo[key] = await sat.db.read(_back_ids, table, link.back_field["name"], multiple, ids)
    return memo[key]


def _back_ids(conn: Connection, table: sa.Table, column: str, multiple: bool, ids: list[str]) -> dict[str, list[str]]:
    """For each id, the ids of `table` rows whose `column` holds it, in insertion order as the reference's
    unordered scan gives them (SQLite's rowid; PostgreSQL has none, so creation time, then id)."""
    order: list[sa.ColumnElement[Any]]
    if conn.dialect.name == "sqlite":
        order = [sa.literal_column("rowid")]
    else:
        order = [table.c.created, table.c.id] if "created" in table.c else [table.c.id]
    out: dict[str, list[str]] = {}
    with query.time_limit(conn):
        for record_id in ids:
            if multiple:
                holds = _json_array_holds(conn, table.c[column], record_id)
            else:
                holds = table.c[column] == record_id
            rows = conn.execute(sa.select(table.c.id).where(holds).order_by(*order).limit(MAX_BACK_RELATIONS))
            out[record_id] = [row.id for row in rows]
    return out


def _json_array_holds(conn: Connection, column: Any, value: str) -> Any:
    if conn.dialect.name == "sqlite":
        items = sa.func.json_each(column).table_valued("value").alias("je")
        return sa.exists(sa.select(sa.literal_column("1")).select_from(items).where(items.c.value == value))
    from sqlalchemy.dialects import postgresql as pg

    return sa.func.coalesce(sa.cast(column, pg.JSONB()).op("?")(value), sa.false())


async def _fetch(sat: Any, collection: Collection, ids: list[str], info: RequestInfo, memo: Memo) -> list[Node]:
    """The records with these ids that the view rule lets this request see, as fresh nodes (each path
    grows its own tree, as in the reference) over rows read once per request."""
    if not ids:
        return []
    key = ("rows", collection.id, *ids)
    if key not in memo:
        try:
            memo[key] = await _visible_rows(sat, collection, ids, info)
        except (FilterError, SuperusersOnly) as exc:
            memo[key] = exc
    found = memo[key]
    if isinstance(found, Exception):
        raise found
    from ..records import from_row

    return [Node(collection, from_row(collection, row), show_email=shown) for row, shown in found]


async def _visible_rows(sat: Any, collection: Collection, ids: list[str], info: RequestInfo) -> list[tuple[Any, bool]]:
    """Rows the view rule lets this request see, each with whether its email is shown."""
    where = rule_condition(scope_of(sat), collection, "viewRule", info)  # SuperusersOnly for a null rule
    rows = await sat.db.read(query.rows_by_ids, sat.schema.table(collection), ids, where)
    from . import managed_ids

    managed = await managed_ids(sat, collection, [row["id"] for row in rows], info)
    return [(row, row["id"] in managed) for row in rows]
