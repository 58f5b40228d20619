"""View collections: their fields inferred from the query, and the SQL views that hold them.

A view collection is a SQL VIEW named like the collection, so every reader (lists, rules,
filters, sort, expand) treats it as the table of a collection whose columns are its fields;
nothing writes to it, and it shows its sources' rows as committed, with no copy to keep in step
(a table filled from the query would need refreshing on every source write). Its query runs in the database's own dialect (SQLite SQL on SQLite,
PostgreSQL SQL on PostgreSQL). As in the reference the view selects `* FROM (query)`, and an
`id` column that is not text is cast to text.

A source table can't be altered under a view on either database (PostgreSQL refuses, SQLite
refuses to drop or rename a column a view reads), and a dropped table leaves a view that fails
when read. So every schema change drops the other views first and builds them again after,
each from its stored query read anew against the new schema: a view whose query no longer
works refuses the change, one whose fields changed (a source field's options) is saved with
the new fields, as the reference re-saves dependent views.
"""

from __future__ import annotations

import logging
import re
import secrets
import string
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ..db import store
from ..db.views import create_view, drop_view, error_message, first_ids, is_text, view_columns
from ..errors import ApiError
from .collection_model import Collection
from .fields import FileField, field_type_as
from .fields.date import now
from .schema import Schema
from .view_query import MISSING_ID, QueryField, ViewQueryError, default_field, normalize_select, parse_identifiers, suggested_fields

if TYPE_CHECKING:
    from .state import Satchel

log = logging.getLogger("satchel.views")
_NAME = re.compile(r"^\w+$", re.ASCII)
SAMPLE = 10
VIEW_DEPTH = 5  # views over views followed to find a file's record, as in the reference


@dataclass
class Inference:
    """What a query makes of a view: its fields (those found before any error), the SELECT the
    SQL view is made from, and the reference's words for what is wrong with it."""

    fields: list[dict[str, Any]] = field(default_factory=list)
    select: str = ""
    error: str | None = None


def infer(conn: Connection, schema: Schema, query: str) -> Inference:
    """The reference's dry run of a view query, error messages included."""
    result = Inference(select=query)
    try:
        query = normalize_select(query)
        suggested = suggested_fields(schema, query)
        columns = _columns(conn, query)
        found = [suggested.get(name) or QueryField(default_field(name)) for name, _ in columns]
        result.fields = [item.field for item in found]
        if not any(name == "id" for name, _ in columns):
            raise ViewQueryError(MISSING_ID)
        for index, item in enumerate(result.fields):
            if not _NAME.match(item["name"]) or len(item["name"]) > 100:
                raise ViewQueryError(f'invalid field "{item["name"]}" ({index}): name: must be in a valid format.')
        guessed = {item.field["name"] for item in found if item.original is None and item.field["type"] == "json"}
        result.select = view_select(conn, query, columns, guessed)
        _check_ids(conn, result.select)
    except ViewQueryError as exc:
        result.error = str(exc)
    return result


def _columns(conn: Connection, query: str) -> list[tuple[str, str]]:
    """The query's columns and types, read from a throwaway view (its own savepoint: on
    PostgreSQL a failed statement would spoil the whole transaction)."""
    name = "_temp_" + "".join(secrets.choice(string.ascii_lowercase + string.digits) for _ in range(6))
    try:
        with conn.begin_nested():
            create_view(conn, name, query)
            columns = view_columns(conn, name)
            drop_view(conn, name)
    except sa.exc.NoSuchTableError:
        raise ViewQueryError(f"no such table: {name}") from None
    except sa.exc.SQLAlchemyError as exc:
        raise ViewQueryError(error_message(exc)) from None
    return columns


def view_select(conn: Connection, query: str, columns: list[tuple[str, str]], guessed: set[str]) -> str:
    """The query, wrapped so that its id is text when it isn't (ids are strings everywhere).

    On PostgreSQL a json column guessed for an expression of another type than text (a number,
    a bool) also becomes its JSON text, as a json field's column holds: the filters on json
    fields read text, and PostgreSQL won't read a number as text by itself."""
    quote = conn.dialect.identifier_preparer.quote_identifier
    as_json = {name for name, type_ in columns if name in guessed and not is_text(type_)} if conn.dialect.name == "postgresql" else set()
    cast_id = not any(name.lower() == "id" and is_text(type_) for name, type_ in columns)
    if not as_json and not cast_id:
        return query

    def pick(name: str) -> str:
        if name == "id" and cast_id:
            return f"CAST({quote(name)} AS TEXT) {quote(name)}"
        return f"to_jsonb({quote(name)})::text AS {quote(name)}" if name in as_json else quote(name)

    # The reference picks the columns it parsed from the query; on PostgreSQL those the database names.
    names = [name for name, _ in columns] if as_json else [c.alias for c in parse_identifiers(query)[0]]
    return f"SELECT {','.join(pick(name) for name in names)} FROM ({query}) AS _satchel_id"


