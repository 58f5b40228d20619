"""`POST /api/batch` in Satchel: one transaction across collections, and the files' life cycle
(new files kept only when the batch commits, replaced and deleted ones removed after it)."""

from __future__ import annotations

import json

import anyio
import pytest
from checks import ok, wait_for
from conftest import open_database

from satchel.api import batch

R = "/api/collections/docs/records"


@pytest.fixture
def docs(client, admin, storage_kind):
    for body in (
        {"name": "docs", "listRule": "", "viewRule": "", "createRule": "", "updateRule": "", "deleteRule": "",
         "fields": [{"name": "title", "type": "text", "required": True}, {"name": "files", "type": "file", "maxSelect": 3}]},
        {"name": "tags", "listRule": "", "createRule": "", "fields": [{"name": "label", "type": "text", "required": True}]},
    ):
        ok(client.post("/api/collections", json=body, headers=admin))
    ok(client.patch("/api/settings", headers=admin, json={"batch": {"enabled": True}}))
    return ok(client.get("/api/collections/docs", headers=admin))


@pytest.fixture
def stored_keys(sat):
    """Every key the active storage holds."""

    async def listing() -> list[str]:
        return sorted([obj.key async for obj in sat.storage().list_objects()])

    return lambda: anyio.run(listing)


def send(client, requests, files=()):
    return client.post("/api/batch", data={"@jsonPayload": json.dumps({"requests": requests})}, files=list(files))


def create(body):
    return {"method": "POST", "url": R, "body": body}


def upload(index, name, data=b"data"):
    return (f"requests.{index}.files", (name, data, "text/plain"))


def titles(client, path=R):
    return sorted(item.get("title") or item.get("label") for item in ok(client.get(path, params={"perPage": 100}))["items"])


def test_a_batch_stores_its_files_under_the_records_it_creates(client, docs, stored_keys) -> None:
    response = send(client, [create({"title": "a"}), create({"title": "b"})],
                    [upload(0, "one.txt"), upload(1, "two.txt"), upload(1, "three.txt")])
    assert response.status_code == 200, response.text
    made = [item["body"] for item in response.json()]
    expected = sorted(f"{docs['id']}/{r['id']}/{name}" for r in made for name in r["files"])
    assert len(expected) == 3
    assert stored_keys() == expected


def test_a_failed_batch_leaves_no_rows_and_no_files_even_from_its_earlier_requests(client, docs, stored_keys) -> None:
    response = send(client, [create({"title": "a"}), create({"title": "b"}), create({})],
                    [upload(0, "one.txt"), upload(1, "two.txt")])
    assert response.status_code == 400
    assert response.json()["data"]["requests"]["2"]["response"]["data"]["title"]["code"] == "validation_required"
    assert titles(client) == []
    assert stored_keys() == []


def test_a_batch_spans_collections_all_or_nothing(client, docs) -> None:
    tag = {"method": "POST", "url": "/api/collections/tags/records"}
    assert send(client, [create({"title": "a"}), {**tag, "body": {}}]).status_code == 400
    assert titles(client) == [] and titles(client, "/api/collections/tags/records") == []
    assert send(client, [create({"title": "a"}), {**tag, "body": {"label": "x"}}]).status_code == 200
    assert titles(client) == ["a"] and titles(client, "/api/collections/tags/records") == ["x"]


def test_replaced_and_deleted_files_go_only_when_the_batch_commits(client, docs, stored_keys) -> None:
    first = ok(send(client, [create({"title": "a", "id": "aaaaaaaaaaaaaaa"}), create({"title": "b", "id": "bbbbbbbbbbbbbbb"})],
                    [upload(0, "old.txt"), upload(1, "gone.txt")]))
    before = stored_keys()
    replace = {"method": "PATCH", "url": R + "/aaaaaaaaaaaaaaa", "body": {"files": []}}
    remove = {"method": "DELETE", "url": R + "/bbbbbbbbbbbbbbb"}
    failed = send(client, [replace, remove, create({})], [upload(0, "new.txt")])
    assert failed.status_code == 400
    assert stored_keys() == before  # the failed batch removed nothing and left nothing
    response = send(client, [replace, remove], [upload(0, "new.txt")])
    assert response.status_code == 200, response.text
    [new_name] = response.json()[0]["body"]["files"]
    assert stored_keys() == [f"{docs['id']}/aaaaaaaaaaaaaaa/{new_name}"]
    assert first[0]["body"]["files"][0] != new_name


def test_a_batch_over_its_timeout_rolls_back(client, docs, admin, monkeypatch) -> None:
    ok(client.patch("/api/settings", headers=admin, json={"batch": {"timeout": 1}}))

    async def slow(request):
        await anyio.sleep(30)

    monkeypatch.setitem(batch.HANDLERS, "delete", slow)
    response = send(client, [create({"title": "a"}), {"method": "DELETE", "url": R + "/whatever"}])
    assert response.status_code == 400
    assert response.json() == {"data": {}, "message": "Batch transaction failed.", "status": 400}
    assert titles(client) == []


def test_later_requests_of_a_batch_see_the_earlier_ones(client, docs) -> None:
    made = {"title": "a", "id": "aaaaaaaaaaaaaaa"}
    update = {"method": "PATCH", "url": R + "/aaaaaaaaaaaaaaa", "body": {"title": "b"}}
    upsert = {"method": "PUT", "url": R, "body": {"id": "aaaaaaaaaaaaaaa", "title": "c"}}
    response = send(client, [create(made), update, upsert])
    assert [item["body"]["title"] for item in ok(response)] == ["a", "b", "c"]
    assert titles(client) == ["c"]


