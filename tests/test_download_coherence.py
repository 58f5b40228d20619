"""Downloads follow record changes, wherever they are made: at once through the process that made
them, through another instance as soon as the change reaches it.

On PostgreSQL every process keeps the file names of the records it served (core/record_cache.py)
and forgets them as changes are announced. The servers here keep them for an hour at most, so
only an invalidation explains a fresh answer. On SQLite (no cache) the same answers must hold.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest
from checks import ok, wait_for
from processes import SATCHEL

ROOT = {"identity": "root@example.com", "password": "root-password-1"}
AN_HOUR = {"SATCHEL_RECORD_CACHE_SECONDS": "3600"}
LISTENER = "'satchel_' || left(md5(current_schema()), 16)"  # the version listener's application_name


def _listeners(db_url: str) -> set[int]:
    """Backend pids of the version listeners (one per process) that listen and have read the version."""
    query = (
        f"SELECT pid FROM pg_stat_activity WHERE application_name = {LISTENER}"
        " AND state = 'idle' AND query LIKE 'SELECT value FROM _params%'"
    )
    with psycopg.connect(db_url, autocommit=True) as conn:
        return {row[0] for row in conn.execute(query)}


def _start(tmp_path: Path, db_url: str, satchel_server, dirs: list[str]) -> list[str]:
    env = {**os.environ, **AN_HOUR, "SATCHEL_DB_URL": db_url}
    flags = ["--dir", str(tmp_path / dirs[0])]
    subprocess.run([SATCHEL, "superuser", "upsert", ROOT["identity"], ROOT["password"], *flags], env=env, check=True, capture_output=True)
    urls = [satchel_server("--workers", "1", "--dir", str(tmp_path / d), env=env) for d in dirs]
    if db_url:  # nothing is cached before a process listens: wait, or the tests below prove little
        wait_for(lambda: len(_listeners(db_url)) == len(urls))
    return urls


@pytest.fixture
def two(tmp_path: Path, db_url: str, satchel_server) -> Iterator[tuple[str, str, dict[str, str]]]:
    """Two single-process instances on one data directory (their files in one local storage)."""
    a, b = _start(tmp_path, db_url, satchel_server, ["a", "a"])
    token = ok(httpx.post(f"{a}/api/collections/_superusers/auth-with-password", json=ROOT, timeout=30))["token"]
    yield a, b, {"Authorization": token}


def _file(base: str, collection: str, record_id: str, name: str, **params: str) -> httpx.Response:
    return httpx.get(f"{base}/api/files/{collection}/{record_id}/{name}", params=params, timeout=30)


def _served(base: str, collection: str, record_id: str, name: str, **params: str) -> bytes | None:
    """The file's bytes, or None for a 404."""
    response = _file(base, collection, record_id, name, **params)
    assert response.status_code in (200, 404), response.text
    return response.content if response.status_code == 200 else None


def _docs(base: str, admin: dict[str, str], name: str = "docs", **options) -> dict:
    fields = [{"name": "doc", "type": "file", "maxSelect": 2, **options}]
    return ok(httpx.post(f"{base}/api/collections", headers=admin, json={"name": name, "listRule": "", "viewRule": "", "fields": fields}, timeout=30))


def _save(base: str, admin: dict[str, str], files: dict[str, tuple[str, bytes]], record_id: str = "") -> dict:
    """Create a `docs` record with these files, or update the one with this id."""
    if record_id:
        return ok(httpx.patch(f"{base}/api/collections/docs/records/{record_id}", headers=admin, files=files, timeout=30))
    return ok(httpx.post(f"{base}/api/collections/docs/records", headers=admin, files=files, timeout=30))


def test_changes_through_one_instance_reach_downloads_through_the_other(two):
    a, b, admin = two
    _docs(a, admin)
    wait_for(lambda: httpx.get(f"{b}/api/collections/docs/records", timeout=30).status_code == 200)
    record = _save(a, admin, {"doc": ("one.txt", b"first")})
    first = record["doc"][0]
    for _ in range(2):
        assert _served(b, "docs", record["id"], first) == b"first"

    # the file replaced through A: once B serves the new one, it never serves the old one again
    second = _save(a, admin, {"doc": ("two.txt", b"second")}, record["id"])["doc"][0]
    wait_for(lambda: _served(b, "docs", record["id"], second) == b"second")
    for _ in range(5):
        assert _served(b, "docs", record["id"], first) is None
        assert _served(b, "docs", record["id"], second) == b"second"

    # a file added to the record through A (an update of its row)
    third = _save(a, admin, {"doc+": ("three.txt", b"third")}, record["id"])["doc"][1]
    wait_for(lambda: _served(b, "docs", record["id"], third) == b"third")
    assert _served(b, "docs", record["id"], second) == b"second"

    # deleted through A
    assert httpx.delete(f"{a}/api/collections/docs/records/{record['id']}", headers=admin, timeout=30).status_code == 204
    wait_for(lambda: _served(b, "docs", record["id"], second) is None)
    for _ in range(5):
        assert _served(b, "docs", record["id"], second) is None
        assert _served(b, "docs", record["id"], third) is None


