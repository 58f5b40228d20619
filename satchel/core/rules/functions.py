"""Filter functions the reference ships: `geoDistance(lonA, latA, lonB, latB)` and `strftime(format, ...)`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .errors import FilterError
from .lexer import IDENT, NUMBER, TEXT, Token
from .operands import DISABLED, ENFORCED, Operand
from .values import REAL, Value
from .values import TEXT as TEXT_KIND

Resolve = Callable[[Token], Operand]
MAX_STRFTIME_ARGS = 10


def _remaker(resolved: list[Operand], make: Callable[[list[Value]], Value]) -> Callable[[tuple[Any, ...]], Value]:
    """Rebuild the call with other parameter values (LIKE wraps every parameter in `%`)."""

    def remake(new_params: tuple[Any, ...]) -> Value:
        values, start = [], 0
        for op in resolved:
            count = len(op.params)
            values.append(op.with_params(new_params[start : start + count]).value if count else op.value)
            start += count
        return make(values)

    return remake


def haversine(lon_a: Any, lat_a: Any, lon_b: Any, lat_b: Any, *, acos: Callable[[Any], Any]) -> Any:
    """6371 * acos(...): the reference's formula, in km, on numbers already in SQL."""
    import sqlalchemy as sa

    lon_a, lat_a, lon_b, lat_b = (sa.func.radians(n) for n in (lon_a, lat_a, lon_b, lat_b))
    cosine = sa.func.cos(lat_a) * sa.func.cos(lat_b) * sa.func.cos(lon_b - lon_a) + sa.func.sin(lat_a) * sa.func.sin(lat_b)
    return 6371 * acos(cosine)


def _params(resolved: list[Operand]) -> tuple[Any, ...]:
    return tuple(p for op in resolved for p in op.params)


def geo_distance(dialect: Any, resolve: Resolve, args: tuple[Token, ...]) -> Operand:
    """Haversine distance in km; NULL when an argument isn't a number."""
    if len(args) != 4:
        raise FilterError(f"[geoDistance] expected 4 arguments, got {len(args)}")
    for i, arg in enumerate(args):
        if arg.kind not in (IDENT, NUMBER):
            raise FilterError(f"[geoDistance] argument {i} must be an identifier or number")
    resolved = [resolve(arg) for arg in args]

    def make(values: list[Value]) -> Value:
        return Value(REAL, dialect.geo_distance([dialect.to_number(v) for v in values]))

    return Operand(make([op.value for op in resolved]), _params(resolved), null_fallback=DISABLED, remake=_remaker(resolved, make))


def strftime(dialect: Any, resolve: Resolve, args: tuple[Token, ...]) -> Operand:
    """SQLite's strftime(); NULL results are compared as empty text (null fallback enforced)."""
    if not args:
        raise FilterError("[strftime] expected at least 1 arguments, got 0")
    if len(args) > MAX_STRFTIME_ARGS:
        raise FilterError(f"[strftime] too many arguments (max allowed 10, got {len(args)})")
    if args[0].kind != TEXT:
        raise FilterError("[strftime] expects the first argument to be a format string")
    if len(args) > 1 and args[1].kind not in (TEXT, IDENT, NUMBER):
        raise FilterError("[strftime] expects the second argument to be of a valid time-value type")
    for i, arg in enumerate(args[2:]):
        if arg.kind != TEXT:
            raise FilterError(f"[strftime] invalid modifier argument {i} - can be only string")
    resolved = [resolve(arg) for arg in args]

    def make(values: list[Value]) -> Value:
        return Value(TEXT_KIND, dialect.strftime(values[0], values[1] if len(values) > 1 else None, values[2:]))

    operand = Operand(make([op.value for op in resolved]), _params(resolved), null_fallback=ENFORCED, remake=_remaker(resolved, make))
    time_value = resolved[1] if len(resolved) > 1 else None
    if time_value is not None and time_value.multi is not None:
        multi = time_value.multi
        assert multi.value is not None
        multi.value = make([resolved[0].value, multi.value, *(op.value for op in resolved[2:])])
        operand.multi = multi
    return operand


FUNCTIONS: dict[str, Callable[[Any, Resolve, tuple[Token, ...]], Operand]] = {
    "geoDistance": geo_distance,
    "strftime": strftime,
}
