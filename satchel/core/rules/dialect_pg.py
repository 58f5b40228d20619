"""SQL for PostgreSQL that answers as SQLite would.

PostgreSQL is strictly typed, SQLite is not: `title > 3`, `n = "5"` and a JSON value compared
with anything are legal there and have well-defined answers (affinity, then NULL < numbers <
text). Each operand is split into `Parts`: its class (static when known, else a SQL CASE),
its numeric and its text reading. A comparison then picks, per class pair, the matching SQL,
and folds away every branch that can't happen, so the usual `title = :p` stays plain SQL.

Constant folding is also why no CAST here can ever fail: PostgreSQL may evaluate a cast of a
constant while planning, even inside a CASE branch that would never run, so every cast's
input is first made valid (`CASE WHEN x ~ number THEN x ELSE '0' END`).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg

from .dialect_sqlite import bind, json_path_literal
from .pg_numbers import let
from .pg_parts import FLOAT, Parts, parts_of, to_numeric, to_text, triple
from .values import (
    INT,
    JSON,
    LOWER_ASCII,
    NUM,
    TEXT,
    UPPER_ASCII,
    Value,
    as_text,
    ascii_lower,
    numeric_affinity,
)

Expr = Any
ORDERING = ("<", "<=", ">", ">=")
LIKE_TRAILING_ESCAPE = r"(^|[^\\])(\\\\)*\\$"


def byte_order(text: Expr) -> Expr:
    """Text compared byte by byte, as SQLite compares (typed as text so any expression can be collated)."""
    return sa.type_coerce(text, sa.Text()).collate("C")


class PostgresDialect:
    name = "postgresql"

    def sql(self, value: Value) -> Expr:
        if value.is_literal:
            return bind(value.lit)
        return value.expr

    def parts(self, value: Value) -> Parts:
        return parts_of(value)

    def _affinity(self, a: Value, b: Value) -> tuple[Parts, Parts]:
        pa, pb = self.parts(a), self.parts(b)
        if a.aff == "numeric" and b.aff != "numeric":
            pb = to_numeric(b, pb)
        elif b.aff == "numeric" and a.aff != "numeric":
            pa = to_numeric(a, pa)
        elif a.aff == "text" and b.aff is None:
            pb = to_text(b, pb)
        elif b.aff == "text" and a.aff is None:
            pa = to_text(a, pa)
        return pa, pb

    # comparisons ------------------------------------------------------------------

    def _bound(self, values: list[Value], build: Any) -> Expr:
        """build(*values), with every JSON value read once into a subquery column."""
        dynamic = [i for i, v in enumerate(values) if v.kind == JSON and not v.is_literal]
        if not dynamic:
            return build(*values)

        def body(*columns: Expr) -> Expr:
            bound = list(values)
            for i, column in zip(dynamic, columns, strict=True):
                bound[i] = replace(values[i], expr=column)
            return build(*bound)

        return let([values[i].expr for i in dynamic], body)

    def compare(self, op: str, a: Value, b: Value) -> Expr:
        return self._bound([a, b], lambda a, b: self._compare(op, a, b))

    def _compare(self, op: str, a: Value, b: Value) -> Expr:
        if op in ("LIKE", "NOT LIKE"):
            return self._like(op, a, b)
        pa, pb = self._affinity(a, b)
        if op in ("IS", "IS NOT"):
            same = self._is(pa, pb)
            return same if op == "IS" else sa.not_(same)
        return self._ordered(op, pa, pb)

    def _same_class(self, op: str, cls: int, pa: Parts, pb: Parts) -> Expr:
        left, right = (pa.num, pb.num) if cls == 1 else (pa.txt, pb.txt)
        if cls == 2 and op in ORDERING:
            left = byte_order(left)
        return left.op(op, is_comparison=True)(right)

    def _ordered(self, op: str, pa: Parts, pb: Parts) -> Expr:
        """=, <, <=, >, >= : NULL if either side is NULL, classes ordered NULL < number < text."""
        null = sa.cast(sa.null(), sa.Boolean())
        if pa.cls == 0 or pb.cls == 0:
            return null
        branches = []
        if pa.nullable or pb.nullable:
            branches.append((sa.or_(pa.null_test, pb.null_test), null))
        for cls in (1, 2):
            if cls in pa.possible and cls in pb.possible:
                same = self._same_class(op, cls, pa, pb)
                if pa.cls == cls and pb.cls == cls:
                    return same  # NULLs give NULL by themselves
                branches.append((sa.and_(pa.klass == cls, pb.klass == cls), same))
        if pa.cls is not None and pb.cls is not None and pa.cls != pb.cls:
            cross = sa.true() if _rank(op, pa.cls, pb.cls) else sa.false()
        else:
            cross = pa.klass.op(op, is_comparison=True)(pb.klass)
        return sa.case(*branches, else_=cross) if branches else cross

    def _is(self, pa: Parts, pb: Parts) -> Expr:
        """Null-safe equality (`IS`): never NULL."""
        if pa.cls == 0:
            return pb.null_test
        if pb.cls == 0:
            return pa.null_test
        if pa.cls is not None and pa.cls == pb.cls:
            left, right = (pa.num, pb.num) if pa.cls == 1 else (pa.txt, pb.txt)
            return left.is_not_distinct_from(right)
        branches = [(sa.or_(pa.null_test, pb.null_test), sa.and_(pa.null_test, pb.null_test))]
        for cls in (1, 2):
            if cls in pa.possible and cls in pb.possible:
                branches.append((sa.and_(pa.klass == cls, pb.klass == cls), self._same_class("=", cls, pa, pb)))
        return sa.case(*branches, else_=sa.false())

    def _text_of(self, value: Value) -> tuple[Expr, str | None]:
        """(SQL text, Python text when known): LIKE reads both sides as text."""
        if value.is_literal:
            text = as_text(value.lit, value.kind)
            return bind(text), text
        parts = self.parts(value)
        if parts.cls == 2:
            return parts.txt, None
        if parts.cls == 1:
            return parts.numtxt, None
        if parts.cls == 0:
            return sa.cast(sa.null(), sa.Text()), None
        return sa.case((parts.klass == 1, parts.numtxt), (parts.klass == 2, parts.txt), else_=sa.null()), None

    def _like(self, op: str, a: Value, b: Value) -> Expr:
        left, _ = self._text_of(a)
        right, known = self._text_of(b)
        folded_left = sa.func.translate(left, UPPER_ASCII, LOWER_ASCII)
        if known is not None:
            if _ends_with_escape(known):  # SQLite: no match; PostgreSQL would raise
                return sa.case((left.is_(None), sa.cast(sa.null(), sa.Boolean())), else_=sa.true() if op == "NOT LIKE" else sa.false())
            pattern = bind(ascii_lower(known))
        else:
            pattern = sa.func.translate(right, UPPER_ASCII, LOWER_ASCII)
        test = folded_left.like(pattern, escape="\\") if op == "LIKE" else folded_left.not_like(pattern, escape="\\")
        if known is None and not b.wrapped:
            return sa.case((right.op("~")(LIKE_TRAILING_ESCAPE), sa.true() if op == "NOT LIKE" else sa.false()), else_=test)
        return test

    def is_null(self, value: Value) -> Expr:
        return self._bound([value], lambda v: self.parts(v).null_test)

    def is_not_null(self, value: Value) -> Expr:
        return self._bound([value], lambda v: sa.not_(self.parts(v).null_test))

    def constant(self, truth: bool) -> Expr:
        return sa.true() if truth else sa.false()

    # value transforms ------------------------------------------------------------------

    def coalesce_empty(self, value: Value) -> Value:
        if value.is_literal:
            return Value(value.kind, lit="" if value.lit is None else value.lit, nullable=False)
        if value.kind == TEXT:
            return Value(TEXT, sa.func.coalesce(value.expr, ""), nullable=False)
        return replace(value, coalesced=True, aff=None)  # nullable stays: the parts turn NULL into text

    def lower(self, value: Value) -> Value:
        if value.is_literal:
            text = as_text(value.lit, value.kind)
            return Value(TEXT, lit=None if text is None else ascii_lower(text))
        return Value(TEXT, self._bound([value], lambda v: sa.func.translate(self._text_of(v)[0], UPPER_ASCII, LOWER_ASCII)))

    def like_wrap(self, value: Value) -> Value:
        percent = sa.literal("%", sa.Text())
        text = self._bound([value], lambda v: self._text_of(v)[0]) if not value.is_literal else self._text_of(value)[0]
        return Value(TEXT, percent.op("||")(text).op("||")(percent), wrapped=True)

    def from_condition(self, condition: Expr) -> Value:
        return Value(INT, sa.case((condition, 1), (sa.not_(condition), 0), else_=sa.null()))

    # storage ---------------------------------------------------------------------

    def column(self, field: dict[str, Any], expr: Expr, multiple: bool) -> Value:
        kind = field["type"]
        if kind == "number":
            return Value(NUM, expr, aff="numeric")
        if kind == "bool":
            return Value(INT, sa.cast(expr, sa.Integer()), aff="numeric")
        return Value(TEXT, expr, aff="numeric" if multiple else "text")

    def _jsonb(self, source: Value) -> Expr:
        return sa.cast(self.sql(source), pg.JSONB())

    def json_extract(self, source: Value, path: list[str | int]) -> Value:
        """json_extract(col, '$.a[0]'): each step only into an object (keys) or an array (indexes)."""
        if source.is_literal:
            return json_path_literal(source.lit, path)
        doc = sa.cast(self.sql(source), pg.JSON())
        for part in path:
            doc = let([doc], lambda d, part=part: sa.case(
                (sa.func.json_typeof(d) == ("array" if isinstance(part, int) else "object"), d.op("->")(part)),
                else_=sa.cast(sa.null(), pg.JSON()),
            ))
        return Value(JSON, doc)

    def json_each(self, source: Value, multiple: bool, name: str, typed: bool = False) -> tuple[Any, Expr]:
        if typed:
            fn = sa.func.json_array_elements(sa.cast(self.sql(source), pg.JSON()))
        elif multiple:
            fn = sa.func.jsonb_array_elements_text(self._jsonb(source))
        else:
            fn = sa.func.unnest(pg.array([sa.cast(self.sql(source), sa.Text())]))
        table = fn.table_valued("value").render_derived(name=name).lateral(name)  # AS name(value)
        return table, table.c.value

    def item_value(self, expr: Expr, typed: bool = False) -> Value:
        return Value(JSON if typed else TEXT, expr)

    def array_length(self, source: Value, multiple: bool) -> Value:
        col = self.sql(source)
        if multiple:
            return Value(INT, sa.func.coalesce(sa.func.jsonb_array_length(self._jsonb(source)), 0))
        return Value(INT, sa.case((sa.or_(col == "", col.is_(None)), 0), else_=1))

    def in_array(self, item: Expr, array: Value) -> Expr:
        return sa.func.coalesce(self._jsonb(array).op("?")(item), sa.false())

    def to_number(self, value: Value) -> Expr:
        """The number SQLite's math functions read: numbers, numeric text, else NULL."""
        if value.is_literal:
            literal = numeric_affinity(value.lit)
            return bind(float(literal)) if isinstance(literal, (int, float)) else sa.cast(sa.null(), FLOAT)
        def number(v: Value) -> Expr:
            parts = to_numeric(v, self.parts(v))
            if parts.cls == 1:
                return parts.num
            return sa.case((parts.klass == 1, parts.num), else_=sa.cast(sa.null(), FLOAT))

        return self._bound([value], number)

    def geo_distance(self, numbers: list[Expr]) -> Expr:
        from .functions import haversine

        def acos(value: Expr) -> Expr:  # SQLite gives NULL outside -1..1; PostgreSQL would raise
            return let([value], lambda v: sa.case(
                (sa.and_(v >= -1.0, v <= 1.0), sa.func.acos(sa.func.least(sa.func.greatest(v, -1.0), 1.0))),
                else_=sa.cast(sa.null(), FLOAT),
            ))

        return let(numbers, lambda *n: haversine(*n, acos=acos))

    def strftime(self, fmt: Value, time: Value | None, modifiers: list[Value]) -> Expr:
        from .strftime_pg import strftime

        return strftime(self, fmt, time, modifiers)

    def order_keys(self, value: Value) -> list[tuple[Expr, bool]]:
        """ORDER BY keys that order as SQLite does: NULL < numbers < text in byte order."""
        if value.kind == JSON and not value.is_literal:
            klass, num, txt = (self._bound([value], lambda v, i=i: triple(self.parts(v))[i]) for i in range(3))
            return [(klass, False), (num, False), (byte_order(txt), False)]
        parts = self.parts(value)
        if parts.cls == 2:
            return [(byte_order(parts.txt), parts.nullable)]
        if parts.cls == 1:
            return [(parts.num, parts.nullable)]
        if parts.cls == 0:
            return []
        klass, num, txt = triple(parts)
        return [(klass, False), (num, False), (byte_order(txt), False)]

    def true_join(self) -> Expr:
        return sa.true()


def _rank(op: str, a: int, b: int) -> bool:
    return {"=": a == b, "<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]


def _ends_with_escape(pattern: str) -> bool:
    trailing = len(pattern) - len(pattern.rstrip("\\"))
    return trailing % 2 == 1
