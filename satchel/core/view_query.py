"""A view collection's SELECT read as the reference reads it: its columns and the fields they suggest.

PocketBase does not parse SQL: it blanks comments, marks joins and the clauses after FROM,
tokenizes what is left and takes every `expr [as] alias` of the SELECT and FROM/JOIN parts.
A column named `table.field` (or a bare `field` of the first table) whose table is a
collection becomes a copy of that field; `table.id` becomes a relation to it; `count(...)`,
`total(...)` and a few casts become numbers, text or bools; anything else is json. Satchel
reads the query the same way, so the same query infers the same fields, errors included.
This module is pure: it needs only the collections as the schema holds them.
"""

from __future__ import annotations

import copy
import re
import secrets
import string
from dataclasses import dataclass
from typing import Any

from ..tokenizer import split_tokens
from .collection_model import Collection
from .fields import field_type
from .schema import Schema

_S = "[\t\n\f\r ]"  # Go's \s
_JOINS = (
    r"full\s+outer\s+join|left\s+outer\s+join|right\s+outer\s+join|full\s+join|cross\s+join"
    r"|inner\s+join|outer\s+join|left\s+join|right\s+join|join"
).replace(r"\s", _S)
_JOIN = re.compile(f"{_S}+({_JOINS}){_S}+?", re.IGNORECASE | re.MULTILINE)
_DISCARD = re.compile(f"{_S}+(where|group{_S}+by|having|order|limit|with){_S}+?", re.IGNORECASE | re.MULTILINE)
_COMMENTS = re.compile(r"(/\*[\s\S]*?\*/)|(--.+$)", re.MULTILINE)
_CAST = re.compile(f"^cast{_S}*\\(.*{_S}+as{_S}+(\\w+){_S}*\\)$", re.IGNORECASE | re.DOTALL)
_CASTS = {
    "real": ("number", {}), "decimal": ("number", {}), "numeric": ("number", {}),
    "int": ("number", {"onlyInt": True}), "integer": ("number", {"onlyInt": True}),
    "text": ("text", {}), "boolean": ("bool", {}), "bool": ("bool", {}),
}
_CLONE_ALPHABET = string.ascii_letters + string.digits
MISSING_ID = "missing required id column (you can use `(ROW_NUMBER() OVER()) as id` if you don't have one)"


class ViewQueryError(ValueError):
    """The query can't be a view; the message is the reference's (after "Invalid query - ")."""


@dataclass(frozen=True)
class Identifier:
    original: str
    alias: str


@dataclass(frozen=True)
class QueryField:
    """A column's field, and where it came from when it copies a collection's field."""

    field: dict[str, Any]
    collection: Collection | None = None
    original: dict[str, Any] | None = None


def normalize_select(query: str) -> str:
    """The query without surrounding blanks and semicolons; several statements are refused."""
    query = query.strip().strip(";")
    try:
        parts = split_tokens(query, ";")
    except ValueError:
        parts = []  # the reference ignores the tokenizer's error here
    if len(parts) > 1:
        raise ViewQueryError("multiple statements are not supported")
    return query


def parse_identifiers(query: str) -> tuple[list[Identifier], list[Identifier]]:
    """The SELECT columns and the FROM/JOIN tables of `query`, each as (original, alias)."""
    text = _COMMENTS.sub(" ", query.strip().strip(";"))
    text = _JOIN.sub(" __pb_join__ ", text)
    text = _DISCARD.sub(" __pb_discard__ ", text)
    parts: dict[str, list[str]] = {"select": [], "from": [], "join": []}
    active: list[str] | None = None
    part, skip = "", False
    for token in _tokens(text, ", \n\t", keep_separator=True):
        word = token.strip().lower()
        if word in ("select", "from"):
            part, skip, active = word, False, parts[word]
        elif word == "distinct":
            continue
        elif word == "__pb_join__":
            skip = False
            if part == "join":
                parts["join"].append(",")
            part, active = "join", parts["join"]
        elif word == "__pb_discard__":
            skip = True
        else:
            if part == "join" and word == "on":
                skip = True
            if not skip and active is not None:
                active.append(" " + token)
    columns = _identifiers("".join(parts["select"]))
    tables = _identifiers("".join(parts["from"])) + _identifiers("".join(parts["join"]))
    return columns, tables


