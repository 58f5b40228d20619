"""Realtime, Satchel against PocketBase: memory per idle subscriber and event delivery latency.

`python -m bench.realtime [--clients 1000] [--events 30]` starts both servers as `bench.procs`
does, opens N SSE clients on each (raw sockets, one process), subscribes every one to `notes/*`,
and then:

- memory: the server's RSS (whole process tree) with N idle subscribers minus before, over N;
- latency: records are created one at a time, after WARMUP unmeasured ones (the first event
  after start-up costs either server extra); for each, the time from just before the create
  request to the event's arrival at every subscriber's socket (an upper bound of
  commit-to-delivery, the create request's own handling included), p50 and p99 over all
  (event, subscriber) pairs.

The arrival time is the kernel's receive timestamp of the bytes (SO_TIMESTAMPNS), and the client
only reads once every subscriber has its event: a client reading N sockets as the bytes come
costs CPU on the cores the server delivers with, and notes the time it got round to each socket
rather than when the server had written to it.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import select
import socket
import struct
import sys
import tempfile
import time

import httpx

from .procs import Server, steady_rss

CLIENT_ID = re.compile(rb'"clientId":"([A-Za-z0-9]+)"')
TITLE = re.compile(rb'"title":"ev-(-?\d+)"')
SO_TIMESTAMPNS = 35  # <asm-generic/socket.h>; also its SCM_ type. Python's socket module lacks it
TIMESPEC = struct.Struct("qq")
POLL_GAP = 0.002  # seconds between two looks at which sockets got their event
WARMUP = 1  # events sent and awaited before the measured ones: a fresh process's first is slower


class Subscriber:
    """One raw SSE connection, owned here (not by a transport) so that it can be read with recvmsg."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setblocking(False)
        self.sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        self.client_id = ""
        self.tail = b""

    async def open(self, port: int) -> None:
        loop = asyncio.get_running_loop()
        await loop.sock_connect(self.sock, ("127.0.0.1", port))
        await loop.sock_sendall(self.sock, b"GET /api/realtime HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n")
        buffer = b""
        while not (found := CLIENT_ID.search(buffer)):
            chunk = await loop.sock_recv(self.sock, 65536)
            if not chunk:
                raise RuntimeError("stream closed before PB_CONNECT")
            buffer += chunk
        self.client_id = found.group(1).decode()

    def arrival(self, event: int) -> float | None:
        """Read what is waiting; the wall-clock time the kernel received `event`'s bytes, if they came."""
        found = None
        while True:
            try:
                data, ancillary, _, _ = self.sock.recvmsg(65536, socket.CMSG_SPACE(TIMESPEC.size))
            except BlockingIOError:
                return found
            if not data:
                raise RuntimeError("stream closed")
            stamp = next((TIMESPEC.unpack(raw[: TIMESPEC.size]) for level, kind, raw in ancillary
                          if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS), None)
            text = self.tail + data
            self.tail = text[-64:]
            if found is None and any(int(m.group(1)) == event for m in TITLE.finditer(text)):
                found = stamp[0] + stamp[1] / 1e9 if stamp else time.time()


def wait_for_event(subs: list[Subscriber], event: int, deadline: float) -> list[float]:
    """Arrival times of `event` at every subscriber. Sockets are only polled (one-shot) until all
    have something; then they are read, and those whose bytes were something else wait again."""
    poller = select.epoll()
    by_fd = {s.sock.fileno(): s for s in subs}
    for fd in by_fd:
        poller.register(fd, select.EPOLLIN | select.EPOLLONESHOT)
    waiting, ready, arrivals = set(by_fd), [], {}
    try:
        while waiting and time.time() < deadline:
            time.sleep(POLL_GAP)
            for fd, _ in poller.poll(0, len(by_fd)):
                ready.append(fd)
            if len(ready) < len(waiting) and time.time() < deadline:
                continue
            for fd in ready:
                stamp = by_fd[fd].arrival(event)
                if stamp is None:
                    poller.modify(fd, select.EPOLLIN | select.EPOLLONESHOT)
                else:
                    arrivals[fd] = stamp
                    waiting.discard(fd)
            ready = []
    finally:
        poller.close()
    if waiting:
        raise RuntimeError(f"event {event} missed {len(waiting)} subscribers")
    return list(arrivals.values())


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
        connect_s = time.perf_counter() - started
        print(f"  {clients} clients connected and subscribed in {connect_s:.1f} s", flush=True)
        await asyncio.sleep(1)
        idle = await asyncio.to_thread(steady_rss, server)
        latencies: list[float] = []
        for n in range(-WARMUP, events):
            sent = time.time()
            (await http.post("/api/collections/notes/records", headers=headers, json={"title": f"ev-{n}"})).raise_for_status()
            arrivals = await asyncio.to_thread(wait_for_event, subs, n, sent + 30)
            if n >= 0:
                latencies += [at - sent for at in arrivals]
    for sub in subs:
        sub.sock.close()
    latencies.sort()
    return {
        "idle_rss_per_subscriber_kib": (idle - before) / clients / 1024,
        "connect_s": connect_s,
        "p50_ms": latencies[len(latencies) // 2] * 1000,
        "p99_ms": latencies[int(len(latencies) * 0.99)] * 1000,
        "max_ms": latencies[-1] * 1000,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.realtime", description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--events", type=int, default=30)
    parser.add_argument("--only", choices=["pocketbase", "satchel"], help="measure one server alone")
    parser.add_argument("--satchel", help="the satchel executable to measure (default: this venv's), for A/B runs")
    parser.add_argument("--satchel-args", default="", help="extra `satchel serve` flags, e.g. '--workers 2'")
    args = parser.parse_args(argv)
    venv = os.path.dirname(sys.executable)
    root = tempfile.mkdtemp(prefix="bench-rt-")
    servers = [
        Server("pocketbase", [os.path.join(venv, "pocketbase")], os.path.join(root, "pb")),
        Server("satchel", [args.satchel or os.path.join(venv, "satchel")], os.path.join(root, "sb"), serve_args=args.satchel_args.split()),
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
