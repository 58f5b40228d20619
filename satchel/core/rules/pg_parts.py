"""Operands on PostgreSQL split the SQLite way: class (NULL, number, text), number reading, text reading.

A static class (a text column, a number literal) folds comparisons down to plain SQL; a
dynamic one (a JSON value) is a CASE per row. Affinity conversions (`to_numeric`,
`to_text`) work on these parts exactly as SQLite converts before comparing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import sqlalchemy as sa

from .dialect_sqlite import bind
from .pg_numbers import real_text as _real_text
from .values import INT, NULL, NUM, NUMERIC_TEXT, REAL, TEXT, Value, as_text, literal_class, numeric_affinity

Expr = Any
FLOAT = sa.Float(precision=53)
ROOT_PATH: sa.ColumnClause[Any] = sa.literal_column("'{}'::text[]")


@dataclass(frozen=True)
class Parts:
    """One operand as (class, number, text); `cls` is 0 NULL, 1 number, 2 text, or None if per row."""

    cls: int | None
    klass: Expr  # SQL integer giving the class per row
    num: Expr = None
    txt: Expr = None
    numtxt_of: Callable[[], Expr] = lambda: None
    possible: frozenset[int] = field(default_factory=frozenset)
    nullable: bool = True
    null_test: Expr = None  # SQL that is true when the operand is NULL

    @cached_property
    def numtxt(self) -> Expr:
        """The text SQLite would print for the number reading, built on first use: for a REAL
        it is a large expression (`pg_numbers`) that sorts and most comparisons never read."""
        return self.numtxt_of()


def sql_int(n: int) -> Expr:
    return sa.literal_column(str(n), sa.Integer())


def static(cls: int, expr: Expr, nullable: bool, num: Expr = None, txt: Expr = None, numtxt_of: Callable[[], Expr] = lambda: None) -> Parts:
    null_test = expr.is_(None) if nullable else sa.false()
    klass = sa.case((null_test, sql_int(0)), else_=sql_int(cls)) if nullable else sql_int(cls)
    possible = frozenset({cls, 0} if nullable else {cls})
    return Parts(cls, klass, num, txt, numtxt_of, possible, nullable, null_test)


def number_to_text(expr: Expr, kind: str) -> Expr:
    """SQLite's text for a number: INTEGERs (and whole values of NUMERIC columns) without a fraction."""
    if kind == INT:
        return sa.cast(expr, sa.Text())
    if kind == REAL:
        return _real_text(expr)
    whole = sa.and_(expr == sa.func.trunc(expr), sa.func.abs(expr) < 9.2e18)
    return sa.case((whole, sa.cast(sa.cast(expr, sa.BigInteger()), sa.Text())), else_=_real_text(expr))


def safe_float(text: Expr) -> Expr:
    return sa.cast(sa.case((text.op("~")(NUMERIC_TEXT), text), else_="0"), FLOAT)


def parts_of(value: Value) -> Parts:
    parts = _parts(value)
    return coalesced(parts) if value.coalesced else parts

def _parts(value: Value) -> Parts:
    if value.is_literal:
        lit = value.lit
        cls = literal_class(lit)
        if cls == 0:
            return Parts(0, sql_int(0), possible=frozenset({0}), nullable=True, null_test=sa.true())
        expr = bind(lit)
        if cls == 2:
            return Parts(2, sql_int(2), txt=expr, possible=frozenset({2}), nullable=False, null_test=sa.false())
        numtxt = bind(as_text(lit, value.kind))
        return Parts(1, sql_int(1), num=expr, numtxt_of=lambda: numtxt, possible=frozenset({1}), nullable=False, null_test=sa.false())
    if value.kind == NULL:
        return Parts(0, sql_int(0), possible=frozenset({0}), nullable=True, null_test=sa.true())
    if value.kind == TEXT:
        return static(2, value.expr, value.nullable, txt=value.expr)
    if value.kind in (NUM, REAL, INT):
        return static(1, value.expr, value.nullable, num=value.expr, numtxt_of=lambda: number_to_text(value.expr, value.kind))
    return json_parts(value.expr)

