"""The real thing: `satchel serve` with two granian workers, driven over HTTP from outside."""

from __future__ import annotations

import concurrent.futures
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

SATCHEL = str(Path(sys.executable).parent / "satchel")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def server(tmp_path, db_url):
    data = str(tmp_path / "sb_data")
    args = ["--dir", data] + (["--db-url", db_url] if db_url else [])
    subprocess.run([SATCHEL, "superuser", "upsert", "root@example.com", "root-password-1", *args], check=True, capture_output=True)
    port = _free_port()
    log = open(tmp_path / "server.log", "w+")
    proc = subprocess.Popen(
        [SATCHEL, "serve", "--http", f"127.0.0.1:{port}", "--workers", "2", *args],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/api/health", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.1)
    else:
        os.killpg(proc.pid, signal.SIGKILL)
        log.seek(0)
        pytest.fail(f"satchel did not start: {log.read()}")
    yield url, log
    # The whole process group: granian's workers must not outlive a test, even if a
    # SIGTERM that lands while workers are still starting is not acted on in time.
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    log.close()


def test_serve_prints_where_it_listens(server):
    url, log = server
    log.seek(0)
    assert f"Server started at {url}" in log.read()


def test_two_workers_share_schema_changes_and_never_lock(server):
    url, _ = server
    token = httpx.post(f"{url}/api/collections/_superusers/auth-with-password", json={"identity": "root@example.com", "password": "root-password-1"}).json()["token"]
    admin = {"Authorization": token}
    created = httpx.post(f"{url}/api/collections", headers=admin, json={"name": "hits", "listRule": "", "createRule": "", "fields": [{"name": "n", "type": "number"}]})
    assert created.status_code == 200, created.text

    def write(i: int) -> int:
        return httpx.post(f"{url}/api/collections/hits/records", json={"n": i}, timeout=30).status_code

    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        statuses = list(pool.map(write, range(200)))
    assert statuses == [200] * 200
    assert httpx.get(f"{url}/api/collections/hits/records?perPage=1").json()["totalItems"] == 200

    # A change made through whichever worker answers is seen by every worker right away.
    httpx.patch(f"{url}/api/collections/hits", headers=admin, json={"fields": [{"name": "label", "type": "text"}]})
    for i in range(20):
        response = httpx.post(f"{url}/api/collections/hits/records", json={"label": f"l{i}"})
        assert response.status_code == 200 and response.json()["label"] == f"l{i}"
