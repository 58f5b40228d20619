"""Datetime macros (`@now`, `@todayStart`, ...): values taken when the filter is compiled, in UTC."""

from __future__ import annotations

import calendar
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from ..fields.date import format_datetime


def _end_of(day: datetime) -> datetime:
    return day.replace(hour=23, minute=59, second=59, microsecond=999999)


def _month_end(now: datetime) -> datetime:
    last = calendar.monthrange(now.year, now.month)[1]
    return _end_of(now.replace(day=last))


MACROS: dict[str, Callable[[datetime], Any]] = {
    "@now": lambda now: format_datetime(now),
    "@yesterday": lambda now: format_datetime(now - timedelta(days=1)),
    "@tomorrow": lambda now: format_datetime(now + timedelta(days=1)),
    "@second": lambda now: now.second,
    "@minute": lambda now: now.minute,
    "@hour": lambda now: now.hour,
    "@day": lambda now: now.day,
    "@month": lambda now: now.month,
    "@weekday": lambda now: (now.weekday() + 1) % 7,  # Go: Sunday is 0
    "@year": lambda now: now.year,
    "@todayStart": lambda now: format_datetime(now.replace(hour=0, minute=0, second=0, microsecond=0)),
    "@todayEnd": lambda now: format_datetime(_end_of(now)),
    "@monthStart": lambda now: format_datetime(now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)),
    "@monthEnd": lambda now: format_datetime(_month_end(now)),
    "@yearStart": lambda now: format_datetime(now.replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0)),
    "@yearEnd": lambda now: format_datetime(_end_of(now.replace(month=12, day=31))),
}


def macro_value(name: str, now: datetime | None = None) -> Any:
    """The macro's value now, or KeyError for a name that isn't a macro."""
    return MACROS[name](now or datetime.now(UTC))
