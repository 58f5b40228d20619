"""A parsed filter -> one SQL condition, every value bound.

`compile_rule` is the entry point: parse, resolve each operand, build each comparison,
and join them with AND/OR by SQL precedence, within the reference's limit of 200
comparisons per filter.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from ...strconv import go_quote
from .build import Builder
from .context import MAX_EXPRESSIONS, Context
from .errors import FilterError
from .functions import FUNCTIONS
from .lexer import FUNC, IDENT, NUMBER, TEXT, Token
from .macros import MACROS, macro_value
from .operands import Operand, fixed, param
from .parser import Comparison, Group, or_of_ands, parse
from .paths import Ref
from .resolver import Resolver, Root

NORMALIZED = {"null": ("NULL", None), "true": ("1", 1), "false": ("0", 0)}


def resolve_token(resolver: Resolver, token: Token) -> Operand:
    if token.kind == IDENT:
        if token.literal in MACROS:
            return param(macro_value(token.literal))
        try:
            return resolver.resolve(token.literal)
        except FilterError:
            normalized = NORMALIZED.get(token.literal.lower())
            if normalized is None:
                raise
            return fixed(*normalized)
    if token.kind == TEXT:
        return param(token.literal)
    if token.kind == NUMBER:
        try:
            return param(float(token.literal))
        except ValueError:
            raise FilterError(f"invalid number {go_quote(token.literal)}") from None
    if token.kind == FUNC:
        function = FUNCTIONS.get(token.literal)
        if function is None:
            raise FilterError(f"unknown function {go_quote(token.literal)}")
        return function(resolver.ctx.dialect, lambda arg: resolve_token(resolver, arg), token.args)
    raise FilterError(f"unsupported token type {go_quote(token.kind)}")


def compile_group(resolver: Resolver, group: Group, budget: list[int]) -> Any:
    """The group's condition; `budget` counts down the comparisons still allowed."""
    builder = Builder(resolver.ctx.dialect, resolver.ctx.name)
    ors = []
    for run in or_of_ands(group):
        ands = [_compile_item(resolver, builder, item, budget) for item in run]
        ors.append(ands[0] if len(ands) == 1 else sa.and_(*ands))
    return ors[0] if len(ors) == 1 else sa.or_(*ors)


def _compile_item(resolver: Resolver, builder: Builder, item: Comparison | Group, budget: list[int]) -> Any:
    if isinstance(item, Group):
        return compile_group(resolver, item, budget)
    if budget[0] <= 0:
        raise FilterError("max filter expressions limit reached")
    budget[0] -= 1
    left = _operand(resolver, item.left, "left")
    right = _operand(resolver, item.right, "right")
    return builder.comparison(left, item.op, right)


def _operand(resolver: Resolver, token: Token, side: str) -> Operand:
    try:
        return resolve_token(resolver, token)
    except FilterError as exc:
        raise FilterError(f"invalid {side} operand {go_quote(token.literal)} - {exc}") from None


def compile_rule(ctx: Context, root: Root, text: str, allow_hidden: bool, suffix: str = "") -> Any:
    """The condition for a rule or filter text, read against `root`."""
    group = parse(text)
    return compile_group(Resolver(ctx, root, allow_hidden, suffix), group, [MAX_EXPRESSIONS])


def related_list_rules(ctx: Context) -> list[Any]:
    """The list rules of collections a client filter joined, each as `alias.id = '' OR (rule)`."""
    conditions: list[Any] = []
    done: set[str] = set()
    while True:
        pending = [j for key, j in ctx.rule_joins.items() if key not in done]
        if not pending:
            return conditions
        for join in pending:
            done.add(join.key)
            rule = join.collection.rule("listRule") or ""
            root = Root(join.collection, Ref(table=join.table), join.key)
            text = "id='' || (\n" + rule + "\n)"
            conditions.append(compile_rule(ctx, root, text, allow_hidden=True, suffix=ctx.name("_r")))
