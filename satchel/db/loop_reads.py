"""PostgreSQL point reads right on the event loop, over a few async connections of their own.

A download asks for one row by its key. Sent through the thread pool, the thread hop, the pool's
checkout ping and SQLAlchemy's execution cost several times the query itself; here it is one
round trip on an async psycopg connection, with the SQL compiled once by the caller.

The connections belong to the loop that opened them (a new loop, as tests make, opens its own)
and count in the process's connection budget (README: Configuration).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

from ..errors import ApiError

CONNECT_TIMEOUT = 10.0  # seconds


def busy() -> ApiError:
    """No connection was free in time: PocketBase's error shape, a status a client may retry."""
    return ApiError(503, "The database is busy, please try again later.")


class LoopReads:
    def __init__(self, connect_kwargs: Callable[[], dict[str, Any]], size: int, timeout: float) -> None:
        self._connect_kwargs = connect_kwargs
        self.size, self.timeout = size, timeout
        self._loop: asyncio.AbstractEventLoop | None = None
        self._idle: asyncio.Queue[Any] = asyncio.Queue()
        self._open = 0

    async def one(self, sql: str, params: dict[str, Any]) -> dict[str, Any] | None:
        """The first row of `sql` as a dict; a connection found broken is replaced once."""
        import psycopg

        for attempt in (1, 2):
            conn = await self._acquire()
            try:
                row = await (await conn.execute(sql, params)).fetchone()
            except psycopg.OperationalError:
                await self._discard(conn)  # e.g. the server restarted since it was opened
                if attempt == 2:
                    raise
                continue
            except BaseException:
                await self._discard(conn)  # cancelled or failed mid-query: its state is unknown
                raise
            self._idle.put_nowait(conn)
            return row
        raise AssertionError("unreachable")

    async def _acquire(self) -> Any:
        self._bind()
        if not self._idle.empty():
            return self._idle.get_nowait()  # the common case, without wait_for's task
        if self._open < self.size:
            self._open += 1
            try:
                return await asyncio.wait_for(self._connect(), CONNECT_TIMEOUT)
            except BaseException:
                self._open -= 1
                raise
        try:
            return await asyncio.wait_for(self._idle.get(), self.timeout)
        except TimeoutError:
            raise busy() from None

    async def _connect(self) -> Any:
        import psycopg
        from psycopg.rows import dict_row

        return await psycopg.AsyncConnection.connect(**self._connect_kwargs(), autocommit=True, row_factory=dict_row)

    def _bind(self) -> None:
        """Start afresh on a new event loop: the old loop's connections can't serve this one."""
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            self.drop()
            self._loop, self._idle, self._open = loop, asyncio.Queue(), 0

    async def _discard(self, conn: Any) -> None:
        self._open -= 1
        with contextlib.suppress(Exception):
            await conn.close()

    def drop(self) -> None:
        """Close the idle connections; synchronous, so it works whether or not their loop still runs."""
        while not self._idle.empty():
            self._open -= 1
            self._idle.get_nowait().pgconn.finish()
