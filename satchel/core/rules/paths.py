"""Field paths: `title`, `author.team.name`, `comments_via_post.message`, `tags:each`, `data.a.b`.

A port of the reference's resolver runner. Walking a path joins each relation twice: into
the main query (LEFT JOIN, so one matching item is enough) and into a multi-match subquery,
which the comparison uses to demand that every item matches unless the operator is `?=`-like.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from ...db.indexes import has_unique_index as unique_index_on
from ...strconv import go_quote
from ..collection_model import Collection
from ..fields import field_type
from .errors import FilterError
from .operands import DISABLED, MultiMatch, Operand, columnify, null
from .values import Value, literal

MAX_NESTED_RELATIONS = 6
MODIFIERS = ("isset", "each", "length", "lower", "changed")
MULTI_VALUE_TYPES = ("select", "relation", "file")
_VIA = re.compile(r"^(\w+)_via_(\w+)$", re.ASCII)


@dataclass(frozen=True)
class Ref:
    """Where a path step reads columns from: a joined table, or the values of an unsaved record."""

    table: Any = None
    values: dict[str, Any] | None = None

    def value(self, dialect: Any, field: dict[str, Any]) -> Value:
        if self.values is not None:
            return literal(self.values.get(field["name"]))
        multiple = field_type(field).is_multiple(field)
        return dialect.column(field, self.table.c[field["name"]], multiple)

    def id(self, dialect: Any) -> Any:
        if self.values is not None:
            return dialect.sql(literal(self.values.get("id")))
        return self.table.c.id


def split_modifier(prop: str) -> tuple[str, str]:
    parts = prop.split(":")
    if len(parts) != 2:
        return prop, ""
    if parts[1] not in MODIFIERS:
        raise FilterError(f"unknown modifier in {go_quote(prop)}")
    return parts[0], parts[1]


def is_multiple(field: dict[str, Any]) -> bool:
    return field_type(field).is_multiple(field)


def has_unique_index(collection: Collection, column: str) -> bool:
    return unique_index_on(collection.data.get("indexes") or [], column)


JSON_LIKE = ("json", "geoPoint")  # columns whose further path segments are a JSON path


class PathRunner:
    """Resolves one identifier's field path; state mirrors the reference's runner."""

    def __init__(self, resolver: Any, props: list[str], collection: Collection, ref: Ref, key: str) -> None:
        self.resolver = resolver
        self.ctx = resolver.ctx
        self.dialect = resolver.ctx.dialect
        self.props = props
        self.collection = collection
        self.ref = ref
        self.key = key
        self.nullify = False
        self.with_multi = False
        root = resolver.root
        self.mm_key = "__mm_" + key
        if root.ref.values is not None:
            mm_root = sa.select(sa.literal(1).label("one")).subquery(self.ctx.name("__mm"))
            self.mm = MultiMatch(mm_root, sa.true())
            self.mm_ref = Ref(values=root.ref.values)
        else:
            mm_root = self.ctx.table_alias(root.collection, "__mm")
            self.mm = MultiMatch(mm_root, mm_root.c.id == root.ref.table.c.id, correlate=root.ref.table)
            self.mm_ref = Ref(table=mm_root)

    # -- joins ---------------------------------------------------------------------------------

    def join_collection(self, collection: Collection, key: str, on_of: Any) -> Any:
        """Join `collection` into the main query under `key`; `on_of(table)` gives the ON clause."""
        def make() -> tuple[Any, Any]:
            table = self.ctx.table_alias(collection)
            return table, on_of(table) if on_of is not None else None

        table = self.ctx.join(key, make)
        if not self.resolver.allow_hidden:
            if collection.rule("listRule") is None:
                raise FilterError(f"{go_quote(collection.name)} fields can be accessed only by superusers")
            if collection.rule("listRule"):
                self.ctx.add_rule_join(collection, table, key)
        return table

    def mm_join_collection(self, collection: Collection, on_of: Any) -> Ref:
        table = self.ctx.table_alias(collection, "__mm")
        self.mm.add_join(table, on_of(table) if on_of is not None else None)
        return Ref(table=table)

    def json_each(self, key: str, source: Value, multiple: bool, typed: bool = False) -> Value:
        """Join the items of a multi-value column (or of a JSON array); `typed` keeps JSON types."""
        def make() -> tuple[Any, Any]:
            table, _ = self.dialect.json_each(source, multiple, self.ctx.name("_je"), typed)
            return table, None

        table = self.ctx.join(key, make)
        return self.dialect.item_value(table.c.value, typed)

    def mm_json_each(self, source: Value, multiple: bool, typed: bool = False) -> Value:
        table, column = self.dialect.json_each(source, multiple, self.ctx.name("__mmje"), typed)
        self.mm.add_join(table, None)
        return self.dialect.item_value(column, typed)

    # -- the walk --------------------------------------------------------------------------------

    def run(self) -> Operand:
        total = len(self.props)
        for i, prop in enumerate(self.props):
            if i == total - 1:
                return self.finalize(prop)
            field = self.collection.field(prop)
            if field is not None and field.get("hidden") and not self.resolver.allow_hidden:
                raise FilterError(f"non-filterable field {go_quote(prop)}")
            if field is not None and field["type"] in JSON_LIKE:
                return self.json_path(field, self.props[i + 1 :])
            if i >= MAX_NESTED_RELATIONS:
                raise FilterError(f"max nested relations reached for field {go_quote(prop)}")
            if field is None:
                missing = self.back_relation(prop)
                if missing is not None:
                    return missing
                continue
            if field["type"] != "relation":
                raise FilterError(f"field {go_quote(prop)} is not a valid relation")
            if not is_multiple(field) and i == total - 2 and self.props[i + 1] == "id":
                return self.finalize(field["name"])
            self.relation(field, prop)
        raise FilterError("failed to resolve field")

    def relation(self, field: dict[str, Any], prop: str) -> None:
        target = self.ctx.collection(field.get("collectionId", ""))
        if target is None:
            raise FilterError(f"failed to load field {go_quote(prop)} collection")
        name = columnify(field["name"])
        key = f"{self.key}_{name}{self.resolver.suffix}"
        multiple = is_multiple(field)
        source = self.ref.value(self.dialect, field)
        if multiple:
            item = self.json_each("__je_" + key, source, True)
            table = self.join_collection(target, key, lambda t: t.c.id == self.dialect.sql(item))
        else:
            table = self.join_collection(target, key, lambda t: t.c.id == self.dialect.sql(source))
        self.collection, self.ref, self.key = target, Ref(table=table), key
        self.with_multi = self.with_multi or multiple
        mm_source = self.mm_ref.value(self.dialect, field)
        if multiple:
            mm_item = self.mm_json_each(mm_source, True)
            self.mm_ref = self.mm_join_collection(target, lambda t: t.c.id == self.dialect.sql(mm_item))
        else:
            self.mm_ref = self.mm_join_collection(target, lambda t: t.c.id == self.dialect.sql(mm_source))
        self.mm_key = f"{self.mm_key}_{name}"

    def back_relation(self, prop: str) -> Operand | None:
        """`comments_via_post`: the records of another collection whose relation points here."""
        m = _VIA.match(prop)
        problem = None
        back = back_field = None
        if not m:
            problem = f"failed to resolve field {go_quote(prop)}"
        else:
            back = self.ctx.collection(m.group(1))
            back_field = back.field(m.group(2)) if back is not None else None
            if back is None:
                problem = f"failed to load back relation field {go_quote(prop)} collection"
            elif back_field is None:
                problem = f"missing back relation field {go_quote(m.group(2))}"
            elif back_field["type"] != "relation":
                problem = f"invalid back relation field {go_quote(m.group(2))}"
            elif back_field.get("collectionId") != self.collection.id:
                problem = f"invalid collection reference of a back relation field {go_quote(m.group(2))}"
        if problem is not None:
            if self.nullify:
                return null()
            raise FilterError(problem)
        assert back is not None and back_field is not None
        if back_field.get("hidden") and not self.resolver.allow_hidden:
            raise FilterError(f"non-filterable back relation field {go_quote(back_field['name'])}")
        multiple = is_multiple(back_field)
        key = f"{self.key}_{columnify(prop)}{self.resolver.suffix}"
        here = self.ref.id(self.dialect)
        table = self.join_collection(back, key, self._back_on(back_field, here, multiple))
        self.collection, self.ref, self.key = back, Ref(table=table), key
        if multiple:
            self.with_multi = True
        elif not self.with_multi:
            self.with_multi = not has_unique_index(back, back_field["name"])
        mm_here = self.mm_ref.id(self.dialect)
        self.mm_ref = self.mm_join_collection(back, self._back_on(back_field, mm_here, multiple))
        self.mm_key = f"{self.mm_key}_{columnify(prop)}"
        return None

    def _back_on(self, back_field: dict[str, Any], here: Any, multiple: bool) -> Any:
        def on(table: Any) -> Any:
            column = Ref(table=table).value(self.dialect, back_field)
            if multiple:
                return self.dialect.in_array(here, column)
            return table.c[back_field["name"]] == here

        return on

    def json_path(self, field: dict[str, Any], rest: list[str]) -> Operand:
        path: list[str | int] = []
        for part in rest:
            if part.isdigit() and len(part) < 19:
                path.append(int(part))
            else:
                clean = columnify(part)
                if not clean:
                    raise FilterError("malformed JSON path")
                path.append(clean)
        value = self.dialect.json_extract(self.ref.value(self.dialect, field), path)
        operand = Operand(value, null_fallback=DISABLED)
        if self.with_multi:
            self.mm.value = self.dialect.json_extract(self.mm_ref.value(self.dialect, field), path)
            operand.multi = self.mm
        return operand

    def finalize(self, prop: str) -> Operand:
        name, modifier = split_modifier(prop)
        field = self.collection.field(name)
        if field is None:
            if self.nullify:
                return null()
            raise FilterError(f"unknown field {go_quote(name)}")
        if field.get("hidden") and not self.resolver.allow_hidden:
            raise FilterError(f"non-filterable field {go_quote(name)}")
        multi_valued = field["type"] in MULTI_VALUE_TYPES
        if modifier == "length" and multi_valued:
            return self._with_mm(self.dialect.array_length(self.ref.value(self.dialect, field), is_multiple(field)),
                                 lambda: self.dialect.array_length(self.mm_ref.value(self.dialect, field), is_multiple(field)))
        if modifier == "each" and multi_valued:
            key = f"__je_{self.key}_{columnify(name)}{self.resolver.suffix}"
            value = self.json_each(key, self.ref.value(self.dialect, field), is_multiple(field))
            self.with_multi = self.with_multi or is_multiple(field)
            return self._with_mm(value, lambda: self.mm_json_each(self.mm_ref.value(self.dialect, field), is_multiple(field)))
        def read(ref: Ref) -> Value:
            value = ref.value(self.dialect, field)
            if field["type"] in JSON_LIKE:
                value = self.dialect.json_extract(value, [])
            return self.dialect.lower(value) if modifier == "lower" else value

        value, mm_value = read(self.ref), (lambda: read(self.mm_ref))
        operand = self._with_mm(value, mm_value)
        if field["type"] in JSON_LIKE:
            operand.null_fallback = DISABLED
        if name == "email" and self.collection.is_auth and not self.resolver.allow_hidden:
            visible = self.ref.value(self.dialect, self.collection.field("emailVisibility") or {"name": "emailVisibility", "type": "bool"})
            operand.after = lambda expr: sa.and_(expr, self.dialect.compare("=", visible, literal(True)))
        return operand

    def _with_mm(self, value: Value, mm_value: Any) -> Operand:
        operand = Operand(value)
        if self.with_multi:
            self.mm.value = mm_value()
            operand.multi = self.mm
        return operand
