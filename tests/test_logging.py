"""Process logs: readable or JSON lines on stderr, an access log with tokens masked, one traceback per 500."""

from __future__ import annotations

import logging
import os
import re
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import orjson
import pytest
from processes import SATCHEL, free_port, listening_sockets, stop, wait_healthy
from starlette.routing import Route

from satchel.core.request_log import masked

TEXT_ACCESS = re.compile(
    r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} INFO +satchel\.access: GET /api/health\?token=…&x=1 200 \d+B [\d.]+ms 127\.0\.0\.1$"
)


def _server_output(tmp_path: Path, url: str) -> Path:
    """The file `satchel_server` sends the process's stdout and stderr to."""
    return tmp_path / f"satchel-{url.rsplit(':', 1)[1]}.log"


def _wait_for_line(path: Path, wanted: Callable[[str], bool], seconds: float = 30) -> str:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for line in path.read_text().splitlines():
            if wanted(line):
                return line
        time.sleep(0.05)
    pytest.fail(f"no such line within {seconds} s in:\n{path.read_text()}")


@pytest.mark.parametrize("target, shown", [
    ("/api/files/c/r/a.png?token=eyJhbGc.x.y", "/api/files/c/r/a.png?token=…"),
    ("/x?thumb=100x100&token=abc&download=1", "/x?thumb=100x100&token=…&download=1"),
    ("/x?token=", "/x?token=…"),
    ("/x?mytoken=keep&a=token=keep", "/x?mytoken=keep&a=token=keep"),
    ("/api/health", "/api/health"),
])
def test_the_access_log_masks_token_query_parameters(target: str, shown: str):
    assert masked(target) == shown


def test_a_served_process_writes_readable_access_lines_to_stderr(satchel_server, tmp_path):
    url = satchel_server("--dir", str(tmp_path / "data"))
    assert httpx.get(f"{url}/api/health?token=secret-token&x=1").status_code == 200
    output = _server_output(tmp_path, url)
    line = _wait_for_line(output, lambda line: "satchel.access" in line and "/api/health?" in line)
    assert TEXT_ACCESS.match(line), line
    assert "secret-token" not in output.read_text()


def test_json_lines_when_asked_for_every_line_of_every_process(satchel_server, tmp_path):
    env = {**os.environ, "SATCHEL_LOG_FORMAT": "json"}
    url = satchel_server("--dir", str(tmp_path / "data"), "--workers", "2", env=env)
    port = int(url.rsplit(":", 1)[1])
    deadline = time.monotonic() + 60
    while listening_sockets(port) < 2:  # the helper process is serving too
        assert time.monotonic() < deadline, "the helper process never listened"
        time.sleep(0.05)
    assert httpx.get(f"{url}/api/nothing?token=secret-token", headers={"User-Agent": "t"}).status_code == 404
    output = _server_output(tmp_path, url)
    line = _wait_for_line(output, lambda line: '"satchel.access"' in line and "/api/nothing" in line)
    access = orjson.loads(line)
    assert access.keys() == {"time", "level", "logger", "message", "method", "path", "status", "bytes", "duration_ms", "client"}
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", access["time"])
    assert (access["level"], access["method"], access["path"], access["status"], access["client"]) == (
        "INFO", "GET", "/api/nothing?token=…", 404, "127.0.0.1"
    )
    assert access["bytes"] > 0 and access["duration_ms"] >= 0
    banner = ("Server started", "├─", "└─")  # printed on stdout, like PocketBase's
    for other in output.read_text().splitlines():
        if not other.startswith(banner):
            assert orjson.loads(other)["level"], other  # granian's own messages too, from both processes


def test_a_stderr_nobody_reads_never_holds_requests(tmp_path):
    """Access lines fill a pipe nobody reads (64 KiB) long before these requests end; they are
    written from a thread, so only the lines wait, not the server."""
    port = free_port()
    proc = subprocess.Popen(
        [SATCHEL, "serve", "--http", f"127.0.0.1:{port}", "--dir", str(tmp_path / "data")],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
    )
    try:
        wait_healthy(f"http://127.0.0.1:{port}", proc, tmp_path / "none.log")
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            for _ in range(2000):  # ~170 KB of access lines
                assert client.get("/api/health?padding=" + "x" * 20).status_code == 200
        assert proc.stderr is not None
        assert b"satchel.access" in proc.stderr.read(65536)  # the lines were held, not lost
        threading.Thread(target=proc.stderr.read, daemon=True).start()  # the rest, so it can stop
    finally:
        stop(proc)


def test_an_unknown_log_level_stops_serve_with_the_setting_named(tmp_path):
    env = {**os.environ, "SATCHEL_LOG_LEVEL": "loud"}
    done = subprocess.run([SATCHEL, "serve", "--dir", str(tmp_path)], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert "SATCHEL_LOG_LEVEL='loud'" in done.stderr


def test_a_500_logs_its_traceback_once(app, client, caplog):
    async def boom(request):
        raise RuntimeError("kaboom")

    app.router.routes.append(Route("/api/boom", boom))
    with caplog.at_level(logging.ERROR):
        response = client.get("/api/boom")  # the exception no longer reaches the server (or the test client)
    assert response.status_code == 500
    tracebacks = [r for r in caplog.records if r.exc_info]
    assert len(tracebacks) == 1 and "kaboom" in str(tracebacks[0].exc_info[1])
