"""Cron expressions as PocketBase's `tools/cron` reads them, with its error messages.

A schedule is a macro (`@daily`, ...) or exactly five fields split on single spaces: minute,
hour, day of month, month, day of week (0 = Sunday). Each field is a comma list of `*`, `n`,
`a-b`, `*/s` or `a-b/s`. A minute is due when every field names it: day of month and day of
week both have to match, not either one as in classic cron.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ..strconv import go_quote

MACROS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
BOUNDS = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 6))
_INT64 = 1 << 63
_UINT64 = 1 << 64


class InvalidCron(ValueError):
    """An expression PocketBase's cron refuses; the message is the reference's own."""


@dataclass(frozen=True)
class Schedule:
    expression: str  # as PocketBase lists it: a macro is shown as the fields it stands for
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]

    def is_due(self, minute: dt.datetime) -> bool:
        return (
            minute.minute in self.minutes and minute.hour in self.hours and minute.day in self.days
            and minute.isoweekday() % 7 in self.weekdays and minute.month in self.months
        )


def parse(expression: str) -> Schedule:
    """The schedule `expression` names, or InvalidCron."""
    expression = MACROS.get(expression, expression)
    fields = expression.split(" ")
    if len(fields) != 5:
        raise InvalidCron("invalid cron expression - must be a valid macro or to have exactly 5 space separated segments")
    slots = [_field(text, low, high) for text, (low, high) in zip(fields, BOUNDS, strict=True)]
    return Schedule(expression, *slots)


def _atoi(text: str) -> int:
    """Go's strconv.Atoi: an optional sign, then ASCII digits, read left to right within int64."""
    digits = text[1:] if text[:1] in ("+", "-") else text
    if not digits:
        raise InvalidCron(f"strconv.Atoi: parsing {go_quote(text)}: invalid syntax")
    value = 0
    for ch in digits:
        if not "0" <= ch <= "9":
            raise InvalidCron(f"strconv.Atoi: parsing {go_quote(text)}: invalid syntax")
        value = value * 10 + ord(ch) - 48
        if value >= _UINT64:  # Go stops at the overflow, before any bad character after it
            break
    signed = -value if text[0] == "-" else value
    if not -_INT64 <= signed < _INT64:
        raise InvalidCron(f"strconv.Atoi: parsing {go_quote(text)}: value out of range")
    return signed


def _field(text: str, low: int, high: int) -> frozenset[int]:
    slots: set[int] = set()
    for part in text.split(","):
        first, *steps = part.split("/")
        step = 1
        if len(steps) > 1:
            raise InvalidCron("invalid segment step format - must be in the format */n or 1-30/n")
        if steps:
            step = _atoi(steps[0])
            if not 1 <= step <= high:
                raise InvalidCron(f"invalid segment step boundary - the step must be between 1 and the {high}")
        start, end = _range(first, low, high, step)
        slots.update(range(start, end + 1, step))
    return frozenset(slots)


def _range(text: str, low: int, high: int, step: int) -> tuple[int, int]:
    """The first and last value of one list item's range (`*`, `n` or `a-b`)."""
    if text == "*":
        return low, high
    ends = text.split("-")
    if len(ends) == 1:
        if step != 1:
            raise InvalidCron("invalid segment step - step > 1 could be used only with the wildcard or range format")
        value = _atoi(ends[0])
        if not low <= value <= high:
            raise InvalidCron("invalid segment value - must be between the min and max of the segment")
        return value, value
    if len(ends) != 2:
        raise InvalidCron("invalid segment range format - the range must have 1 or 2 parts")
    start = _atoi(ends[0])
    if not low <= start <= high:
        raise InvalidCron(f"invalid segment range minimum - must be between {low} and {high}")
    end = _atoi(ends[1])
    if not start <= end <= high:
        raise InvalidCron(f"invalid segment range maximum - must be between {start} and {high}")
    return start, end