def test_a_process_reads_its_own_writes_at_once(two):
    _, b, admin = two
    _docs(b, admin)
    record = _save(b, admin, {"doc": ("one.txt", b"first")})
    first = record["doc"][0]
    for _ in range(2):
        assert _served(b, "docs", record["id"], first) == b"first"
    second = _save(b, admin, {"doc": ("two.txt", b"second")}, record["id"])["doc"][0]
    assert _served(b, "docs", record["id"], second) == b"second"  # no waiting: the same process
    assert _served(b, "docs", record["id"], first) is None
    assert httpx.delete(f"{b}/api/collections/docs/records/{record['id']}", headers=admin, timeout=30).status_code == 204
    assert _served(b, "docs", record["id"], second) is None


def test_a_deleted_users_protected_files_are_gone_at_once(two):
    _, b, admin = two
    ok(httpx.post(f"{b}/api/collections", headers=admin, timeout=30, json={
        "name": "members", "type": "auth", "viewRule": "id = @request.auth.id",
        "fields": [{"name": "secret", "type": "file", "maxSelect": 1, "protected": True}],
    }))
    user = ok(httpx.post(f"{b}/api/collections/members/records", headers=admin, timeout=30, json={
        "email": "m@example.com", "password": "12345678", "passwordConfirm": "12345678",
    }))
    user = ok(httpx.patch(f"{b}/api/collections/members/records/{user['id']}", headers=admin, timeout=30,
                          files={"secret": ("s.txt", b"secret bytes")}))
    login = ok(httpx.post(f"{b}/api/collections/members/auth-with-password", timeout=30,
                          json={"identity": "m@example.com", "password": "12345678"}))
    file_token = ok(httpx.post(f"{b}/api/files/token", headers={"Authorization": login["token"]}, timeout=30))["token"]
    assert _served(b, "members", user["id"], user["secret"], token=file_token) == b"secret bytes"
    assert _served(b, "members", user["id"], user["secret"], token=file_token) == b"secret bytes"
    assert _served(b, "members", user["id"], user["secret"]) is None  # no token, no file
    assert httpx.delete(f"{b}/api/collections/members/records/{user['id']}", headers=admin, timeout=30).status_code == 204
    assert _served(b, "members", user["id"], user["secret"], token=file_token) is None


def test_rule_changes_and_collection_deletes_reach_the_other_instance(two):
    a, b, admin = two
    vault = _docs(a, admin, "vault", protected=True)
    _docs(a, admin, "plain")
    wait_for(lambda: httpx.get(f"{b}/api/collections/plain/records", timeout=30).status_code == 200)
    secret = ok(httpx.post(f"{a}/api/collections/vault/records", headers=admin, files={"doc": ("v.txt", b"vault")}, timeout=30))
    plain = ok(httpx.post(f"{a}/api/collections/plain/records", headers=admin, files={"doc": ("p.txt", b"plain")}, timeout=30))
    assert _served(b, "vault", secret["id"], secret["doc"][0]) == b"vault"  # viewRule "": anyone
    assert _served(b, "plain", plain["id"], plain["doc"][0]) == b"plain"

    ok(httpx.patch(f"{a}/api/collections/{vault['id']}", headers=admin, json={"viewRule": "@request.auth.id != ''"}, timeout=30))
    wait_for(lambda: _served(b, "vault", secret["id"], secret["doc"][0]) is None)
    assert _served(b, "vault", secret["id"], secret["doc"][0]) is None

    assert httpx.delete(f"{a}/api/collections/plain", headers=admin, timeout=30).status_code == 204
    wait_for(lambda: _served(b, "plain", plain["id"], plain["doc"][0]) is None)
    assert _served(b, "plain", plain["id"], plain["doc"][0]) is None


def test_a_lost_listener_drops_what_the_process_kept(tmp_path: Path, db_url: str, satchel_server):
    if not db_url:
        pytest.skip("SQLite processes keep no records")
    (url,) = _start(tmp_path, db_url, satchel_server, ["a"])
    token = ok(httpx.post(f"{url}/api/collections/_superusers/auth-with-password", json=ROOT, timeout=30))["token"]
    _docs(url, {"Authorization": token})
    record = ok(httpx.post(f"{url}/api/collections/docs/records", headers={"Authorization": token},
                           files=[("doc", ("one.txt", b"one")), ("doc", ("two.txt", b"two"))], timeout=30))
    first, second = record["doc"]
    assert _served(url, "docs", record["id"], first) == b"one"
    # A change no event announces (only SQL can make one): the process doesn't know of it...
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("UPDATE docs SET doc = %s WHERE id = %s", (f'["{second}"]', record["id"]))
    assert _served(url, "docs", record["id"], first) == b"one"
    # ...until its listener is lost: anything may have been missed, so everything kept goes.
    (listener,) = _listeners(db_url)
    with psycopg.connect(db_url, autocommit=True) as conn:
        assert conn.execute("SELECT pg_terminate_backend(%s)", (listener,)).fetchone() == (True,)
    wait_for(lambda: _listeners(db_url) - {listener})
    assert _served(url, "docs", record["id"], first) is None
    assert _served(url, "docs", record["id"], second) == b"two"
