"""Throughput and latency from `wrk`, with every response checked (see check.lua)."""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import time
from dataclasses import asdict, dataclass

from .procs import Server, machine_busy_seconds, priority

LUA = os.path.join(os.path.dirname(__file__), "check.lua")


@dataclass
class WrkRun:
    server: str
    requests: int
    seconds: float
    rps: float
    mbps: float  # body megabytes (10^6) per second
    p50_ms: float
    p99_ms: float
    server_cpu_s: float
    cpu_per_request_ms: float
    wrk_cpu_s: float
    background_cpu_s: float  # machine CPU used by neither the server, wrk nor this script
    ok: bool
    problem: str

    def as_dict(self) -> dict:
        return asdict(self)


def wrk_version() -> str:
    out = subprocess.run(["wrk", "-v"], capture_output=True, text=True, timeout=10)
    return (out.stdout + out.stderr).split("Copyright")[0].strip()


def require_wrk() -> None:
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: `make bench` installs it (apt-get install wrk)")


def run_wrk(
    server: Server,
    path: str,
    *,
    connections: int,
    seconds: float,
    body_len: int,
    expect_file: str | None,
    threads: int = 1,
) -> WrkRun:
    """One bounded wrk run against `server`; `ok` is False when any response was wrong."""
    url = server.url + path
    env = {**os.environ, "BENCH_EXPECT_FILE": expect_file or ""}
    argv = [
        "wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds:g}s", "--timeout", "10s",
        "-s", LUA, url,
    ]
    cpu0, busy0, self0 = server.cpu(), machine_busy_seconds(), time.process_time()
    kids0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=seconds + 30,
                         preexec_fn=priority(server.nice))
    kids1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu1, busy1, self1 = server.cpu(), machine_busy_seconds(), time.process_time()
    line = next((text for text in out.stdout.splitlines() if text.startswith("BENCH_JSON ")), None)
    if out.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({out.returncode}): {out.stdout[-2000:]} {out.stderr[-2000:]}")
    r = json.loads(line[len("BENCH_JSON "):])
    secs = r["duration_us"] / 1e6
    n = r["requests"]
    wrk_cpu = (kids1.ru_utime + kids1.ru_stime) - (kids0.ru_utime + kids0.ru_stime)
    server_cpu = cpu1 - cpu0
    background = (busy1 - busy0) - server_cpu - wrk_cpu - (self1 - self0)
    problem = _problem(r, connections, body_len)
    return WrkRun(
        server=server.name, requests=n, seconds=secs,
        rps=n / secs if secs else 0.0, mbps=n * body_len / secs / 1e6 if secs else 0.0,
        p50_ms=r["latency_us"]["p50"] / 1000, p99_ms=r["latency_us"]["p99"] / 1000,
        server_cpu_s=server_cpu, cpu_per_request_ms=server_cpu / n * 1000 if n else 0.0, wrk_cpu_s=wrk_cpu,
        background_cpu_s=max(0.0, background), ok=not problem, problem=problem,
    )


def _problem(r: dict, connections: int, body_len: int) -> str:
    """Why this run cannot count, or "" when every response checked out."""
    n = r["requests"]
    if n == 0:
        return "no request completed"
    errors = {k: v for k, v in r["errors"].items() if v}
    if errors:
        return f"wrk errors {errors}"
    if r["checked"]:
        if r["bad"] or r["good"] != n:
            return f"{r['bad']} of {n} responses wrong (first bad status {r['first_bad_status']})"
        return ""
    # Unbuffered: every completed response must have carried the whole body, and not much more.
    if r["bytes"] < n * body_len:
        return f"read {r['bytes']} bytes for {n} responses of {body_len}"
    if r["bytes"] > (n + connections) * (body_len + 4096):
        return f"read {r['bytes']} bytes, more than {n} responses of {body_len} can hold"
    return ""