def _tokens(raw: str, separators: str, keep_separator: bool = False) -> list[str]:
    try:
        return split_tokens(raw, separators, keep_separator=keep_separator)
    except ValueError as exc:
        raise ViewQueryError(str(exc)) from None


def _identifiers(raw: str) -> list[Identifier]:
    return [_identifier(_tokens(item, " \n\t")) for item in _tokens(raw, ",")]


def _identifier(parts: list[str]) -> Identifier:
    if len(parts) == 3:
        if parts[1].lower() != "as":
            raise ViewQueryError(f'invalid identifier part - expected "as", got {parts[1]}')
        original, alias = parts[0], parts[2]
    elif len(parts) == 2:
        original, alias = parts
    elif len(parts) == 1:
        original, alias = parts[0], parts[0].split(".")[-1]
    else:
        raise ViewQueryError(f"invalid identifier parts [{' '.join(parts)}]")
    # The single quote too for the alias: SQLite takes 'x' where it expects a name.
    return Identifier(_trim(original, "`\"[];"), _trim(alias, "`\"[];'"))


def _trim(raw: str, chars: str) -> str:
    return ".".join(part.strip(chars) for part in raw.split("."))


def default_field(name: str) -> dict[str, Any]:
    """A column nothing is known about: json (the id column: the view's text primary key)."""
    if name == "id":
        return _field("text", "id", system=True, required=True, primaryKey=True, pattern="^[a-z0-9]+$")
    return _field("json", name, maxSize=1)


def _field(type_: str, name: str, **options: Any) -> dict[str, Any]:
    return field_type({"type": type_}).normalize_options({"type": type_, "name": name, **options})


def suggested_fields(schema: Schema, query: str) -> dict[str, QueryField]:
    """The field each SELECT column suggests, by column alias (the last one wins, as in the reference)."""
    columns, tables = parse_identifiers(query)
    collections = _collections(schema, tables)
    main = tables[0].alias if tables else ""
    result: dict[str, QueryField] = {}
    for col in columns:
        if col.alias == "*":
            raise ViewQueryError(
                "wildcard columns (*) are not supported - manually type the collection field names you want the view query to have"
            )
        result[col.alias] = _suggested(col, collections, main)
    return result


def _suggested(col: Identifier, collections: dict[str, Collection], main: str) -> QueryField:
    lower = col.original.lower()
    if col.alias == "id":
        return QueryField(default_field("id"))
    if lower.startswith("count("):
        return QueryField(_field("number", col.alias, onlyInt=True))
    if lower.startswith("total("):
        return QueryField(_field("number", col.alias))
    cast = _CAST.match(lower)
    if cast and cast.group(1) in _CASTS:
        type_, options = _CASTS[cast.group(1)]
        return QueryField(_field(type_, col.alias, **options))
    parts = col.original.split(".")
    field_name, collection = (parts[1], collections.get(parts[0])) if len(parts) == 2 else (parts[0], collections.get(main))
    if collection is None:
        return QueryField(default_field(col.alias))
    original = next((f for f in collection.fields if f["name"].lower() == field_name.lower()), None)
    if original is None:
        return QueryField(default_field(col.alias), collection)
    if field_name.lower() == "id":
        return QueryField(_field("relation", col.alias, maxSelect=1, collectionId=collection.id), collection)
    clone = copy.deepcopy(original)
    # A fresh id: the same field may be picked twice under two aliases.
    clone["id"] = "_clone_" + "".join(secrets.choice(_CLONE_ALPHABET) for _ in range(4))
    clone["name"] = col.alias
    return QueryField(clone, collection, original)


def _collections(schema: Schema, tables: list[Identifier]) -> dict[str, Collection]:
    """The collections the FROM/JOIN tables name (exact names), by table alias."""
    found: dict[str, Collection] = {}
    for table in tables:
        if "(" in table.alias:
            continue
        collection = schema.find_collection(table.original)
        if collection is not None and collection.name == table.original:
            found[table.alias] = collection
    return found
