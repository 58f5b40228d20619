"""Typed SQL values: what each operand of a comparison is, in SQLite's terms.

PocketBase compiles filters for SQLite and lets SQLite's loose typing decide what `n = "5"`
or `title > 3` means. To give the same answers on PostgreSQL, every operand carries its
SQLite storage class (`kind`), the affinity of the column it reads (if any) and, when it is
known while compiling (a literal, a request value), its Python value. The dialect modules
turn these into SQL; the helpers here are the pure-Python halves of SQLite's conversions.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace
from typing import Any

# kinds: the SQLite storage class an operand has (or may have)
TEXT = "text"
NUM = "num"  # a NUMERIC column: whole numbers behave as INTEGER (print as "5")
REAL = "real"  # a REAL value (prints as "5.0")
INT = "int"
JSON = "json"  # json_extract(): any class, decided per row
NULL = "null"

MISSING: Any = type("Missing", (), {"__repr__": lambda self: "MISSING"})()

# SQLite applies NUMERIC affinity to text that reads as a number; PostgreSQL's float8 input
# must never fail on what this accepts, so mantissa and exponent are bounded.
NUMERIC_TEXT = r"^[ \t\n\f\r\v]*[+-]?([0-9]{1,200}(\.[0-9]{0,200})?|\.[0-9]{1,200})([eE][+-]?[0-9]{1,2})?[ \t\n\f\r\v]*$"
_NUMERIC_TEXT = re.compile(NUMERIC_TEXT)


@dataclass(frozen=True)
class Value:
    kind: str
    expr: Any = None  # the SQL expression; None for a literal, which the dialect binds
    lit: Any = MISSING  # the Python value when known while compiling: str, int, float or None
    aff: str | None = None  # "text" or "numeric" for a column, None for anything else
    nullable: bool = True
    coalesced: bool = False  # COALESCE(value, ''): NULL reads as empty text
    wrapped: bool = False  # `'%' || x || '%'`: a LIKE pattern that can't end with the escape

    @property
    def is_literal(self) -> bool:
        return self.lit is not MISSING

    def with_expr(self, expr: Any) -> Value:
        """The same kind of value read from another place (a subquery column)."""
        return replace(self, expr=expr, lit=MISSING)


def literal(value: Any) -> Value:
    """A bound value, typed as Go's SQLite driver binds it (bool -> 1/0, float64 -> REAL)."""
    if value is None:
        return Value(NULL, lit=None)
    if isinstance(value, bool):
        return Value(INT, lit=int(value), nullable=False)
    if isinstance(value, int):
        return Value(INT, lit=value, nullable=False)
    if isinstance(value, float):
        return Value(REAL, lit=value, nullable=False)
    return Value(TEXT, lit=str(value), nullable=False)


def literal_class(value: Any) -> int:
    """SQLite's ordering of storage classes: NULL < numbers < text."""
    if value is None:
        return 0
    return 2 if isinstance(value, str) else 1


def real_text(value: float) -> str:
    """A REAL as SQLite prints it: "%!.15g", or "%!.17g" when that doesn't round-trip (5.0 -> "5.0")."""
    if math.isnan(value):
        return ""
    if math.isinf(value):
        return "Inf" if value > 0 else "-Inf"
    if value == 0:
        return "0.0"  # negative zero too
    text = format(value, ".15g")
    if float(text) != value:
        text = format(value, ".17g")
    mantissa, _, exponent = text.partition("e")
    if "." not in mantissa:
        mantissa += ".0"
    return mantissa + ("e" + exponent if exponent else "")


def number_text(value: int | float, kind: str) -> str:
    """A number converted to text the way SQLite converts it for LIKE, LOWER or TEXT affinity."""
    if isinstance(value, int):
        return str(value)
    if kind == NUM and value.is_integer() and abs(value) < 2**63:
        return str(int(value))
    return real_text(value)


def as_text(value: Any, kind: str) -> str | None:
    """A literal converted to text (None stays NULL)."""
    if value is None or isinstance(value, str):
        return value
    return number_text(value, kind)


def numeric_affinity(value: Any) -> Any:
    """Text that reads as a number becomes that number; anything else is left alone."""
    if not isinstance(value, str) or not _NUMERIC_TEXT.match(value):
        return value
    number = float(value)
    if number.is_integer() and re.fullmatch(r"\s*[+-]?\d+\s*", value) and abs(number) < 2**63:
        return int(value)
    return number


def ascii_lower(text: str) -> str:
    """SQLite's lower(): ASCII letters only."""
    return text.translate(_ASCII_LOWER)


_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
UPPER_ASCII = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
LOWER_ASCII = "abcdefghijklmnopqrstuvwxyz"
