"""Where request logs live, and how they are written, read and pruned.

Logs must never slow the main database. On SQLite they go to their own file,
`auxiliary.db` beside `data.db`, as in PocketBase: its writers never queue behind record
writes for the one SQLite write lock. On PostgreSQL they go to a `_logs` table in the same
database, through an engine and write lock of their own, written in batches by a
background task (`core.request_log`): PostgreSQL takes concurrent writers, so a separate
database would only add a second URL to run and back up.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import os
from typing import Any

import anyio.to_thread
import orjson
import sqlalchemy as sa

from ..config import Config
from ..db import logs as table
from ..db.engine import Database, Pool
from ..files.names import RANDOM_ALPHABET
from ..logsetup import utc_second
from .rules.query import list_records, time_limit
from .rules.simple_fields import SimpleFields

log = logging.getLogger("satchel.logs")

AUX_FILE = "auxiliary.db"
DEFAULT_MAX_DATA_SIZE = 16 << 10  # bytes of `data` JSON kept when the `logs.maxDataSize` setting is 0
MAX_MESSAGE_BYTES = 8000
_ID_TABLE = bytes(ord(RANDOM_ALPHABET[b % len(RANDOM_ALPHABET)]) for b in range(256))
_ID_BIASED = bytes(range(256 - 256 % len(RANDOM_ALPHABET), 256))  # dropped: they would favour a-d
DATE_FORMAT = "%Y-%m-%d %H:%M:%S.%f"
#: PocketBase's slog levels
DEBUG, INFO, WARN, ERROR = -4, 0, 4, 8
#: what the Logs API's `filter` and `sort` may name, as in the reference
FIELDS = SimpleFields(
    "_logs", {"id": "text", "created": "autodate", "level": "number", "message": "text", "data": "json"}, [r"^data\.[\w.:]*\w+$"]
)


def log_date(moment: dt.datetime) -> str:
    """PocketBase's text date, `2026-12-07 12:00:00.123Z`."""
    return moment.astimezone(dt.UTC).strftime(DATE_FORMAT)[:-3] + "Z"


def epoch_log_date(created: float) -> str:
    """`log_date` of epoch seconds; the date and time are made once a second, not per entry."""
    second = math.floor(created)
    micros = round((created - second) * 1e6)  # rounded to the microsecond first, as datetime does
    if micros >= 1_000_000:
        second, micros = second + 1, micros - 1_000_000
    return f"{utc_second(second)}.{micros // 1000:03d}Z"


def new_entry(created: float, level: int, message: str, data: dict[str, Any], max_data_size: int = 0) -> dict[str, Any]:
    """A `_logs` row; `data` keys sorted, as Go writes a map, and both cut to size as the reference cuts them."""
    return {
        "id": _random_id(), "created": epoch_log_date(created), "level": level,
        "message": message.encode()[:MAX_MESSAGE_BYTES].decode(errors="ignore"),
        "data": _sized(data, max_data_size or DEFAULT_MAX_DATA_SIZE),
    }


def _random_id(length: int = 15) -> str:
    """PocketBase's default id shape, a-z0-9, from urandom bytes mapped through a table (a
    character at a time through `secrets.choice` costs more than the rest of an entry)."""
    out = b""
    while len(out) < length:
        out += os.urandom(length + 5).translate(_ID_TABLE, _ID_BIASED)
    return out[:length].decode()


def _sized(data: dict[str, Any], limit: int) -> str:
    """`data` as JSON; over `limit` bytes, the members that fit whole within the first `limit`
    bytes, the one cut after its key as null, and `"__pb_truncated__": true` (what the reference
    keeps of its cut JSON)."""
    raw = orjson.dumps(data, option=orjson.OPT_SORT_KEYS)
    if len(raw) <= limit:
        return raw.decode()
    kept: dict[str, Any] = {}
    used = 1  # the opening brace
    for key in sorted(data):
        start = used
        used += len(orjson.dumps({key: data[key]})) - 1  # the member and its comma (or the closing brace)
        if used > limit:
            if start + len(orjson.dumps(key)) + 1 < limit:
                kept[key] = None
            break
        kept[key] = data[key]
    kept["__pb_truncated__"] = True
    return orjson.dumps(kept, option=orjson.OPT_SORT_KEYS).decode()


def public(row: dict[str, Any]) -> dict[str, Any]:
    """A row as the Logs API shows it."""
    return {"id": row["id"], "created": row["created"], "data": orjson.loads(row["data"]), "message": row["message"], "level": int(row["level"])}


class Logs:
    """The logs store of one process."""

    def __init__(self, config: Config, main: Database) -> None:
        url = "sqlite:///" + os.path.join(os.path.abspath(config.data_dir), AUX_FILE) if main.is_sqlite else main.url
        # One connection for the batched writes and the Logs API (never used for point reads).
        self.db = Database(url, Pool(size=1, overflow=0, timeout=config.db_pool_timeout, loop_size=0))

    def init_sync(self) -> None:
        self.db.write_sync(table.create_logs_table)

    async def write(self, rows: list[dict[str, Any]]) -> None:
        await self.db.write(table.insert_logs, rows)

    async def delete_old(self, max_days: int, below_level: int | None = None) -> int:
        """Delete what is older than `max_days` days (and, if given, what is under `below_level`)."""
        before = log_date(dt.datetime.now(dt.UTC) - dt.timedelta(days=max_days))
        return await self.db.write(table.delete_logs, before, below_level)

    async def truncate(self) -> None:
        """Delete every entry; on SQLite also shrink the file, as the reference does (best effort)."""
        await self.db.write(table.delete_all_logs)
        if self.db.is_sqlite:
            try:
                await anyio.to_thread.run_sync(table.vacuum, self.db.engine)
            except sa.exc.SQLAlchemyError as exc:
                log.warning("could not VACUUM %s: %s", AUX_FILE, exc)

    async def page(self, where: Any, order: list[Any], limit: int, offset: int, with_total: bool) -> tuple[list[dict[str, Any]], int]:
        rows, total = await self.db.read(list_records, table.logs_table, where, order, limit, offset, with_total)
        return [public(row) for row in rows], total

    async def find(self, log_id: str) -> dict[str, Any] | None:
        row = await self.db.read(table.find_log, log_id)
        return public(row) if row else None

    async def stats(self, where: Any) -> list[dict[str, Any]]:
        """Entries per hour, as PocketBase's `/api/logs/stats` lists them."""

        def read(conn: Any) -> list[tuple[str, int]]:
            with time_limit(conn):
                return table.hourly_counts(conn, where)

        return [{"date": f"{hour}:00:00.000Z", "total": total} for hour, total in await self.db.read(read)]

    def dispose(self) -> None:
        self.db.dispose()


async def cleanup(sat: Any) -> None:
    """The `__pbLogsCleanup__` job: entries older than the `logs.maxDays` setting go."""
    await sat.logs.delete_old(sat.settings["logs"]["maxDays"])
