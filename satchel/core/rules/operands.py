"""Resolved operands: what an identifier, literal or function call stands for in SQL.

`Operand` is PocketBase's `ResolverResult`: a value, the bound parameters it carries (their
emptiness steers how `=` treats NULL), a null-fallback preference, and optionally a
multi-match subquery that turns `=` on a multiple relation into "every item matches".
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import sqlalchemy as sa

from ..fields.casting import to_str
from .values import Value, literal

AUTO, DISABLED, ENFORCED = 0, 1, 2
Expr = Any


@dataclass
class MultiMatch:
    """`SELECT value FROM <base copy> LEFT JOIN ... WHERE copy.id = base.id`, built as a path resolves."""

    root: Any  # the copy of the path's first table
    where: Expr  # ties the copy to the outer row (true for an unsaved record)
    correlate: Any = None  # the outer table the WHERE refers to
    joins: list[tuple[Any, Expr]] = field(default_factory=list)
    value: Value | None = None

    def add_join(self, table: Any, on: Expr | None) -> None:
        self.joins.append((table, on if on is not None else sa.true()))

    def subquery(self, dialect: Any, name: str) -> tuple[Any, Value]:
        """The subquery with one `v` column, and the value read back from that column."""
        assert self.value is not None
        frm = self.root
        for table, on in self.joins:
            frm = frm.outerjoin(table, on)
        select = sa.select(dialect.sql(self.value).label("v")).select_from(frm).where(self.where)
        if self.correlate is not None:
            select = select.correlate(self.correlate)
        sub = select.subquery(name)
        return sub, self.value.with_expr(sub.c.v)


@dataclass
class Operand:
    value: Value
    params: tuple[Any, ...] = ()  # the bound values, as PocketBase counts them
    ident: str = ""  # a fixed SQL token the reference emits: NULL, '', 1, 0, TRUE, FALSE, a count
    null_fallback: int = AUTO
    multi: MultiMatch | None = None
    after: Callable[[Expr], Expr] | None = None
    remake: Callable[[tuple[Any, ...]], Value] | None = None  # the value built from other params

    def with_params(self, params: tuple[Any, ...]) -> Operand:
        if self.remake is None:
            return self
        return replace(self, value=self.remake(params), params=params)


def param(value: Any) -> Operand:
    """A bound literal (text, number or macro value)."""
    return Operand(literal(value), (value,), remake=lambda ps: literal(ps[0]))


def fixed(ident: str, value: Any) -> Operand:
    """A literal SQL token (NULL, 1, 0, TRUE, FALSE, '' or a count): no parameter."""
    return Operand(literal(value), ident=ident)


def null() -> Operand:
    return fixed("NULL", None)


# -- the emptiness tests resolveEqualExpr relies on ---------------------------------------------


def has_empty_param(op: Operand) -> bool:
    return any(p is None or p == "" for p in op.params)


def is_empty_ident(op: Operand) -> bool:
    return op.ident.lower() in ("null", "''", '""', "``")


def is_known_non_empty(op: Operand) -> bool:
    if op.null_fallback == ENFORCED:
        return False
    if op.ident.lower() in ("1", "0", "false", "true"):
        return True
    return bool(op.params) and not has_empty_param(op) and not is_empty_ident(op)


# -- LIKE parameters ---------------------------------------------------------------------------


def contains_unescaped(text: str, ch: str) -> bool:
    prev = ""
    for c in text:
        if c == ch and prev != "\\":
            return True
        prev = "" if c == "\\" and prev == "\\" else c
    return False


def escape_unescaped(text: str, chars: str) -> str:
    """A port of the reference's escapeUnescapedChars (it walks the text backwards)."""
    out: list[str] = []
    match = False
    for i in range(len(text) - 1, -1, -1):
        ch = text[i]
        if match:
            if ch != "\\":
                out.append("\\")
            match = False
        elif ch in chars:
            match = True
        out.append(ch)
        if i == 0 and match:
            out.append("\\")
    return "".join(reversed(out))


def wrap_like_params(params: tuple[Any, ...]) -> tuple[str, ...]:
    """Each parameter as text, wrapped in `%` unless it already holds an unescaped `%`."""
    wrapped = []
    for value in params:
        text = to_str(value)  # cast.ToString; the values bound here are never maps or lists
        if not contains_unescaped(text, "%"):
            text = "%" + escape_unescaped(text, "\\%_") + "%"
        wrapped.append(text)
    return tuple(wrapped)


_COLUMNIFY = re.compile(r"[^\w.*\-@#]+", re.ASCII)


def columnify(name: str) -> str:
    """The reference strips every character a SQL identifier can't hold."""
    return _COLUMNIFY.sub("", name)
