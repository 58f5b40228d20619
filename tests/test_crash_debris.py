"""kill -9 a real `satchel serve` mid-upload, start it again, sweep: nothing is left behind.

Two crashes per run, on local disk and on S3 (moto's server): one while the request body
streams into `.tmp`, one while the stored copy is being written (a local temp file, an S3
multipart upload), after a first small file of the same request was already stored.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import boto3
import httpx
import pytest
from checks import ok
from processes import SATCHEL, free_port, stop, wait_healthy

from satchel.core.sweeper import JOB_ID

BIG = 96 * 1024 * 1024
EMAIL, PASSWORD = "root@example.com", "root-password-1"


class Server:
    """One `satchel serve` process on a data dir that outlives it."""

    def __init__(self, tmp_path: Path, db_url: str) -> None:
        self.tmp_path = tmp_path
        self.data = tmp_path / "sb_data"
        self.args = ["--dir", str(self.data)] + (["--db-url", db_url] if db_url else [])
        # no grace: whatever no live process owns is debris the moment the sweep runs
        self.env = {**os.environ, "SATCHEL_TEMP_GRACE": "0", "SATCHEL_ORPHAN_GRACE": "0"}
        self.proc: subprocess.Popen | None = None
        self.url = ""
        self.log_path = tmp_path / "none.log"
        subprocess.run([SATCHEL, "superuser", "upsert", EMAIL, PASSWORD, *self.args], env=self.env, check=True, capture_output=True)

    def start(self) -> None:
        port = free_port()
        log_path = self.log_path = self.tmp_path / f"server-{port}.log"
        with open(log_path, "w") as log:
            self.proc = subprocess.Popen(
                [SATCHEL, "serve", "--http", f"127.0.0.1:{port}", "--workers", "1", *self.args],
                env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )
        self.url = f"http://127.0.0.1:{port}"
        wait_healthy(self.url, self.proc, log_path)

    def kill(self) -> None:
        assert self.proc is not None
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def admin(self) -> dict[str, str]:
        auth = {"identity": EMAIL, "password": PASSWORD}
        return {"Authorization": ok(httpx.post(f"{self.url}/api/collections/_superusers/auth-with-password", json=auth))["token"]}


@pytest.fixture
def server(tmp_path: Path, db_url: str) -> Iterator[Server]:
    running = Server(tmp_path, db_url)
    yield running
    if running.proc is not None:
        stop(running.proc)


def wait_for(condition: Callable[[], object], what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.005)


def files_under(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


def size(path: Path) -> int:
    """The file's size, 0 once it is gone (renamed into place or removed since it was listed)."""
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def spooled(server: Server) -> list[Path]:
    """Upload temp files in `.tmp` (each process folder's lock file aside)."""
    return [p for p in files_under(server.data / ".tmp") if p.name != ".lock"]


def send_half_a_body(url: str, headers: dict[str, str], sent: int) -> socket.socket:
    """Start a multipart upload of BIG bytes and send only the first `sent` of them."""
    boundary = "crashcrashcrash"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="docs"; filename="big.bin"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    host, port = url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)))
    request = (
        f"POST /api/collections/docs/records HTTP/1.1\r\nHost: {host}\r\n"
        f"Authorization: {headers['Authorization']}\r\n"
        f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
        f"Content-Length: {len(head) + BIG + len(tail)}\r\n\r\n"
    ).encode()
    sock.sendall(request + head + b"\0" * sent)
    return sock


def post_in_background(url: str, headers: dict[str, str]) -> threading.Thread:
    """A small file, then a big one, in one request that the crash will cut short."""
    files = [("docs", ("first.txt", b"stored before the crash", "text/plain")), ("docs", ("big.bin", b"\1" * BIG, "application/octet-stream"))]

    def post() -> None:
        with contextlib.suppress(httpx.TransportError):
            httpx.post(f"{url}/api/collections/docs/records", headers=headers, files=files, timeout=120)

    thread = threading.Thread(target=post)
    thread.start()
    return thread


@pytest.mark.parametrize("storage_kind", ["local", "s3"])
def test_kill_9_mid_upload_then_restart_and_sweep_leaves_nothing(server: Server, storage_kind: str, request: pytest.FixtureRequest):
    server.start()
    admin = server.admin()
    s3 = None
    if storage_kind == "s3":
        from s3server import ACCESS_KEY, REGION, SECRET, make_bucket

        endpoint = request.getfixturevalue("moto_endpoint")
        bucket = make_bucket(endpoint)
        ok(httpx.patch(f"{server.url}/api/settings", headers=admin, json={"s3": {
            "enabled": True, "bucket": bucket, "region": REGION, "endpoint": endpoint,
            "accessKey": ACCESS_KEY, "secret": SECRET, "forcePathStyle": True,
        }}))
        s3 = boto3.client("s3", endpoint_url=endpoint, region_name=REGION, aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET)
    ok(httpx.post(f"{server.url}/api/collections", headers=admin, json={
        "name": "docs", "fields": [{"name": "docs", "type": "file", "maxSelect": 5, "maxSize": 2 * BIG}],
    }))

    def partial_stored() -> bool:
        if s3 is not None:
            return bool(s3.list_multipart_uploads(Bucket=bucket).get("Uploads"))
        # the big file's temp copy (the small file's is tiny and brief)
        return any(p.name.endswith(".tmp") and size(p) > 1024 * 1024 for p in files_under(server.data / "storage"))

    # 1. killed while the body streams into .tmp
    sock = send_half_a_body(server.url, admin, sent=8 * 1024 * 1024)
    wait_for(lambda: sum(size(p) for p in spooled(server)) >= 4 * 1024 * 1024, "the body to reach .tmp")
    server.kill()
    sock.close()
    assert spooled(server)
    server.start()
    assert spooled(server) == []  # the start removed the dead process's folder

    # 2. killed while the big file is being stored, the small one already stored
    admin = server.admin()
    upload = post_in_background(server.url, admin)
    wait_for(lambda: partial_stored() or not upload.is_alive(), "a partial stored file")
    server.kill()
    upload.join()
    assert partial_stored(), "the upload finished before the kill"

    # 3. start again and sweep
    server.start()
    assert ok(httpx.get(f"{server.url}/api/collections/docs/records", headers=server.admin()))["totalItems"] == 0
    assert httpx.post(f"{server.url}/api/crons/{JOB_ID}", headers=server.admin()).status_code == 204

    def nothing_left() -> bool:
        if s3 is not None:
            return not partial_stored() and s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0
        return list((server.data / "storage").iterdir()) == []  # not even an empty folder

    def logged() -> bool:
        log = server.log_path.read_text()
        return "removed unfinished write" in log and "removed orphan" in log and "first_" in log

    wait_for(lambda: nothing_left() and logged(), "the sweep to remove everything and say so")
    assert spooled(server) == []
