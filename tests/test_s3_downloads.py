"""Downloads from S3: as few S3 requests as PocketBase makes, and a frozen S3 holds up only downloads."""

from __future__ import annotations

import concurrent.futures
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from checks import ok
from processes import SATCHEL, free_port, listening_sockets
from s3server import ACCESS_KEY, REGION, SECRET, make_bucket

from satchel.config import Config

BYTES = b"hello from s3\n" * 100


def _docs(client, admin) -> tuple[str, str]:
    """A public collection with one file field and one record holding `a.txt`; returns the record id."""
    ok(client.post("/api/collections", headers=admin, json={
        "name": "docs", "type": "base", "listRule": "", "viewRule": "",
        "fields": [{"name": "doc", "type": "file", "maxSelect": 1, "thumbs": ["10x10"]}, {"name": "title", "type": "text"}],
    }))
    record = ok(client.post("/api/collections/docs/records", headers=admin, files={"doc": ("a.txt", BYTES, "text/plain")}))
    return record["id"], record["doc"]


@pytest.fixture(params=["cache", "no-cache"])
def config(request: pytest.FixtureRequest, tmp_path: Path, db_url: str) -> Config:
    """The instance with its S3 cache (the default), and without it (SATCHEL_S3_CACHE=0)."""
    return Config(data_dir=str(tmp_path / "sb_data"), db_url=db_url, thumb_workers=2, s3_cache_mib=1024 if request.param == "cache" else 0)


@pytest.fixture
def s3_calls(client, admin, sat, storage_kind) -> list[str]:
    """The S3 operations the app's client makes from now on (HeadObject, GetObject, ...)."""
    if storage_kind != "s3":
        pytest.skip("counts S3 requests")
    calls: list[str] = []
    storage = sat.storage()
    events = getattr(storage, "inner", storage)._s3().meta.events
    events.register("before-call.s3", lambda model, **_: calls.append(model.name))
    return calls


def test_a_download_is_one_get_as_in_pocketbase_then_none_from_the_cache(client, admin, sat, s3_calls) -> None:
    record_id, name = _docs(client, admin)
    cached = sat.config.s3_cache_mib > 0
    for again in (False, True):
        s3_calls.clear()
        response = client.get(f"/api/files/docs/{record_id}/{name}")
        assert response.status_code == 200 and response.content == BYTES
        assert s3_calls == ([] if again and cached else ["GetObject"])


def test_a_head_is_one_head_and_a_range_a_head_and_a_ranged_get_less_with_the_cache(client, admin, sat, s3_calls) -> None:
    """With the cache, the HEAD's answer is remembered, and once the file was downloaded whole
    a range asks S3 nothing."""
    record_id, name = _docs(client, admin)
    cached = sat.config.s3_cache_mib > 0
    s3_calls.clear()
    assert client.head(f"/api/files/docs/{record_id}/{name}").headers["content-length"] == str(len(BYTES))
    assert s3_calls == ["HeadObject"]
    s3_calls.clear()
    response = client.get(f"/api/files/docs/{record_id}/{name}", headers={"Range": "bytes=2-5"})
    assert response.status_code == 206 and response.content == BYTES[2:6]
    assert s3_calls == (["GetObject"] if cached else ["HeadObject", "GetObject"])
    assert client.get(f"/api/files/docs/{record_id}/{name}").content == BYTES
    s3_calls.clear()
    response = client.get(f"/api/files/docs/{record_id}/{name}", headers={"Range": "bytes=2-5"})
    assert response.status_code == 206 and response.content == BYTES[2:6]
    assert s3_calls == ([] if cached else ["HeadObject", "GetObject"])


def test_a_missing_object_is_the_reference_404(client, admin, sat, s3_calls) -> None:
    import anyio

    record_id, name = _docs(client, admin)
    anyio.run(sat.storage().delete, f"{sat.find_collection('docs').id}/{record_id}/{name}")
    response = client.get(f"/api/files/docs/{record_id}/{name}")
    assert response.status_code == 404
    assert response.json() == {"data": {}, "message": "The requested resource wasn't found.", "status": 404}


