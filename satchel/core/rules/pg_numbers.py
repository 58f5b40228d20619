"""REAL -> text on PostgreSQL exactly as SQLite prints it: "%!.15g", or "%!.17g" when 15 digits don't round-trip.

`to_char(x, '9.99…EEEE')` gives libc's correctly rounded digits and exponent; the rest
lays them out as C's %g does (fixed notation for exponents -4 .. precision-1, else
d.ddde±XX), with SQLite's "!" flag: always a decimal point.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import BindParameter

Expr = Any
_names = itertools.count()


def let(exprs: list[Expr], body: Callable[..., Expr]) -> Expr:
    """`(SELECT body(v0, ...) FROM (SELECT e0 AS v0, ...) AS _lN)`: each expression is written once.

    Emulating SQLite reads a value several times (its class, its number, its text); without
    this the SQL would grow with every level of nesting."""
    typed = [sa.cast(e, e.type) if isinstance(e, BindParameter) else e for e in exprs]  # a bare NULL keeps its type
    # OFFSET 0 keeps the planner from pulling the subquery up, which would write each
    # expression back in at every use (and could make a planning-time memory bomb).
    inner = sa.select(*[e.label(f"v{i}") for i, e in enumerate(typed)]).correlate_except(None).offset(0)
    sub = inner.subquery(f"_l{next(_names)}")
    columns = [sub.c[f"v{i}"] for i in range(len(exprs))]
    return sa.select(body(*columns)).select_from(sub).correlate_except(None).scalar_subquery()


def _or_zero(digits: Expr) -> Expr:
    return sa.func.coalesce(sa.func.nullif(digits, ""), "0")


def _g(x: Expr, precision: int) -> Expr:
    """`x` (non-zero, finite float8) in %!.<precision>g layout."""
    sci = sa.func.btrim(sa.func.to_char(x, "9." + "9" * (precision - 1) + "EEEE"))  # "-3.00000000000000e-01"
    body = sa.func.ltrim(sci, "-")
    exp = sa.cast(sa.func.split_part(body, "e", 2), sa.Integer())
    digits = sa.func.rtrim(sa.func.replace(sa.func.split_part(body, "e", 1), ".", ""), "0")  # significant digits
    return let([sa.func.left(sci, 1) == "-", exp, digits], lambda negative, exp, digits: _layout(negative, exp, digits, precision))


def _layout(negative: Expr, exp: Expr, digits: Expr, precision: int) -> Expr:
    whole = sa.func.substr(sa.func.rpad(digits, exp + 1, "0"), 1, exp + 1)
    fixed = sa.case(
        (exp >= 0, whole.op("||")(".").op("||")(_or_zero(sa.func.substr(digits, exp + 2)))),
        else_=sa.literal("0.", sa.Text()).op("||")(sa.func.repeat("0", -exp - 1)).op("||")(digits),
    )
    exponent = sa.case((exp < 0, "-"), else_="+").op("||")(
        sa.case((sa.func.abs(exp) < 10, "0"), else_="").op("||")(sa.cast(sa.func.abs(exp), sa.Text()))
    )
    scientific = sa.func.left(digits, 1).op("||")(".").op("||")(_or_zero(sa.func.substr(digits, 2))).op("||")("e").op("||")(exponent)
    text = sa.case((sa.and_(exp >= -4, exp < precision), fixed), else_=scientific)
    return sa.case((negative, sa.literal("-", sa.Text()).op("||")(text)), else_=text)


def real_text(value: Expr) -> Expr:
    """The text SQLite gives a REAL value (float8)."""
    return let([value], _real_text)


def _real_text(x: Expr) -> Expr:
    finite = sa.and_(sa.func.abs(x) < sa.cast(sa.literal_column("'Infinity'"), sa.Float(precision=53)), x == x)
    return sa.case(
        (x == 0, "0.0"),
        (sa.not_(finite), sa.cast(x, sa.Text())),
        else_=let([_g(x, 15)], lambda short: sa.case((sa.cast(short, sa.Float(precision=53)) == x, short), else_=_g(x, 17))),
    )
