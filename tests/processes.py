"""A pytest plugin: real `satchel serve` processes, started on free loopback ports and always stopped."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

SATCHEL = str(Path(sys.executable).parent / "satchel")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def listening_sockets(port: int) -> int:
    """How many sockets listen on this TCP port (each serving process binds its own, SO_REUSEPORT)."""
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as f:
            for line in f.readlines()[1:]:
                local, state = line.split()[1], line.split()[3]
                count += state == "0A" and int(local.rsplit(":", 1)[1], 16) == port
    return count


def wait_healthy(url: str, proc: subprocess.Popen, log_path: Path, seconds: float = 60) -> None:
    """Poll /api/health until it answers; fail with the server's output if it exits or never does."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"satchel exited with {proc.returncode}: {log_path.read_text()}")
        try:
            if httpx.get(f"{url}/api/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    pytest.fail(f"satchel did not answer within {seconds} s: {log_path.read_text()}")


def stop(proc: subprocess.Popen) -> None:
    """SIGTERM the whole process group (helpers too), SIGKILL whatever is left after 20 s."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


@pytest.fixture
def satchel_server(tmp_path: Path) -> Iterator[Callable[..., str]]:
    """satchel_server(*flags, env=None) starts `satchel serve` and returns its URL; all stop at teardown."""
    started: list[subprocess.Popen] = []

    def start(*flags: str, env: dict[str, str] | None = None) -> str:
        port = free_port()
        log_path = tmp_path / f"satchel-{port}.log"
        with open(log_path, "w") as log:
            proc = subprocess.Popen(
                [SATCHEL, "serve", "--http", f"127.0.0.1:{port}", *flags],
                env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )
        started.append(proc)
        url = f"http://127.0.0.1:{port}"
        wait_healthy(url, proc, log_path)
        return url

    yield start
    for proc in started:
        stop(proc)
    for log_path in sorted(tmp_path.glob("satchel-*.log")):  # shown by pytest when the test failed
        print(f"---- {log_path.name}\n{log_path.read_text()[-5000:]}")