def json_parts(doc: Expr) -> Parts:
    """A `json` value (json, not jsonb: objects keep their text and key order, as in SQLite)."""
    kind = sa.func.json_typeof(doc)
    text = sa.cast(doc, sa.Text())
    klass = sa.case(
        (kind.in_(["number", "boolean"]), sql_int(1)),
        (kind.in_(["string", "array", "object"]), sql_int(2)),
        else_=sql_int(0),
    )
    number = safe_float(sa.case((kind == "number", text), else_="0"))
    num = sa.case((kind == "boolean", sa.case((text == "true", 1.0), else_=0.0)), else_=number)
    txt = sa.case((kind == "string", doc.op("#>>")(ROOT_PATH)), else_=text)

    def numtxt() -> Expr:
        return sa.case(
            (kind == "boolean", sa.case((text == "true", "1"), else_="0")),
            (text.op("~")("[.eE]"), _real_text(number)),  # a JSON number with a fraction or exponent is a REAL
            else_=text,
        )

    return Parts(None, klass, num, txt, numtxt, frozenset({0, 1, 2}), True, klass == 0)

def to_numeric(value: Value, parts: Parts) -> Parts:
    """NUMERIC affinity: text that reads as a number is that number."""
    if value.is_literal:
        return parts_of(Value(value.kind, lit=numeric_affinity(value.lit)))
    if 2 not in parts.possible:
        return parts
    looks = parts.txt.op("~")(NUMERIC_TEXT)
    if parts.cls == 2 and not parts.nullable:
        klass = sa.case((looks, sql_int(1)), else_=sql_int(2))
    else:
        klass = sa.case((sa.and_(parts.klass == 2, looks), sql_int(1)), else_=parts.klass)
    num = sa.case((parts.klass == 2, safe_float(parts.txt)), else_=parts.num) if parts.num is not None else safe_float(parts.txt)
    return Parts(None, klass, num, parts.txt, lambda: parts.txt, parts.possible | {1}, parts.nullable, parts.null_test)

def to_text(value: Value, parts: Parts) -> Parts:
    """TEXT affinity: numbers are compared as their text."""
    if 1 not in parts.possible:
        return parts
    if value.is_literal:
        return parts_of(Value(TEXT, lit=as_text(value.lit, value.kind)))
    if parts.cls == 1:
        klass = sa.case((parts.null_test, sql_int(0)), else_=sql_int(2)) if parts.nullable else sql_int(2)
        possible = frozenset({2, 0} if parts.nullable else {2})
        return Parts(2, klass, None, parts.numtxt, possible=possible, nullable=parts.nullable, null_test=parts.null_test)
    klass = sa.case((parts.klass == 1, sql_int(2)), else_=parts.klass)
    txt = sa.case((parts.klass == 1, parts.numtxt), else_=parts.txt)
    return Parts(None, klass, None, txt, possible=(parts.possible - {1}) | {2}, nullable=parts.nullable, null_test=parts.null_test)


def coalesced(parts: Parts) -> Parts:
    """COALESCE(x, ''): a NULL reads as the empty text."""
    if 0 not in parts.possible:
        return parts
    klass = sa.case((parts.klass == 0, sql_int(2)), else_=parts.klass)
    txt = sa.literal("", sa.Text()) if parts.txt is None else sa.func.coalesce(parts.txt, "")
    return Parts(None, klass, parts.num, txt, lambda: parts.numtxt, (parts.possible - {0}) | {2}, False, sa.false())


def triple(parts: Parts) -> tuple[Expr, Expr, Expr]:
    num = parts.num if parts.num is not None else sa.cast(sa.null(), FLOAT)
    txt = parts.txt if parts.txt is not None else sa.cast(sa.null(), sa.Text())
    return parts.klass, num, txt
