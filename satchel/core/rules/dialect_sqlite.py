"""SQL for SQLite: the reference's own SQL, so SQLite's typing gives the reference's answers.

Only one correction is needed: Satchel stores numbers as REAL where PocketBase's NUMERIC
columns keep whole numbers as INTEGER, so a number column is printed the INTEGER way
wherever SQLite would turn it into text (LIKE, LOWER).
"""

from __future__ import annotations

import json
import re
from typing import Any

import sqlalchemy as sa

from .values import INT, JSON, NUM, REAL, TEXT, Value, as_text, literal

Expr = Any


def bind(value: Any) -> Expr:
    """A bound parameter typed as Go's driver binds it (never interpolated into the SQL)."""
    if value is None:
        return sa.null()
    if isinstance(value, bool):
        return sa.literal(int(value), sa.Integer())
    if isinstance(value, int):
        return sa.literal(value, sa.Integer())
    if isinstance(value, float):
        return sa.literal(value, sa.Float())
    return sa.literal(str(value), sa.Text())


def json_path_literal(raw: Any, path: list[str | int]) -> Value:
    """json_extract() of a known JSON text, done in Python (create rules check an unsaved record)."""
    if raw is None:
        return literal(None)
    try:
        current = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        current = raw  # not JSON: the reference reads it as {"pb": value}
    for part in path:
        if isinstance(part, int) and isinstance(current, list) and 0 <= part < len(current):
            current = current[part]
        elif isinstance(part, str) and isinstance(current, dict) and part in current:
            current = current[part]
        else:
            return literal(None)
    if isinstance(current, (dict, list)):
        return literal(json.dumps(current, separators=(",", ":"), ensure_ascii=False))
    return literal(current)


def sqlite_json_path(path: list[str | int]) -> str:
    return "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path)


def _real_text(expr: Expr) -> Expr:
    """A REAL as the reference prints it: "%!.15g", or "%!.17g" when 15 digits don't round-trip."""
    short = sa.func.printf("%!.15g", expr)
    return sa.case((expr.is_(None), sa.null()), (sa.cast(short, sa.Float()) == expr, short), else_=sa.func.printf("%!.17g", expr))


_NEWER_SPEC = re.compile(r"%[eFIklpPRTuUGgV]")


def _piece(part: str, rest: list[Expr]) -> Expr:
    """One format piece: plain text, a specifier SQLite 3.40 knows, or one built from those."""
    def f(spec: str, *more: str) -> Expr:
        return sa.func.strftime(spec, *rest, *more)

    def number(spec: str, *more: str) -> Expr:
        return sa.cast(f(spec, *more), sa.Integer())

    hour12 = sa.func.mod(number("%H") + 11, 12) + 1
    thursday = ("-3 days", "weekday 4")  # the ISO week's Thursday decides its year and number
    built = {
        "%e": sa.func.printf("%2d", number("%d")), "%k": sa.func.printf("%2d", number("%H")),
        "%I": sa.func.printf("%02d", hour12), "%l": sa.func.printf("%2d", hour12),
        "%p": sa.case((number("%H") < 12, "AM"), else_="PM"), "%P": sa.case((number("%H") < 12, "am"), else_="pm"),
        "%F": f("%Y-%m-%d"), "%T": f("%H:%M:%S"), "%R": f("%H:%M"),
        "%u": sa.case((f("%w") == "0", "7"), else_=f("%w")),
        "%U": sa.func.printf("%02d", (number("%j") + 6 - number("%w")) / 7),
        "%G": f("%Y", *thursday), "%g": sa.func.substr(f("%Y", *thursday), -2),
        "%V": sa.func.printf("%02d", (number("%j", *thursday) - 1) / 7 + 1),
    }
    if part in built:
        return sa.case((f("%s").is_(None), sa.null()), else_=built[part])
    return f(part) if part.startswith("%") else sa.literal(part, sa.Text())


