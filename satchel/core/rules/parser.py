"""The filter parser: tokens -> a tree of comparisons joined by `&&`/`||`.

It follows fexpr's state machine, quirks included (a group right after an operator replaces
the unfinished comparison), so that the same texts parse or fail as in the reference.
"""

from __future__ import annotations

from dataclasses import dataclass

from ...strconv import go_quote
from .errors import FilterError
from .lexer import FUNC, GROUP, IDENT, JOIN, NUMBER, SIGN, TEXT, Token, tokens

MAX_DEPTH = 100  # nested parentheses; deeper filters are refused instead of recursing without end
OPERANDS = (IDENT, TEXT, NUMBER, FUNC)
AND, OR = "&&", "||"


@dataclass(frozen=True)
class Comparison:
    left: Token
    op: str
    right: Token


@dataclass(frozen=True)
class Group:
    """Items in source order; each item's join says how it attaches to the ones before it."""

    items: tuple[tuple[str, Comparison | Group], ...]


def parse(text: str, depth: int = 0) -> Group:
    """Parse a whole filter; raises FilterError for anything fexpr would refuse."""
    if depth > MAX_DEPTH:
        raise FilterError(f"max nested groups reached (max: {MAX_DEPTH})")
    items: list[tuple[str, Comparison | Group]] = []
    join = AND
    step = "left"
    left: Token | None = None
    op = ""
    for token in tokens(text):
        if token.kind == GROUP:
            items.append((join, parse(token.literal, depth + 1)))
            step = "join"
            continue
        if step == "left":
            if token.kind not in OPERANDS:
                raise FilterError(f"expected left operand, got {go_quote(token.literal)} ({token.kind})")
            left, step = token, "sign"
        elif step == "sign":
            if token.kind != SIGN:
                raise FilterError(f"expected a sign operator, got {go_quote(token.literal)} ({token.kind})")
            op, step = token.literal, "right"
        elif step == "right":
            if token.kind not in OPERANDS:
                raise FilterError(f"expected right operand, got {go_quote(token.literal)} ({token.kind})")
            assert left is not None
            items.append((join, Comparison(left, op, token)))
            step = "join"
        else:
            if token.kind != JOIN:
                raise FilterError(f"expected && or ||, got {go_quote(token.literal)} ({token.kind})")
            join, step = token.literal, "left"
    if step != "join":
        if not items and left is None:
            raise FilterError("empty filter expression")
        raise FilterError("invalid or incomplete filter expression")
    return Group(tuple(items))


def or_of_ands(group: Group) -> list[list[Comparison | Group]]:
    """The items regrouped by SQL precedence: `a || b && c` is `a OR (b AND c)`."""
    runs: list[list[Comparison | Group]] = []
    for join, item in group.items:
        if join == OR or not runs:
            runs.append([item])
        else:
            runs[-1].append(item)
    return runs
