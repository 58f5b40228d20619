"""The serving processes: one at rest, up to one per core while busy.

Idle memory is what a small deployment pays all day, and one Python process is most of it (the
interpreter, granian and the app), while more processes only pay off when requests queue up for
the interpreter lock. So the first process (the primary) serves on its own, with granian embedded
in its event loop, and starts a helper process when that loop stays busy. Helpers bind the same
port (granian sets SO_REUSEPORT, so the kernel spreads new connections over them); one that has
had nothing to do for a while exits. With a fixed worker count the helpers start at once and stay.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import time
from collections.abc import Callable, Coroutine
from typing import Any, NoReturn

TICK = 0.5  # seconds between looks at the load
BUSY = 0.3  # share of a core the primary's loop uses, two ticks running, that calls for a helper
SPAWN_GAP = 3.0  # seconds between two helper starts: a new helper needs about a second to serve
IDLE = 0.02  # a helper whose loop stays under this share ...
IDLE_EXIT = 30.0  # ... for this many seconds exits
STOP_WAIT = 10.0  # seconds helpers get to finish their requests on shutdown
CONCURRENCY = 20_000  # requests a process serves at once: each realtime stream holds one for its whole life

Watch = Callable[[Callable[[], None]], Coroutine[Any, Any, None]]


def serve(host: str, port: int, watch: Watch, log_config: dict[str, Any]) -> NoReturn:
    """Serve the app in this process until a signal, or until `watch` calls the stop it is given.

    `log_config` is the process's logging configuration (`logsetup`), which granian reapplies.

    Then the process ends at once, as granian's own worker processes do: its I/O threads may
    still be winding down, and finalizing the interpreter under them now and then aborts it.
    """
    asyncio.run(_serve(host, port, watch, log_config))
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


async def _serve(host: str, port: int, watch: Watch, log_config: dict[str, Any]) -> None:
    from granian.constants import HTTPModes, Interfaces
    from granian.log import LogLevels
    from granian.server.embed import Server

    from .app import create_app
    from .core.realtime.hub import end_all_streams

    # PocketBase speaks plain HTTP/1.1 and has no websockets, so neither is set up here.
    server = Server(
        create_app, factory=True, address=host, port=port, interface=Interfaces.ASGI,
        backlog=1024, backpressure=CONCURRENCY, http=HTTPModes.http1, websockets=False,
        log_dictconfig=log_config, log_level=LogLevels(log_config["root"]["level"].lower()),
    )
    loop = asyncio.get_running_loop()

    def stop() -> None:
        end_all_streams()  # granian waits for open responses, and an SSE stream never ends by itself
        server.stop()

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop)
    watcher = loop.create_task(watch(stop))
    try:
        await server.serve()
    finally:
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watcher


class LoadMeter:
    """The share of one core the calling thread used since the last reading.

    Read on the event loop it measures the app's Python work, the part that queues on the
    interpreter lock; granian's I/O threads and thumbs made in worker threads do not count.
    """

    def __init__(self, cpu: Callable[[], float] = time.thread_time, wall: Callable[[], float] = time.monotonic) -> None:
        self._clocks = cpu, wall
        self._cpu, self._wall = cpu(), wall()

    def read(self) -> float:
        cpu, wall = (clock() for clock in self._clocks)
        share = (cpu - self._cpu) / max(wall - self._wall, 1e-6)
        self._cpu, self._wall = cpu, wall
        return share


class Helpers:
    """The primary's helper processes, each started with `command`: at most `limit` of them,
    or exactly `limit` when `fixed`. They live as long as `watch` runs."""

    def __init__(self, command: list[str], limit: int, fixed: bool) -> None:
        self.command, self.limit, self.fixed = command, limit, fixed
        self.procs: list[asyncio.subprocess.Process] = []

    async def watch(self, _stop: Callable[[], None]) -> None:
        """Keep the fixed count, or add a helper while the primary's loop stays busy."""
        meter, streak, started = LoadMeter(), 0, float("-inf")
        try:
            while True:
                self.procs = [p for p in self.procs if p.returncode is None]
                wanted = self.fixed or (streak >= 2 and time.monotonic() - started > SPAWN_GAP)
                if wanted and len(self.procs) < self.limit:
                    self.procs.append(await asyncio.create_subprocess_exec(*self.command, stdin=asyncio.subprocess.DEVNULL))
                    started = time.monotonic()
                    continue
                await asyncio.sleep(TICK)
                streak = streak + 1 if meter.read() >= BUSY else 0
        finally:
            await self._stop_all()

    async def _stop_all(self) -> None:
        for proc in self.procs:
            if proc.returncode is None:
                proc.terminate()
        try:
            await asyncio.wait_for(asyncio.gather(*(p.wait() for p in self.procs)), STOP_WAIT)
        except TimeoutError:
            for proc in self.procs:
                if proc.returncode is None:
                    proc.kill()
                    await proc.wait()


def helper_watch(parent: int, fixed: bool) -> Watch:
    """A helper stops when its primary (`parent`) is gone or, unless `fixed`, after IDLE_EXIT idle
    seconds without a realtime stream open."""
    from .core.realtime.hub import open_streams

    async def watch(stop: Callable[[], None]) -> None:
        meter, idle_since = LoadMeter(), time.monotonic()
        while True:
            await asyncio.sleep(TICK)  # first: granian misses a stop asked for before its worker runs
            if os.getppid() != parent:
                break
            if meter.read() >= IDLE or open_streams():  # leaving would drop its realtime clients
                idle_since = time.monotonic()
            elif not fixed and time.monotonic() - idle_since > IDLE_EXIT:
                break
        stop()

    return watch
