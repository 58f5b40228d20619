"""Realtime, Satchel against PocketBase: memory per idle subscriber and event delivery latency.

`python -m bench.realtime [--clients 1000] [--events 30]` starts both servers as `bench.procs`
does, opens N SSE clients on each (asyncio sockets, one process), subscribes every one to
`notes/*`, and then:

- memory: the server's RSS (whole process tree) with N idle subscribers minus before, over N;
- latency: records are created one at a time; for each, the time from just before the create
  request to the event's arrival at every subscriber (an upper bound of commit-to-delivery,
  the create request's own handling included), p50 and p99 over all (event, subscriber) pairs.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import sys
import tempfile
import time

import httpx

from .procs import Server, steady_rss

CLIENT_ID = re.compile(rb'"clientId":"([A-Za-z0-9]+)"')
TITLE = re.compile(rb'"title":"ev-(\d+)"')


class Subscriber:
    """One raw SSE connection that notes when each `ev-N` record event arrives."""

    def __init__(self) -> None:
        self.client_id = ""
        self.arrivals: dict[int, float] = {}
        self.got = asyncio.Event()

    async def open(self, port: int) -> None:
        self.reader, self.writer = await asyncio.open_connection("127.0.0.1", port)
        self.writer.write(b"GET /api/realtime HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n")
        await self.writer.drain()
        buffer = b""
        while not (found := CLIENT_ID.search(buffer)):
            chunk = await self.reader.read(65536)
            if not chunk:
                raise RuntimeError("stream closed before PB_CONNECT")
            buffer += chunk
        self.client_id = found.group(1).decode()
        self.task = asyncio.get_running_loop().create_task(self._read())

    async def _read(self) -> None:
        tail = b""
        while chunk := await self.reader.read(65536):
            now = time.perf_counter()
            data = tail + chunk
            for match in TITLE.finditer(data):
                self.arrivals.setdefault(int(match.group(1)), now)
            tail = data[-64:]
            self.got.set()

    def close(self) -> None:
        self.task.cancel()
        self.writer.close()


async def measure(server: Server, clients: int, events: int) -> dict[str, float]:
    headers = {"Authorization": server.token}
    async with httpx.AsyncClient(base_url=server.url, timeout=60) as http:
        r = await http.post("/api/collections", headers=headers, json={
            "name": "notes", "type": "base", "listRule": "", "viewRule": "", "fields": [{"name": "title", "type": "text"}],
        })
        r.raise_for_status()
        before = steady_rss(server)
        subs = [Subscriber() for _ in range(clients)]
        gate = asyncio.Semaphore(50)

        async def connect(sub: Subscriber) -> None:
            async with gate:
                await sub.open(server.port)
                answer = await http.post("/api/realtime", json={"clientId": sub.client_id, "subscriptions": ["notes/*"]})
                answer.raise_for_status()

        started = time.perf_counter()
        await asyncio.gather(*(connect(s) for s in subs))
        print(f"  {clients} clients connected and subscribed in {time.perf_counter() - started:.1f} s", flush=True)
        await asyncio.sleep(1)
        idle = await asyncio.to_thread(steady_rss, server)
        latencies: list[float] = []
        for n in range(events):
            for sub in subs:
                sub.got.clear()
            sent = time.perf_counter()
            (await http.post("/api/collections/notes/records", headers=headers, json={"title": f"ev-{n}"})).raise_for_status()
            deadline = time.perf_counter() + 30
            while any(n not in s.arrivals for s in subs) and time.perf_counter() < deadline:
                await asyncio.sleep(0.001)
            missing = sum(n not in s.arrivals for s in subs)
            if missing:
                raise RuntimeError(f"{server.name}: event {n} missed {missing} subscribers")
            latencies += [s.arrivals[n] - sent for s in subs]
        for sub in subs:
            sub.close()
    latencies.sort()
    return {
        "idle_rss_per_subscriber_kib": (idle - before) / clients / 1024,
        "p50_ms": latencies[len(latencies) // 2] * 1000,
        "p99_ms": latencies[int(len(latencies) * 0.99)] * 1000,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.realtime", description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--events", type=int, default=30)
    parser.add_argument("--only", choices=["pocketbase", "satchel"], help="measure one server alone")
    args = parser.parse_args(argv)
    venv = os.path.dirname(sys.executable)
    root = tempfile.mkdtemp(prefix="bench-rt-")
    servers = [
        Server("pocketbase", [os.path.join(venv, "pocketbase")], os.path.join(root, "pb")),
        Server("satchel", [os.path.join(venv, "satchel")], os.path.join(root, "sb")),
    ]
    servers = [s for s in servers if args.only in (None, s.name)]
    results = {}
    for server in servers:
        print(f"measuring {server.name} ...", flush=True)
        server.prepare()
        server.start()
        try:
            results[server.name] = asyncio.run(measure(server, args.clients, args.events))
        finally:
            server.stop()
    print(f"{args.clients} subscribers of one collection, {args.events} events")
    print(f"{'figure':32} {'pocketbase':>12} {'satchel':>12} {'ratio':>8}")
    nan = float("nan")
    for key in next(iter(results.values())):
        pb, sb = results.get("pocketbase", {}).get(key, nan), results.get("satchel", {}).get(key, nan)
        print(f"{key:32} {pb:12.2f} {sb:12.2f} {sb / pb if pb else nan:8.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
