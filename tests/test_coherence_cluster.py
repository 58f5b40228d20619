"""Two `satchel serve` instances on one database, changed at the same moment through both.

After each round of concurrent collection creates, collection updates and settings PATCHes,
both instances must agree with the database and with each other, every stored definition must
match its table, and the version must have moved once per change. And a busy process keeps to
its PostgreSQL connection budget.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from checks import at_once, ok, wait_for
from processes import SATCHEL

ROUNDS = 3
CREATES = 12  # per round, half through each instance

ROOT = {"identity": "root@example.com", "password": "root-password-1"}


@pytest.fixture
def cluster(tmp_path: Path, db_url: str, satchel_server) -> Iterator[tuple[list[str], sa.Engine]]:
    """Two single-process instances: on SQLite one data directory, on PostgreSQL two and one schema."""
    dirs = [tmp_path / "a", tmp_path / "a"] if not db_url else [tmp_path / "a", tmp_path / "b"]
    flags = [["--dir", str(d), *(["--db-url", db_url] if db_url else [])] for d in dirs]
    subprocess.run([SATCHEL, "superuser", "upsert", ROOT["identity"], ROOT["password"], *flags[0]], check=True, capture_output=True)
    urls = [satchel_server("--workers", "1", *f) for f in flags]
    engine = sa.create_engine(
        "postgresql+psycopg://" + db_url.split("://", 1)[1] if db_url else f"sqlite:///{dirs[0] / 'data.db'}"
    )
    yield urls, engine
    engine.dispose()


def _stored(engine: sa.Engine) -> tuple[dict[str, list[str]], int]:
    """Field names of every stored collection by name, and the schema version."""
    import orjson

    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT name, definition FROM _collections")).all()
        version = int(conn.execute(sa.text("SELECT value FROM _params WHERE id = 'schema_version'")).scalar())
    return {name: [f["name"] for f in orjson.loads(definition)["fields"]] for name, definition in rows}, version


def _served(url: str, auth: dict[str, str]) -> dict[str, list[str]]:
    items = ok(httpx.get(f"{url}/api/collections", params={"perPage": 500}, headers=auth, timeout=30))["items"]
    return {c["name"]: [f["name"] for f in c["fields"]] for c in items}


def _settings(url: str, auth: dict[str, str]) -> tuple[str, bool]:
    body = ok(httpx.get(f"{url}/api/settings", headers=auth, timeout=30))
    return body["meta"]["appName"], body["s3"]["enabled"]


def _s3(enabled: bool) -> dict[str, Any]:
    if not enabled:
        return {"enabled": False}
    return {"enabled": True, "bucket": "b", "region": "r", "endpoint": "http://127.0.0.1:9", "accessKey": "k", "secret": "s"}


def test_two_instances_agree_after_rounds_of_concurrent_changes(cluster):
    urls, engine = cluster
    token = ok(httpx.post(f"{urls[0]}/api/collections/_superusers/auth-with-password", json=ROOT, timeout=30))["token"]
    auth = {"Authorization": token}
    ok(httpx.post(f"{urls[0]}/api/collections", headers=auth, json={"name": "shared", "fields": [{"name": "base", "type": "text"}]}, timeout=30))
    lost: list[str] = []
    for r in range(ROUNDS):
        _, version_before = _stored(engine)
        seen = ok(httpx.get(f"{urls[1]}/api/collections/shared", headers=auth, timeout=30))["fields"]

        def send(method: str, url: str, path: str, body: dict[str, Any]) -> Any:
            return lambda: httpx.request(method, f"{url}{path}", headers=auth, json=body, timeout=60)

        calls = [send("POST", urls[i % 2], "/api/collections", {"name": f"c{r}_{i}", "fields": [{"name": f"f{i}", "type": "number"}]}) for i in range(CREATES)]
        calls += [send("PATCH", url, "/api/collections/shared", {"fields": [*seen, {"name": f"{side}{r}", "type": "text"}]}) for url, side in zip(urls, "ab", strict=True)]
        calls += [
            send("PATCH", urls[0], "/api/settings", {"meta": {"appName": f"round{r}"}}),
            send("PATCH", urls[1], "/api/settings", {"s3": _s3(r % 2 == 0)}),
        ]
        responses = at_once(calls)
        done = time.monotonic()
        assert [res.status_code for res in responses] == [200] * len(calls), [res.text for res in responses if res.status_code != 200]

        stored, version = _stored(engine)
        assert version - version_before == len(calls)  # each change moved the version once: none lost
        # Last writer wins, cleanly: exactly one of the two new fields is kept.
        added = [name for name in (f"a{r}", f"b{r}") if name in stored["shared"]]
        assert len(added) == 1, stored["shared"]
        lost += [name for name in (f"a{r}", f"b{r}") if name not in added]
        looks: list[bool] = []

        def agree(looks: list[bool] = looks, stored: dict = stored, r: int = r) -> bool:
            looks.append(all(_served(url, auth) == stored and _settings(url, auth) == (f"round{r}", r % 2 == 0) for url in urls))
            return looks[-1]

        wait_for(agree, seconds=10)
        print(f"round {r}: {len(calls)} changes at once; both instances agree after {len(looks)} look(s), {time.monotonic() - done:.3f} s")
        _assert_tables_match(engine, stored)

    # The lost fields can be added again: their columns went with them.
    fields = ok(httpx.get(f"{urls[0]}/api/collections/shared", headers=auth, timeout=30))["fields"]
    fields += [{"name": name, "type": "text"} for name in lost]
    ok(httpx.patch(f"{urls[1]}/api/collections/shared", headers=auth, json={"fields": fields}, timeout=30))
    stored, _ = _stored(engine)
    assert set(lost) <= set(stored["shared"])
    _assert_tables_match(engine, stored)


def _assert_tables_match(engine: sa.Engine, stored: dict[str, list[str]]) -> None:
    inspector = sa.inspect(engine)
    for name, fields in stored.items():
        assert sorted(c["name"] for c in inspector.get_columns(name)) == sorted(fields), name


def test_a_busy_process_stays_within_its_connection_budget(tmp_path: Path, db_url: str, satchel_server):
    if not db_url:
        pytest.skip("the connection budget is PostgreSQL's")
    name = "budget_" + tmp_path.name[-12:].replace("-", "_")
    url = f"{db_url}&application_name={name}"  # the listener renames its own connection: counted apart
    flags = ["--dir", str(tmp_path / "a"), "--db-url", url]
    subprocess.run([SATCHEL, "superuser", "upsert", ROOT["identity"], ROOT["password"], *flags], check=True, capture_output=True)
    env = {**os.environ, "SATCHEL_DB_POOL_SIZE": "3", "SATCHEL_DB_POOL_OVERFLOW": "1", "SATCHEL_DB_LOOP_POOL_SIZE": "2"}
    server = satchel_server("--workers", "1", *flags, env=env)
    auth = {"Authorization": ok(httpx.post(f"{server}/api/collections/_superusers/auth-with-password", json=ROOT, timeout=30))["token"]}
    ok(httpx.post(f"{server}/api/collections", headers=auth, timeout=30, json={
        "name": "docs", "listRule": "", "viewRule": "", "fields": [{"name": "f", "type": "file", "maxSelect": 1}],
    }))
    record = ok(httpx.post(f"{server}/api/collections/docs/records", headers=auth, files={"f": ("a.txt", b"x" * 1024, "text/plain")}, timeout=30))
    paths = ["/api/collections/docs/records", f"/api/files/docs/{record['id']}/{record['f']}"]
    engine = sa.create_engine("postgresql+psycopg://" + db_url.split("://", 1)[1])
    peak, done = [0], threading.Event()

    def watch() -> None:
        # Autocommit: within one transaction pg_stat_activity shows the snapshot of its first read.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            while not done.is_set():
                count = conn.execute(sa.text("SELECT count(*) FROM pg_stat_activity WHERE application_name = :n"), {"n": name}).scalar()
                peak[0] = max(peak[0], count)

    def load(i: int) -> list[int]:
        with httpx.Client(timeout=60) as client:
            return [client.get(server + paths[(i + j) % 2]).status_code for j in range(40)]

    watcher = threading.Thread(target=watch)
    watcher.start()
    statuses = [s for batch in at_once([lambda i=i: load(i) for i in range(40)]) for s in batch]
    done.set()
    watcher.join()
    engine.dispose()
    assert statuses == [200] * len(statuses)
    # The pool (3 + 1 overflow), the loop reads (2) and the request log's one connection; the
    # version listener renames its connection, so it is not counted here.
    print(f"peak connections under {len(statuses)} requests from 40 clients: {peak[0]} (budget 3 + 1 + 2 + 1, plus the listener)")
    assert 0 < peak[0] <= 3 + 1 + 2 + 1
