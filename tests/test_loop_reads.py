"""PostgreSQL point reads on the event loop: the same rows as the pooled path, a 503 when busy,
and a broken connection replaced without the caller noticing."""

from __future__ import annotations

import asyncio

import anyio
import pytest
import sqlalchemy as sa
from checks import ok

from satchel.db import store
from satchel.db.loop_reads import LoopReads
from satchel.errors import ApiError


@pytest.fixture
def pg(sat):
    if sat.db.is_sqlite:
        pytest.skip("SQLite reads on its inline connection")
    return sat


def test_a_point_read_on_the_loop_gives_the_pooled_read_s_row(pg, client, admin):
    ok(client.post("/api/collections", headers=admin, json={"name": "kinds", "listRule": "", "viewRule": "", "fields": [
        {"name": "t", "type": "text"}, {"name": "n", "type": "number"}, {"name": "b", "type": "bool"},
        {"name": "j", "type": "json"}, {"name": "d", "type": "date"},
    ]}))
    record = ok(client.post("/api/collections/kinds/records", headers=admin, json={"t": "x", "n": 1.5, "b": True, "j": {"a": [1]}}))
    table = pg.schema.table(pg.find_collection("kinds"))
    pooled = pg.db.read_sync(store.select_record, table, record["id"])

    async def on_loop():
        try:
            return await store.find_row(pg.db, table, record["id"]), await store.find_row(pg.db, table, "missing")
        finally:
            pg.db.loop_reads.drop()

    assert anyio.run(on_loop) == (pooled, None)
    assert client.get(f"/api/collections/kinds/records/{record['id']}").json() == record


def _reads(sat, size: int) -> LoopReads:
    return LoopReads(sat.db.connect_kwargs, size=size, timeout=0.2)


def test_with_every_loop_connection_busy_a_read_is_a_503(pg):
    reads = _reads(pg, 1)

    async def run() -> tuple[int, dict]:
        slow = asyncio.create_task(reads.one("SELECT pg_sleep(1) AS slept", {}))
        await asyncio.sleep(0)  # let it take the only connection
        with pytest.raises(ApiError) as busy:
            await reads.one("SELECT 1 AS one", {})
        await slow
        after = await reads.one("SELECT 1 AS one", {})
        reads.drop()
        return busy.value.status, after

    assert anyio.run(run) == (503, {"one": 1})


def test_a_connection_the_server_dropped_is_replaced(pg):
    reads = _reads(pg, 1)

    async def run() -> tuple[dict, dict]:
        pid = (await reads.one("SELECT pg_backend_pid() AS pid", {}))["pid"]
        pg.db.read_sync(lambda conn: conn.execute(sa.text("SELECT pg_terminate_backend(:p)"), {"p": pid}))
        again = await reads.one("SELECT pg_backend_pid() AS pid", {})
        reads.drop()
        return pid, again["pid"]

    before, after = anyio.run(run)
    assert before != after
