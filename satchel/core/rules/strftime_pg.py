"""SQLite's strftime() on PostgreSQL, for the formats and modifiers filters use.

The format and modifiers are literals, so they are read here in Python; only the time
value is SQL. Times are kept as Unix milliseconds and turned into calendar fields with
integer arithmetic (no date type that could refuse "2024-02-31": SQLite rolls it over).
Anything unsupported or invalid gives NULL, as SQLite does for what it can't read.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg

from .pg_numbers import let
from .values import NUMERIC_TEXT, Value

Expr = Any
DAY = 86_400_000
JD_UNIX = 210_866_760_000_000  # the Unix epoch in Julian-day milliseconds
MAX_JD = 464_269_060_799_999  # 9999-12-31 23:59:59.999
BIG = sa.BigInteger()
NULL_TEXT = sa.cast(sa.null(), sa.Text())
_TEXT_ARRAY = pg.ARRAY(sa.Text())

_DATE = (r"^(-?\d{4})-(\d{2})-(\d{2})(?:[\sT]+(\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?\s*([zZ]|[+-]\d{2}:\d{2})?)?\s*$")
_TIME = r"^()()()(\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?\s*([zZ]|[+-]\d{2}:\d{2})?\s*$"
_UNITS = {"day": DAY, "hour": 3_600_000, "minute": 60_000, "second": 1000}
_MODIFIER = re.compile(r"^\s*([+-]?\d+(?:\.\d*)?|[+-]?\.\d+)\s*(day|hour|minute|second|month|year)s?\s*$", re.IGNORECASE)


def _int(expr: Expr) -> Expr:
    return sa.cast(expr, BIG)


def _fdiv(a: Expr, b: int) -> Expr:
    """Floor division, also for negative numbers."""
    return _int(sa.func.floor(sa.cast(a, sa.Numeric()) / b))


def days_from_civil(y: Expr, m: Expr, d: Expr) -> Expr:
    """Days since 1970-01-01 for a proleptic Gregorian date; months outside 1..12 and days past the
    month's end roll over, as SQLite's computeJD does."""
    y = y + _fdiv(m - 1, 12)
    m = m - 12 * _fdiv(m - 1, 12)
    y = y - sa.case((m <= 2, 1), else_=0)
    era = _fdiv(y, 400)
    yoe = y - era * 400
    doy = _fdiv(153 * sa.case((m > 2, m - 3), else_=m + 9) + 2, 5) + d - 1
    doe = yoe * 365 + _fdiv(yoe, 4) - _fdiv(yoe, 100) + doy
    return era * 146097 + doe - 719468


def civil(ms: Expr, build: Callable[..., Expr]) -> Expr:
    """build(y, m, d, ms_of_day, days) from Unix milliseconds."""
    def from_days(days: Expr, ms_of_day: Expr) -> Expr:
        z = days + 719468
        era = _fdiv(z, 146097)
        doe = z - era * 146097
        yoe = _fdiv(doe - _fdiv(doe, 1460) + _fdiv(doe, 36524) - _fdiv(doe, 146096), 365)
        return let([yoe, era, doe], lambda yoe, era, doe: let(
            [yoe + era * 400, doe - (365 * yoe + _fdiv(yoe, 4) - _fdiv(yoe, 100))],
            lambda y, doy: let([_fdiv(5 * doy + 2, 153)], lambda mp: let(
                [doy - _fdiv(153 * mp + 2, 5) + 1, sa.case((mp < 10, mp + 3), else_=mp - 9)],
                lambda d, m: build(y + sa.case((m <= 2, 1), else_=0), m, d, ms_of_day, days),
            )),
        ))

    return let([_fdiv(ms, DAY)], lambda days: let([ms - days * DAY], lambda rest: from_days(days, rest)))


def _from_text(text: Expr) -> Expr:
    """Unix ms for 'YYYY-MM-DD[ HH:MM[:SS[.SSS]]][tz]', 'HH:MM...' (on 2000-01-01), 'now' or a Julian day."""
    def parsed(m: Expr) -> Expr:
        part = lambda i: m[i]
        num = lambda i, default="0": _int(sa.func.coalesce(sa.func.nullif(part(i), ""), default))
        year = sa.case((part(1) == "", 2000), else_=num(1))
        month, day = sa.case((part(2) == "", 1), else_=num(2)), sa.case((part(3) == "", 1), else_=num(3))
        hour, minute, second = num(4), num(5), num(6)
        frac = sa.cast(sa.func.coalesce(sa.func.nullif("0" + sa.func.coalesce(part(7), ""), "0"), "0"), sa.Numeric())
        tz = part(8)
        offset = sa.case(
            (sa.func.coalesce(tz, "") == "", 0), (sa.func.lower(tz) == "z", 0),
            else_=sa.case((sa.func.left(tz, 1) == "-", -1), else_=1)
            * (_int(sa.func.substr(tz, 2, 2)) * 60 + _int(sa.func.substr(tz, 5, 2))) * 60_000,
        )
        valid = sa.and_(month.between(1, 12), day.between(1, 31), hour.between(0, 24), minute.between(0, 59), second.between(0, 59))
        ms = (days_from_civil(year, month, day) * DAY + hour * 3_600_000 + minute * 60_000
              + _int(sa.func.round((second + frac) * 1000)) - offset)
        return sa.case((valid, ms), else_=sa.cast(sa.null(), BIG))

    return let([text], _parse_text(parsed))


def _parse_text(parsed: Callable[[Expr], Expr]) -> Callable[[Expr], Expr]:
    def parse(text: Expr) -> Expr:
        pattern = sa.func.coalesce(sa.func.regexp_match(text, _DATE), sa.func.regexp_match(text, _TIME), type_=_TEXT_ARRAY)
        return _classify(text, pattern, parsed)

    return parse


def _classify(text: Expr, pattern: Expr, parsed: Callable[[Expr], Expr]) -> Expr:
    return sa.case(
        (sa.func.lower(text) == "now", _now()),
        (text.op("~")(NUMERIC_TEXT), _from_julian(sa.cast(sa.case((text.op("~")(NUMERIC_TEXT), text), else_="0"), sa.Float(53)))),
        else_=let([pattern], lambda m: sa.case((m.is_(None), sa.cast(sa.null(), BIG)), else_=parsed(m))),
    )


def _now() -> Expr:
    return _int(sa.func.floor(sa.extract("epoch", sa.func.statement_timestamp()) * 1000))


def _from_julian(jd: Expr) -> Expr:
    valid = sa.and_(jd >= 0, jd < 5373484.5)
    return sa.case((valid, _int(sa.func.floor(jd * DAY + 0.5)) - JD_UNIX), else_=sa.cast(sa.null(), BIG))


def _from_unix(seconds: Expr) -> Expr:
    return _int(sa.func.floor(seconds * 1000 + 0.5))


# -- modifiers ---------------------------------------------------------------------------------------


def _modify(ms: Expr, modifier: str, first: bool, number: Expr | None) -> tuple[Expr, bool] | None:
    """(new ms, subsec) for one modifier; None for one that isn't supported (the result is NULL)."""
    text = modifier.strip().lower()
    if text in ("utc", "localtime", "julianday"):
        return ms, False  # the server's time zone is UTC
    if text in ("subsec", "subsecond"):
        return ms, True
    if text == "unixepoch":
        return (_from_unix(number), False) if first and number is not None else None
    if text == "start of day":
        return _fdiv(ms, DAY) * DAY, False
    if text in ("start of month", "start of year"):
        month_start = text == "start of month"
        return civil(ms, lambda y, m, d, rest, days: days_from_civil(y, m if month_start else 1, 1) * DAY), False
    weekday = re.fullmatch(r"weekday\s+(\d+(?:\.0*)?)", text)
    if weekday:
        n = int(float(weekday.group(1)))
        if n > 6:
            return None
        z = sa.func.mod(_fdiv(ms + JD_UNIX + 129_600_000, DAY), 7)
        return let([z], lambda z: ms + (n - sa.case((z > n, z - 7), else_=z)) * DAY), False
    step = _MODIFIER.match(text)
    if step is None:
        return None
    amount, unit = float(step.group(1)), step.group(2).lower()
    if unit in _UNITS:
        return ms + int(amount * _UNITS[unit] + (0.5 if amount >= 0 else -0.5)), False
    whole = int(amount)
    extra = (amount - whole) * (30 if unit == "month" else 365) * DAY
    def shift(y: Expr, m: Expr, d: Expr, rest: Expr, days: Expr) -> Expr:
        y2, m2 = (y, m + whole) if unit == "month" else (y + whole, m)
        return days_from_civil(y2, m2, d) * DAY + rest + int(extra + (0.5 if extra >= 0 else -0.5))
    return civil(ms, shift), False


