"""Cluster locks (db/locks.py): one holder at a time, across processes, and free again when a holder dies."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import anyio
import pytest
from conftest import open_database

from satchel.db.engine import Database


@pytest.fixture
def database(tmp_path: Path, db_url: str):
    db = open_database(db_url or f"sqlite:///{tmp_path / 'data.db'}")
    yield db
    db.dispose()


def test_a_held_key_waits_and_a_free_key_does_not(database: Database) -> None:
    async def main() -> list[bool]:
        seen = []
        async with database.locks.hold("thumb-a", 1) as first:
            seen.append(first)
            async with database.locks.hold("thumb-a", 0.2) as second:  # held by the first: gives up
                seen.append(second)
        async with database.locks.hold("thumb-a", 0.2) as third:  # released: taken at once
            seen.append(third)
        return seen

    assert anyio.run(main) == [True, False, True]


def _holder(database: Database, key: str) -> subprocess.Popen:
    """Another process that takes the lock on `key`, says so, and then blocks."""
    url = database.url
    code = textwrap.dedent(f"""
        import anyio, sys
        from satchel.db.engine import Database, Pool
        async def main():
            async with Database({url!r}, Pool(1, 0, 10, 1)).locks.hold({key!r}, 10) as held:
                print("held" if held else "not held", flush=True)
                await anyio.sleep(3600)
        anyio.run(main)
    """)
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    return proc


def test_a_lock_held_by_another_process_is_free_once_that_process_dies(database: Database) -> None:
    holder = _holder(database, "thumb-b")

    async def try_once() -> bool:
        async with database.locks.hold("thumb-b", 0.2) as held:
            return held

    try:
        assert anyio.run(try_once) is False
    finally:
        holder.kill()
        holder.wait()
    # Its connection or its file descriptor went with it, and the lock with them.
    assert anyio.run(try_once) is True