class SQLiteDialect:
    name = "sqlite"

    def sql(self, value: Value) -> Expr:
        return bind(value.lit) if value.is_literal else value.expr

    def _text(self, value: Value) -> Expr:
        """The value as the reference's SQLite turns it into text (LIKE, LOWER, `||`).

        Whole numbers of number columns print as INTEGERs there, and REALs with up to 17
        digits when 15 don't round-trip; SQLite 3.40 would print 15, so REALs are formatted here."""
        if value.is_literal:
            return bind(as_text(value.lit, value.kind))
        expr = value.expr
        if value.kind == NUM:
            whole = sa.cast(expr, sa.Integer())
            return sa.case((expr == whole, sa.cast(whole, sa.Text())), else_=_real_text(expr))
        if value.kind == REAL:
            return _real_text(expr)
        if value.kind == JSON:
            return sa.case((sa.func.typeof(expr) == "real", _real_text(expr)), else_=expr)
        return expr

    # comparisons ------------------------------------------------------------------

    def compare(self, op: str, a: Value, b: Value) -> Expr:
        if op in ("LIKE", "NOT LIKE"):
            left = sa.type_coerce(self._text(a), sa.Text())  # a bool column matched as text, as SQLite does
            return (left.like if op == "LIKE" else left.not_like)(self._text(b), escape="\\")
        return self.sql(a).op(op, is_comparison=True)(self.sql(b))

    def is_null(self, value: Value) -> Expr:
        return self.sql(value).is_(None)

    def is_not_null(self, value: Value) -> Expr:
        return self.sql(value).is_not(None)

    def constant(self, truth: bool) -> Expr:
        return sa.true() if truth else sa.false()

    # value transforms ------------------------------------------------------------

    def coalesce_empty(self, value: Value) -> Value:
        return Value(JSON, sa.func.coalesce(self.sql(value), ""))

    def lower(self, value: Value) -> Value:
        return Value(TEXT, sa.func.lower(self._text(value)))

    def like_wrap(self, value: Value) -> Value:
        """`'%' || value || '%'`: a column on the right of `~` matches anywhere."""
        return Value(TEXT, sa.literal_column("'%'").op("||")(self._text(value)).op("||")(sa.literal_column("'%'")))

    def from_condition(self, condition: Expr) -> Value:
        """A condition used as an operand is the integer 1, 0 or NULL, in parentheses: the
        comparisons are custom operators, which SQLAlchemy doesn't know to bind looser than AND."""
        return Value(INT, sa.Grouping(condition))

    # storage ---------------------------------------------------------------------

    def column(self, field: dict[str, Any], expr: Expr, multiple: bool) -> Value:
        kind = field["type"]
        if kind == "number":
            return Value(NUM, expr, aff="numeric")
        if kind == "bool":
            return Value(INT, expr, aff="numeric")
        return Value(TEXT, expr, aff="numeric" if multiple else "text")

    def json_extract(self, source: Value, path: list[str | int]) -> Value:
        if source.is_literal:
            return json_path_literal(source.lit, path)
        col = self.sql(source)
        pb_path = "$.pb" + sqlite_json_path(path)[1:]
        return Value(JSON, sa.case(
            (sa.func.json_valid(col), sa.func.json_extract(col, sqlite_json_path(path))),
            else_=sa.func.json_extract(sa.func.json_object("pb", col), pb_path),
        ))

    def _as_array(self, col: Expr) -> Expr:
        is_array = sa.func.iif(sa.func.json_valid(col), sa.func.json_type(col) == "array", sa.false())
        return sa.case((is_array, col), else_=sa.func.json_array(col))

    def json_each(self, source: Value, multiple: bool, name: str, typed: bool = False) -> tuple[Any, Expr]:
        """A joinable table of the field's items, and its `value` column."""
        table = sa.func.json_each(self._as_array(self.sql(source))).table_valued("value").alias(name)
        return table, table.c.value

    def item_value(self, expr: Expr, typed: bool = False) -> Value:
        return Value(JSON if typed else TEXT, expr)

    def array_length(self, source: Value, multiple: bool) -> Value:
        col = self.sql(source)
        is_array = sa.func.iif(sa.func.json_valid(col), sa.func.json_type(col) == "array", sa.false())
        empty = sa.or_(col == "", col.is_(None))
        normalized = sa.case((is_array, col), else_=sa.case((empty, sa.func.json_array()), else_=sa.func.json_array(col)))
        return Value(INT, sa.func.json_array_length(normalized))

    def in_array(self, item: Expr, array: Value) -> Expr:
        """`item IN (SELECT value FROM json_each(array))`: a back-relation through a multiple field."""
        table = sa.func.json_each(self._as_array(self.sql(array))).table_valued("value").alias("__je_in")
        return item.in_(sa.select(table.c.value).scalar_subquery())

    def to_number(self, value: Value) -> Expr:
        return self.sql(value)

    def geo_distance(self, numbers: list[Expr]) -> Expr:
        from .functions import haversine

        return haversine(*numbers, acos=sa.func.acos)

    def strftime(self, fmt: Value, time: Value | None, modifiers: list[Value]) -> Expr:
        """strftime(); the specifiers newer SQLite added (%e, %u, %V, ...) are built from older ones."""
        rest = ([self.sql(time)] if time is not None else []) + [self.sql(m) for m in modifiers]
        if not isinstance(fmt.lit, str) or not _NEWER_SPEC.search(fmt.lit):
            return sa.func.strftime(self.sql(fmt), *rest)
        pieces = [_piece(part, rest) for part in re.split(r"(%.)", fmt.lit) if part]
        joined = pieces[0]
        for piece in pieces[1:]:
            joined = joined.op("||")(piece)  # NULL anywhere makes NULL, as strftime() gives for a bad time
        return joined

    def order_keys(self, value: Value) -> list[tuple[Expr, bool]]:
        """ORDER BY keys: SQLite orders NULL < numbers < text (bytes) by itself."""
        return [(self.sql(value), False)]

    def true_join(self) -> Expr:
        return sa.true()

    def lateral(self, table: Any) -> Any:
        return table