# -- format --------------------------------------------------------------------------------------------


def _pad(value: Expr, width: int, fill: str = "0") -> Expr:
    """printf("%0<width>d"): padded, never cut (lpad would cut)."""
    text = sa.cast(value, sa.Text())
    return sa.case((sa.func.length(text) >= width, text), else_=sa.func.lpad(text, width, fill))


def _pieces(fmt: str) -> list[str] | None:
    """The format split into literal text and `%x` specifiers; None for a specifier SQLite refuses."""
    out: list[str] = []
    i = 0
    while i < len(fmt):
        ch = fmt[i]
        if ch != "%":
            out.append(ch)
            i += 1
            continue
        spec = fmt[i + 1 : i + 2]
        if spec not in _SPECS:
            return None
        out.append("%" + spec)
        i += 2
    return out


_SPECS = set("defFHIjkmMlpPRsSTuUwWYGgV%")


def _format(pieces: list[str], ms: Expr, subsec: bool) -> Expr:
    def build(y: Expr, m: Expr, d: Expr, rest: Expr, days: Expr) -> Expr:
        hour, minute = _fdiv(rest, 3_600_000), sa.func.mod(_fdiv(rest, 60_000), 60)
        second, milli = sa.func.mod(_fdiv(rest, 1000), 60), sa.func.mod(rest, 1000)
        yday = days - days_from_civil(y, 1, 1)
        monday0, sunday0 = sa.func.mod(days + 3 + 7 * 10**9, 7), sa.func.mod(days + 4 + 7 * 10**9, 7)
        hour12 = sa.case((sa.func.mod(hour, 12) == 0, 12), else_=sa.func.mod(hour, 12))
        seconds = _int(sa.func.trunc(sa.cast(ms, sa.Numeric()) / 1000))
        specs: dict[str, Expr] = {
            "%Y": sa.case((y < 0, sa.literal("-", sa.Text()).op("||")(_pad(-y, 3))), else_=_pad(y, 4)),
            "%m": _pad(m, 2), "%d": _pad(d, 2), "%e": _pad(d, 2, " "), "%H": _pad(hour, 2),
            "%k": _pad(hour, 2, " "), "%I": _pad(hour12, 2), "%l": _pad(hour12, 2, " "), "%M": _pad(minute, 2),
            "%S": _pad(second, 2), "%f": _pad(second, 2).op("||")(".").op("||")(_pad(milli, 3)),
            "%p": sa.case((hour < 12, "AM"), else_="PM"), "%P": sa.case((hour < 12, "am"), else_="pm"),
            "%j": _pad(yday + 1, 3), "%w": sa.cast(sunday0, sa.Text()), "%u": sa.cast(monday0 + 1, sa.Text()),
            "%W": _pad(_fdiv(yday + 7 - monday0, 7), 2), "%U": _pad(_fdiv(yday + 7 - sunday0, 7), 2),
            "%s": sa.cast(sa.cast(ms, sa.Numeric()) / 1000, sa.Text()) if subsec else sa.cast(seconds, sa.Text()),
            "%%": sa.literal("%", sa.Text()),
        }
        specs["%F"] = specs["%Y"].op("||")("-").op("||")(specs["%m"]).op("||")("-").op("||")(specs["%d"])
        specs["%T"] = specs["%H"].op("||")(":").op("||")(specs["%M"]).op("||")(":").op("||")(specs["%S"])
        specs["%R"] = specs["%H"].op("||")(":").op("||")(specs["%M"])
        thursday = days - monday0 + 3
        iso = civil(thursday * DAY, lambda iy, *_: iy)
        specs["%G"] = _pad(iso, 4)
        specs["%g"] = _pad(sa.func.mod(iso, 100), 2)
        specs["%V"] = _pad(_fdiv(thursday - days_from_civil(iso, 1, 1), 7) + 1, 2)
        parts = [specs[p] if p.startswith("%") else sa.literal(p, sa.Text()) for p in pieces]
        text = sa.func.concat(*parts) if parts else sa.literal("", sa.Text())
        return text

    return civil(ms, build)