# ---- a frozen S3 server ------------------------------------------------------------------------


def _established(port: int) -> int:
    """Open TCP connections to `port` on loopback (the kernel accepts them even while the server is stopped)."""
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as f:
            for line in f.readlines()[1:]:
                remote, state = line.split()[2], line.split()[3]
                count += state == "01" and int(remote.rsplit(":", 1)[1], 16) == port
    return count


@pytest.fixture
def moto_process(tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen]]:
    """moto's S3 server in a process of its own, so that the test can freeze it (SIGSTOP)."""
    port = free_port()
    with open(tmp_path / "moto.log", "w") as log:
        proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)], stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while listening_sockets(port) == 0:
            assert proc.poll() is None and time.monotonic() < deadline, (tmp_path / "moto.log").read_text()
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}", proc
    finally:
        proc.send_signal(signal.SIGCONT)
        proc.kill()
        proc.wait()


def test_a_frozen_s3_holds_up_downloads_but_not_the_database(tmp_path: Path, satchel_server, moto_process) -> None:
    endpoint, moto = moto_process
    data_dir = str(tmp_path / "sb")
    env = {**os.environ, "SATCHEL_DIR": data_dir}
    subprocess.run([SATCHEL, "superuser", "upsert", "admin@example.com", "admin-password-1"], env=env, check=True, capture_output=True)
    url = satchel_server("--workers", "1", env=env)
    with httpx.Client(base_url=url, timeout=60) as http:
        token = ok(http.post("/api/collections/_superusers/auth-with-password", json={"identity": "admin@example.com", "password": "admin-password-1"}))["token"]
        admin = {"Authorization": token}
        ok(http.patch("/api/settings", headers=admin, json={"s3": {
            "enabled": True, "bucket": make_bucket(endpoint), "region": REGION, "endpoint": endpoint,
            "accessKey": ACCESS_KEY, "secret": SECRET, "forcePathStyle": True,
        }}))
        record_id, name = _docs(http, admin)

    moto.send_signal(signal.SIGSTOP)
    stuck = 60
    with concurrent.futures.ThreadPoolExecutor(stuck) as pool:
        downloads = [pool.submit(httpx.get, f"{url}/api/files/docs/{record_id}/{name}", timeout=120) for _ in range(stuck)]
        deadline = time.monotonic() + 60
        while _established(int(endpoint.rsplit(":", 1)[1])) < 50:  # the downloads now wait on S3
            assert time.monotonic() < deadline, "the downloads never reached S3"
            time.sleep(0.05)
        # Requests that don't touch S3 still answer; they would queue behind the downloads if S3
        # calls took the threads database reads use.
        assert httpx.get(f"{url}/api/health", timeout=10).status_code == 200
        listed = httpx.get(f"{url}/api/collections/docs/records", timeout=10)
        assert listed.status_code == 200 and listed.json()["totalItems"] == 1
        moto.send_signal(signal.SIGCONT)
        answers = [d.result() for d in downloads]
    assert [(a.status_code, a.content == BYTES) for a in answers] == [(200, True)] * stuck


def test_an_s3_failure_is_logged_with_its_key_and_cause(moto_endpoint: str, caplog) -> None:
    import anyio

    from satchel.storage.base import StorageError
    from satchel.storage.s3 import S3Storage

    storage = S3Storage("no-such-bucket", REGION, moto_endpoint, ACCESS_KEY, SECRET, force_path_style=True)
    with pytest.raises(StorageError):
        anyio.run(storage.put_bytes, "c/r/a.txt", b"x", "text/plain")
    assert any("s3 PUT no-such-bucket/c/r/a.txt failed" in r.getMessage() and "NoSuchBucket" in r.getMessage() for r in caplog.records)
