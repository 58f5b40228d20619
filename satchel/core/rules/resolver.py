"""Identifiers -> operands: record fields, `@request.*` and `@collection.*`.

Field paths are walked by `paths.PathRunner`; this module decides where a path starts
(the record, the auth record, another collection, the submitted body) and answers the
static `@request.*` values, which are bound as parameters, never written into the SQL.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any

import orjson

from ... import deepjson
from ...strconv import go_quote
from ..collection_model import Collection
from ..fields.casting import go_json_number, to_str, to_str_list
from .errors import FilterError
from .operands import DISABLED, Operand, columnify, fixed, null, param
from .paths import MULTI_VALUE_TYPES, PathRunner, Ref, is_multiple, split_modifier
from .request_info import PLAIN_AUTH_FIELDS
from .values import literal

ALLOWED = [
    re.compile(p, re.ASCII)
    for p in (
        r"^\w+[\w.:]*$",
        r"^@request\.context$",
        r"^@request\.method$",
        r"^@request\.auth\.[\w.:]*\w+$",
        r"^@request\.body\.[\w.:]*\w+$",
        r"^@request\.query\.[\w.:]*\w+$",
        r"^@request\.headers\.[\w.:]*\w+$",
        r"^@collection\.\w+(:\w+)?\.[\w.:]*\w+$",
    )
]
_MISSING = object()
_GO_FLOAT = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


@dataclass(frozen=True)
class Root:
    """Where plain field names are read: a table (by the reference's alias `key`) or an unsaved record."""

    collection: Collection
    ref: Ref
    key: str


class Resolver:
    def __init__(self, ctx: Any, root: Root, allow_hidden: bool, suffix: str = "") -> None:
        self.ctx = ctx
        self.root = root
        self.allow_hidden = allow_hidden
        self.suffix = suffix  # keeps the joins of a related collection's list rule apart

    def resolve(self, name: str) -> Operand:
        if not any(p.match(name) for p in ALLOWED):
            raise FilterError(f"failed to resolve field {go_quote(name)}")
        props = name.split(".")
        if props[0] == "@collection":
            return self._collection_field(props)
        if props[0] == "@request":
            return self._request_field(name, props)
        return self._runner(props).run()

    def _runner(self, props: list[str], collection: Collection | None = None, ref: Ref | None = None, key: str = "") -> PathRunner:
        root = self.root
        return PathRunner(self, props, collection or root.collection, ref or root.ref, key or root.key)

    # -- @collection ---------------------------------------------------------------------------

    def _collection_field(self, props: list[str]) -> Operand:
        if len(props) < 3:
            raise FilterError(f"invalid @collection field path in {go_quote('.'.join(props))}")
        name, _, alias = props[1].partition(":")
        collection = self.ctx.collection(name)
        if collection is None:
            raise FilterError(f"failed to load collection {go_quote(props[1])} from field path {go_quote('.'.join(props))}")
        key = columnify(f"__collection_alias_{alias}" if alias else f"__collection_{collection.name}") + self.suffix
        runner = self._runner(props[2:])
        table = runner.join_collection(collection, key, None)
        runner.collection, runner.ref, runner.key = collection, Ref(table=table), key
        runner.with_multi = True
        runner.mm_ref = runner.mm_join_collection(collection, None)
        return runner.run()

    # -- @request ----------------------------------------------------------------------------------

    def _request_field(self, name: str, props: list[str]) -> Operand:
        request = self.ctx.request
        if request is None:
            return null()
        if name.startswith("@request.auth."):
            return self._auth_field(name, props)
        if name.startswith("@request.body.") and len(props) > 2:
            field_name, modifier = split_modifier(props[2])
            field = self.root.collection.field(field_name)
            if field is not None:
                if field["type"] == "relation" and len(props) > 3:
                    return self._body_relation(field, props)
                if len(props) == 3 and modifier in ("each", "length", "lower", "changed"):
                    return self._body_modifier(field, modifier)
        return self._static(props[1:])

    def _auth_field(self, name: str, props: list[str]) -> Operand:
        auth = self.ctx.request.auth
        if auth is None:
            return null()
        if name in {f"@request.auth.{f}" for f in PLAIN_AUTH_FIELDS}:
            return self._static(props[1:])
        collection = auth.collection
        key = f"__auth_{columnify(collection.name)}{self.suffix}"
        auth_id = auth.id
        runner = self._runner(props[2:])
        table = runner.join_collection(collection, key, lambda t: t.c.id == auth_id)
        runner.collection, runner.ref, runner.key = collection, Ref(table=table), key
        runner.nullify = True
        runner.mm_ref = runner.mm_join_collection(collection, lambda t: t.c.id == auth_id)
        return runner.run()

    def _body_relation(self, field: dict[str, Any], props: list[str]) -> Operand:
        target = self.ctx.collection(field.get("collectionId", ""))
        if target is None:
            raise FilterError(f"failed to load collection of data field {go_quote(field['name'])}")
        ids = to_str_list(self.ctx.request.body.get(field["name"]))
        if not ids:
            return null()
        key = columnify(f"__data_{target.name}_{field['name']}") + self.suffix
        runner = self._runner(props[3:])
        runner.nullify = True
        table = runner.join_collection(target, key, lambda t: t.c.id.in_(ids))
        runner.collection, runner.ref, runner.key = target, Ref(table=table), key
        runner.with_multi = is_multiple(field)
        runner.mm_ref = runner.mm_join_collection(target, lambda t: t.c.id.in_(ids))
        return runner.run()

    def _body_modifier(self, field: dict[str, Any], modifier: str) -> Operand:
        body = self.ctx.request.body
        raw = body.get(field["name"])
        if modifier == "changed":
            return self._changed(field["name"])
        if modifier == "lower":
            text = _json_text(raw) if field["type"] == "json" else to_str(raw)
            return Operand(self.ctx.dialect.lower(literal(text)), (text,),
                           remake=lambda ps: self.ctx.dialect.lower(literal(ps[0])))
        if field["type"] not in MULTI_VALUE_TYPES:
            raise FilterError(f"field {go_quote(field['name'])} doesn't support multivalue operations")
        items = _to_slice(raw)
        if modifier == "length":
            return fixed(str(len(items)), len(items))
        return self._body_each(field, items)

    def _body_each(self, field: dict[str, Any], items: list[Any]) -> Operand:
        raw = json.dumps(items, separators=(",", ":"), ensure_ascii=False)
        runner = self._runner([field["name"]])
        key = "__dataEach_je_" + columnify(field["name"]) + self.suffix
        value = runner.json_each(key, literal(raw), True, typed=True)
        operand = Operand(value, (raw,))
        if is_multiple(field):
            runner.mm.value = runner.mm_json_each(literal(raw), True, typed=True)
            operand.multi = runner.mm
        return operand

    def _changed(self, name: str) -> Operand:
        """`@request.body.x:changed`: sent, and different from the stored value."""
        from .compiler import compile_group  # the alias is itself a small filter
        from .parser import parse

        alias = parse(f"@request.body.{name}:isset = true && @request.body.{name} != {name}")
        condition = compile_group(self, alias, [200])
        return Operand(self.ctx.dialect.from_condition(condition), null_fallback=DISABLED)

    def _static(self, path: list[str]) -> Operand:
        """A value of the request itself: bound as a parameter, or NULL when missing."""
        last, modifier = split_modifier(path[-1])
        path = [*path[:-1], last]
        value = _extract(self.ctx.static, path)
        if modifier == "isset":
            return fixed("TRUE" if value is not _MISSING else "FALSE", 1 if value is not _MISSING else 0)
        if value is _MISSING:
            value = None
        elif len(path) == 2 and path[0] == "body" and (field := self.root.collection.field(path[1])) and field["type"] == "json":
            value = _json_text(value)
        value = self._plain(value, path[-1])
        if modifier not in ("", "lower"):
            raise FilterError(f"invalid modifier sequence {last}:{modifier}")
        if value is None:
            return null()
        if modifier == "lower":
            return Operand(self.ctx.dialect.lower(literal(value)), (value,),
                           remake=lambda ps: self.ctx.dialect.lower(literal(ps[0])))
        return param(value)

    def _plain(self, value: Any, last: str) -> Any:
        if isinstance(value, str):
            field = self.root.collection.field(last)
            if field is not None and field["type"] == "number" and _GO_FLOAT.match(value):
                number = float(value)  # a number field compared with a form value: strconv.ParseFloat,
                return number if math.isfinite(number) else value  # which refuses what overflows
            return value
        if value is None or isinstance(value, (bool, int, float)):
            return value
        return _go_json(value)


def _go_json(value: Any) -> str:
    """A body object or array as Go's json.Marshal writes it (sorted keys, float64 numbers), at any depth."""
    return deepjson.dumps(deepjson.rebuild(value, _go_json_leaf), sort_keys=True).decode()


def _json_text(value: Any) -> str:
    """A json field's body value as the reference's rules read it: the field's raw JSON text."""
    return "null" if value is None else _go_json(value)


def _go_json_leaf(value: Any) -> Any:
    if isinstance(value, float):
        return orjson.Fragment(go_json_number(value).encode())
    return value


def _extract(data: Any, keys: list[str]) -> Any:
    """The value at `keys` in nested maps and lists, or _MISSING."""
    current = data
    for key in keys:
        if isinstance(current, dict):
            if key not in current:
                return _MISSING
            current = current[key]
        elif isinstance(current, list):
            if not key.isdigit() or int(key) >= len(current):
                return _MISSING
            current = current[int(key)]
        else:
            return _MISSING
    return current


def _to_slice(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value]