# -- entry point -------------------------------------------------------------------------------------------


def strftime(dialect: Any, fmt: Value, time: Value | None, modifiers: list[Value]) -> Expr:
    """strftime(fmt, time, modifiers...) as SQLite computes it."""
    texts = [fmt.lit, *(m.lit for m in modifiers)]
    if not all(isinstance(t, str) for t in texts):
        return NULL_TEXT  # a NULL (or non-text) format or modifier: SQLite gives NULL
    pieces = _pieces(texts[0])
    if pieces is None:
        return NULL_TEXT
    if time is None:
        ms, number = _now(), None
    else:
        ms, number = _time_value(dialect, time)
    subsec = False
    for i, modifier in enumerate(texts[1:]):
        step = _modify(ms, modifier, i == 0, number)
        if step is None:
            return NULL_TEXT
        ms, flag = step
        subsec = subsec or flag
    valid = lambda ms: sa.and_(ms >= -JD_UNIX, ms <= MAX_JD - JD_UNIX)
    return let([ms], lambda ms: sa.case((valid(ms), _format(pieces, ms, subsec)), else_=NULL_TEXT))


def _time_value(dialect: Any, time: Value, bound: bool = False) -> tuple[Expr, Expr | None]:
    """(Unix ms, the number when the time value is numeric) for a time value of any kind."""
    parts = dialect.parts(time)
    if parts.cls == 0:
        return sa.cast(sa.null(), BIG), None
    if parts.cls == 1:
        return _from_julian(parts.num), parts.num
    if parts.cls == 2:
        return _from_text(parts.txt), _numeric_text(parts.txt)
    if time.kind == "json" and not time.is_literal and not bound:
        return tuple(dialect._bound([time], lambda t, i=i: _time_value(dialect, t, bound=True)[i]) for i in (0, 1))
    ms = sa.case((parts.klass == 1, _from_julian(parts.num)), (parts.klass == 2, _from_text(parts.txt)), else_=sa.cast(sa.null(), BIG))
    number = sa.case((parts.klass == 1, parts.num), (parts.klass == 2, _numeric_text(parts.txt)), else_=sa.cast(sa.null(), sa.Float(53)))
    return ms, number


def _numeric_text(text: Expr) -> Expr:
    """The number a time value written as text stands for (SQLite reads "2460000.5" as a number)."""
    return sa.case((text.op("~")(NUMERIC_TEXT), sa.cast(sa.case((text.op("~")(NUMERIC_TEXT), text), else_="0"), sa.Float(53))),
                   else_=sa.cast(sa.null(), sa.Float(53)))