def _check_ids(conn: Connection, select: str) -> None:
    """A first look at the ids (not a guarantee, as in the reference): present and unique."""
    try:
        with conn.begin_nested():
            ids = first_ids(conn, select, SAMPLE)
    except sa.exc.SQLAlchemyError as exc:
        raise ViewQueryError(f"failed to retrieve query records: {error_message(exc)}") from None
    if any(i is None or str(i) == "" for i in ids):
        raise ViewQueryError("the query could return records with empty or invalid ids")
    if len({str(i) for i in ids}) != len(ids):
        raise ViewQueryError("the query could return records with non-unique ids")


def drop_others(conn: Connection, stored: Schema, changed: Collection) -> list[Collection]:
    """Drop the SQL view of every view collection but `changed`; they are rebuilt by `rebuild`."""
    others = [c for c in stored.all() if c.is_view and c.id != changed.id]
    for view in others:
        drop_view(conn, view.name)
    return others


def rebuild(conn: Connection, schema: Schema, views: list[Collection], refused: str | None) -> None:
    """Build the dropped views again against `schema`, views over views after their sources;
    a query that no longer works refuses the whole change with `refused` (a 400). Without
    `refused` (a restore, maybe from the other database's dialect) such a view gets a SQL view
    of its columns with no rows, so it reads as empty (never an error) until its query is fixed."""
    pending = [schema.by_id[v.id] for v in views if v.id in schema.by_id]
    while pending:
        failed: list[tuple[Collection, str]] = []
        for view in pending:
            found = infer(conn, schema, view.data.get("viewQuery") or "")
            if found.error is not None:
                failed.append((view, found.error))
                continue
            create_view(conn, view.name, found.select)
            if _without_ids(found.fields) != _without_ids(view.fields):
                changed = Collection({**view.data, "fields": found.fields, "updated": now()})
                store.save_collection(conn, changed.data, is_new=False)
                schema = schema.replaced(changed)  # the views over this one copy its new fields
        if len(failed) == len(pending):
            name, error = failed[0][0].name, failed[0][1]
            if refused is None:
                log.warning("view collections %s not rebuilt: %s; they show no records until their queries "
                            "are fixed", ", ".join(v.name for v, _ in failed), error)
                for view, _ in failed:
                    create_view(conn, view.name, _no_rows(conn, view))
                return
            raise ApiError(400, refused.format(view=name, error=error))
        pending = [view for view, _ in failed]


def _no_rows(conn: Connection, view: Collection) -> str:
    """A SELECT of the view's columns that finds nothing."""
    quote = conn.dialect.identifier_preparer.quote_identifier
    names = [f["name"] for f in view.fields] or ["id"]
    return "SELECT " + ", ".join(f"CAST(NULL AS TEXT) AS {quote(name)}" for name in names) + " WHERE 1 = 0"


def _without_ids(fields: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in f.items() if k != "id"} for f in fields]


async def file_source(sat: Satchel, view: Collection, field_name: str, filename: str) -> tuple[Collection, str] | None:
    """The collection and record that own a file a view's field shows: the first record of the
    source collection whose file field holds the name (through views over views)."""
    for _ in range(VIEW_DEPTH):
        try:
            suggested = suggested_fields(sat.schema, view.data.get("viewQuery") or "")
        except ViewQueryError:
            return None
        item = next((q for q in suggested.values() if q.collection and q.original and q.field["name"] == field_name), None)
        if item is None or item.collection is None or item.original is None:
            return None
        if item.collection.is_view:
            view, field_name = item.collection, item.original["name"]
            continue
        source, original = item.collection, item.original
        rows = await sat.db.read(store.rows_naming, sat.schema.table(source), original["name"], filename)
        ftype = field_type_as(original, FileField)
        return next(((source, rid) for rid, value in rows if filename in ftype.as_list(ftype.from_db(value, original))), None)
    return None
