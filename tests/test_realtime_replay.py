"""PostgreSQL: a realtime listener that loses its connection misses nothing and gets nothing twice.

Events committed while it reconnects come from the log once it listens again, in id order,
before anything NOTIFY brings later; what both would bring is handed over once.
"""

from __future__ import annotations

import asyncio

import anyio.to_thread
import pytest

from satchel.db import realtime as log_db


async def _until(condition, seconds: float = 20.0) -> None:
    async with asyncio.timeout(seconds):
        while not condition():
            await asyncio.sleep(0.02)


def test_events_committed_while_the_listener_is_away_arrive_once_each_in_order(sat):
    if sat.db.is_sqlite:
        pytest.skip("SQLite readers read the log itself; the listener is PostgreSQL's")
    got: list[bytes] = []
    big = b'{"n":"big","pad":"' + b"x" * (log_db.NOTIFY_LIMIT + 100) + b'"}'
    sent = [f'{{"n":{i}}}'.encode() for i in range(4)] + [big] + [f'{{"n":{i}}}'.encode() for i in range(4, 12)]

    async def scenario() -> None:
        bus = sat.bus

        async def handle(payload: bytes) -> None:
            got.append(payload)

        def emit(payloads: list[bytes]) -> None:
            for payload in payloads:
                sat.db.write_sync(lambda conn, p=payload: bus.emit(conn, p))

        def cut_the_listener() -> int:
            with sat.db.engine.begin() as conn:
                channel = log_db.channel_name(conn)
                query = "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = %(c)s"
                return conn.exec_driver_sql(query, {"c": channel}).scalar_one()

        bus.handle = handle
        await bus.start()
        try:
            await anyio.to_thread.run_sync(emit, sent[:3])
            await _until(lambda: len(got) == 3)
            assert await anyio.to_thread.run_sync(cut_the_listener) == 1
            await anyio.to_thread.run_sync(emit, sent[3:8])  # the reader waits a second before it listens again
            await _until(lambda: len(got) >= 8)
            await anyio.to_thread.run_sync(emit, sent[8:])
            await _until(lambda: len(got) >= len(sent))
            await anyio.to_thread.run_sync(emit, [b'{"n":"last"}'])
            await _until(lambda: got[-1] == b'{"n":"last"}')
        finally:
            await bus.stop()

    asyncio.run(scenario())
    assert got == [*sent, b'{"n":"last"}']