def test_a_transaction_cut_short_rolls_back_runs_its_undo_work_and_frees_the_write_lock(tmp_path) -> None:
    import sqlalchemy as sa

    db = open_database(f"sqlite:///{tmp_path / 'tx.db'}")
    table = sa.Table("t", sa.MetaData(), sa.Column("id", sa.Text, primary_key=True))
    db.write_sync(lambda conn: table.create(conn))
    undone: list[str] = []

    def insert(conn, value):
        conn.execute(table.insert().values(id=value))

    async def scenario() -> None:
        async def undo() -> None:
            undone.append("a")

        with anyio.move_on_after(0.2):
            async with db.transaction() as tx:
                await tx.write(insert, "a")
                await tx.on_rollback(undo)
                await anyio.sleep(30)
        await db.write(insert, "b")  # would wait forever on a lock left behind

    anyio.run(scenario)
    assert undone == ["a"]
    assert db.read_sync(lambda conn: [r.id for r in conn.execute(sa.select(table))]) == ["b"]
    db.dispose()


def test_a_transaction_keeps_going_while_writers_queued_on_its_lock_fill_the_thread_pool(tmp_path) -> None:
    import sqlalchemy as sa

    db = open_database(f"sqlite:///{tmp_path / 'tx.db'}")
    table = sa.Table("t", sa.MetaData(), sa.Column("id", sa.Text, primary_key=True))
    db.write_sync(lambda conn: table.create(conn))
    queued = 45  # more than anyio's 40 worker threads

    def insert(conn, value):
        conn.execute(table.insert().values(id=value))

    async def scenario() -> None:
        assert anyio.to_thread.current_default_thread_limiter().total_tokens < queued
        with anyio.fail_after(60):  # a guard against the hang this test is about, not a timing check
            async with anyio.create_task_group() as group:
                async with db.transaction() as tx:
                    for n in range(queued):
                        group.start_soon(db.write, insert, f"w{n}")
                    while anyio.to_thread.current_default_thread_limiter().borrowed_tokens < queued - 5:
                        await anyio.sleep(0.01)
                    for n in range(3):
                        await tx.write(insert, f"tx{n}")

    anyio.run(scenario)
    assert db.read_sync(lambda conn: conn.execute(sa.select(sa.func.count()).select_from(table)).scalar()) == queued + 3
    db.dispose()


def test_concurrent_batches_and_plain_writes_all_land(client, docs) -> None:
    from concurrent.futures import ThreadPoolExecutor

    def batch_of(n: int):
        return send(client, [create({"title": f"b{n}-{i}"}) for i in range(3)])

    def plain(n: int):
        return client.post(R, json={"title": f"p{n}"})

    with ThreadPoolExecutor(max_workers=6) as pool:
        futures = [pool.submit(fn, n) for n in range(6) for fn in (batch_of, plain)]
        answers = [future.result() for future in futures]
    assert [a.status_code for a in answers] == [200] * 12
    assert len(titles(client)) == 6 * 3 + 6


def test_batches_in_one_instance_and_writes_in_another_all_land(tmp_path, db_url: str, satchel_server) -> None:
    import os
    import subprocess
    from concurrent.futures import ThreadPoolExecutor

    import httpx
    from conftest import ADMIN_EMAIL, ADMIN_PASSWORD
    from processes import SATCHEL

    env = {**os.environ, "SATCHEL_DIR": str(tmp_path / "sb"), "SATCHEL_DB_URL": db_url}
    subprocess.run([SATCHEL, "superuser", "upsert", ADMIN_EMAIL, ADMIN_PASSWORD], env=env, check=True, capture_output=True)
    first, second = satchel_server("--workers", "1", env=env), satchel_server("--workers", "1", env=env)
    with httpx.Client(base_url=first, timeout=60) as one, httpx.Client(base_url=second, timeout=60) as two:
        login = {"identity": ADMIN_EMAIL, "password": ADMIN_PASSWORD}
        admin = {"Authorization": ok(one.post("/api/collections/_superusers/auth-with-password", json=login))["token"]}
        ok(one.post("/api/collections", headers=admin, json={
            "name": "docs", "listRule": "", "createRule": "", "fields": [{"name": "title", "type": "text", "required": True}]}))
        ok(one.patch("/api/settings", headers=admin, json={"batch": {"enabled": True}}))
        # the other instance hears of the new collection by NOTIFY, within moments, not at once
        wait_for(lambda: two.get(R).status_code == 200)

        def batch_of(n: int):
            return one.post("/api/batch", json={"requests": [create({"title": f"b{n}-{i}"}) for i in range(5)]})

        def plain(n: int):
            return two.post(R, json={"title": f"p{n}"})

        with ThreadPoolExecutor(max_workers=4) as pool:
            futures = [pool.submit(fn, n) for n in range(8) for fn in (batch_of, plain)]
            answers = [future.result() for future in futures]
        assert [a.status_code for a in answers] == [200] * 16, [a.text for a in answers if a.status_code != 200]
        assert ok(two.get(R, params={"perPage": 1}))["totalItems"] == 8 * 5 + 8
