"""Process-wide logging: one handler on stderr, readable lines or JSON lines, set up once.

Every process `satchel serve` starts calls `configure` first; granian is handed the same
configuration (`dict_config`), so its own messages come out in the same format instead of
its bare `[INFO] ...` lines on stdout.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import logging.config
import time
from typing import Any

import orjson

LEVELS = ("debug", "info", "warning", "error")
FORMATS = ("text", "json")
TEXT_FORMAT = "%(asctime)s.%(msecs)03d %(levelname)-7s %(name)s: %(message)s"
TEXT_DATE = "%Y-%m-%d %H:%M:%S"


class TextFormatter(logging.Formatter):
    """`2026-12-07 12:00:00.123 INFO    satchel.access: GET /api/health 200 ...`, in UTC."""

    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT, TEXT_DATE)
        self.converter = time.gmtime

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return utc_second(int(record.created))  # the access log writes thousands of lines a second


@functools.lru_cache(maxsize=4)
def utc_second(epoch_second: int) -> str:
    """`2026-12-07 12:00:00` (UTC) for epoch seconds, made once a second however many lines share it."""
    return time.strftime(TEXT_DATE, time.gmtime(epoch_second))


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, a traceback when there is one,
    and the record's `fields` (the access log passes its values there)."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        line.update(getattr(record, "fields", {}))
        if record.exc_info:
            line["traceback"] = self.formatException(record.exc_info)
        return orjson.dumps(line).decode()


def check(level: str, fmt: str) -> None:
    """Refuse a level or format we don't know, naming the setting (a typo must not go quiet)."""
    if level.lower() not in LEVELS:
        raise ValueError(f"SATCHEL_LOG_LEVEL={level!r} is not one of {', '.join(LEVELS)}")
    if fmt.lower() not in FORMATS:
        raise ValueError(f"SATCHEL_LOG_FORMAT={fmt!r} is not one of {', '.join(FORMATS)}")


def dict_config(level: str, fmt: str) -> dict[str, Any]:
    """The logging configuration: root at `level` on stderr; granian's loggers pass through it."""
    check(level, fmt)
    formatter = {"()": JsonFormatter if fmt.lower() == "json" else TextFormatter}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"satchel": formatter},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "satchel", "stream": "ext://sys.stderr"}},
        "root": {"level": level.upper(), "handlers": ["stderr"]},
        # granian sets its own loggers' levels and handlers; here they only forward to the root
        "loggers": {name: {"handlers": [], "propagate": True} for name in ("_granian", "granian.access")},
    }


def configure(level: str, fmt: str) -> dict[str, Any]:
    """Set up logging for this process; returns the configuration for granian to reapply."""
    config = dict_config(level, fmt)
    logging.config.dictConfig(config)
    return config
