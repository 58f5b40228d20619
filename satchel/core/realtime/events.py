"""What writers publish on the bus: record changes, encoded once, read by every process's hub."""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy.engine import Connection

from .bus import Bus


def announce_record(bus: Bus, conn: Connection, action: str, collection_id: str, row: dict[str, Any]) -> None:
    """Publish a record change (its stored row) with the commit of `conn`'s transaction."""
    plain = {str(name): value for name, value in row.items()}  # column names may be str subclasses
    bus.emit(conn, orjson.dumps({"k": "r", "a": action, "c": collection_id, "r": plain}))
