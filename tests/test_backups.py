"""The Backups API: a backup restores data and files as they were, on every engine, and moves
between engines; uploads must be sound Satchel archives; one backup or restore at a time."""

from __future__ import annotations

import io
import os
import subprocess
import zipfile
from pathlib import Path

import anyio
import pytest
from checks import ok
from processes import SATCHEL
from starlette.testclient import TestClient

from satchel.app import create_app
from satchel.config import Config
from satchel.core import backups

DOCS = {
    "name": "docs", "type": "base", "listRule": "", "viewRule": "",
    "fields": [{"name": "title", "type": "text"}, {"name": "n", "type": "number"}, {"name": "ok", "type": "bool"},
               {"name": "meta", "type": "json"}, {"name": "files", "type": "file", "maxSelect": 5, "maxSize": 10_000_000}],
}


def _setup(client: TestClient, admin: dict[str, str]) -> dict:
    ok(client.post("/api/collections", headers=admin, json=DOCS))
    ok(client.post("/api/collections", headers=admin, json={"name": "titles", "type": "view", "viewQuery": "select id, title, n from docs"}))
    return ok(client.post(
        "/api/collections/docs/records", headers=admin,
        data={"title": "before", "n": "1.5", "ok": "true", "meta": '{"a": [1, 2]}'},
        files=[("files", ("a.txt", b"first file", "text/plain")), ("files", ("b.bin", os.urandom(3000), "application/octet-stream"))],
    ))


def _state(client: TestClient, admin: dict[str, str]) -> dict:
    """Every collection's name and every record of docs with the bytes of its files."""
    names = sorted(c["name"] for c in ok(client.get("/api/collections?perPage=200", headers=admin))["items"])
    token = ok(client.post("/api/files/token", headers=admin))["token"]
    records = {}
    if "docs" in names:
        for record in ok(client.get("/api/collections/docs/records?sort=id", headers=admin))["items"]:
            files = {name: client.get(f"/api/files/docs/{record['id']}/{name}?token={token}").content for name in record["files"]}
            records[record["id"]] = {k: v for k, v in record.items() if k not in ("collectionId",)} | {"bytes": files}
    titles = ok(client.get("/api/collections/titles/records?sort=id", headers=admin))["items"] if "titles" in names else None
    return {"collections": names, "records": records, "titles": titles}


def _change_everything(client: TestClient, admin: dict[str, str], record: dict) -> None:
    url = f"/api/collections/docs/records/{record['id']}"
    ok(client.patch(url, headers=admin, data={"title": "after", "files-": record["files"][0]},
                    files=[("files+", ("c.txt", b"added later", "text/plain"))]))
    ok(client.post("/api/collections/docs/records", headers=admin, data={"title": "new"}))
    ok(client.post("/api/collections", headers=admin, json={"name": "later", "type": "base", "fields": []}))


def test_a_backup_restores_data_and_files_as_they_were(client, admin, sat, storage_kind, stored):
    record = _setup(client, admin)
    before = _state(client, admin)
    assert client.post("/api/backups", headers=admin, json={"name": "first.zip"}).status_code == 204
    listed = ok(client.get("/api/backups", headers=admin))
    assert [(item["key"], item["size"] > 0) for item in listed] == [("first.zip", True)]
    _change_everything(client, admin, record)
    assert _state(client, admin) != before
    anyio.run(lambda: sat.storage().put_bytes("backups/kept.zip", b"not Satchel's", "application/zip"))

    assert client.post("/api/backups/first.zip/restore", headers=admin).status_code == 204

    assert _state(client, admin) == before
    added = [name for name in ok(client.get(f"/api/collections/docs/records/{record['id']}", headers=admin))["files"]]
    assert added == record["files"]
    assert stored(f"{record['collectionId']}/{record['id']}/{record['files'][0]}")[0] == b"first file"
    assert stored("backups/kept.zip") == (b"not Satchel's", "application/zip")  # a stranger in a shared bucket


def test_a_backup_is_downloaded_with_a_superuser_file_token(client, admin):
    _setup(client, admin)
    assert client.post("/api/backups", headers=admin).status_code == 204
    key = ok(client.get("/api/backups", headers=admin))[0]["key"]
    assert key.startswith("pb_backup_satchel_") and key.endswith(".zip")
    token = ok(client.post("/api/files/token", headers=admin))["token"]
    response = client.get(f"/api/backups/{key}?token={token}")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/zip"
    assert response.headers["content-disposition"] == f'attachment; filename="{key}"'
    names = zipfile.ZipFile(io.BytesIO(response.content)).namelist()
    assert "satchel-backup.json" in names and "records/" + ok(client.get("/api/collections/docs", headers=admin))["id"] + ".jsonl" in names
    assert client.get(f"/api/backups/{key}").status_code == 403
    assert client.get(f"/api/backups/{key}", headers=admin).status_code == 403


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buffer.getvalue()


@pytest.mark.parametrize("content", [b"not a zip at all", _zip({"data.db": b"SQLite format 3\0"})], ids=["corrupt", "foreign"])
def test_a_corrupt_or_foreign_upload_is_refused_and_changes_nothing(client, admin, content):
    response = client.post("/api/backups/upload", headers=admin, files={"file": ("pb.zip", content, "application/zip")})
    assert response.status_code == 400
    body = response.json()
    assert body["message"] == "An error occurred while validating the submitted data."
    expected = {
        b"n": ("validation_invalid_mime_type", "mime type must be one of: application/zip."),
        b"P": ("validation_invalid_backup", "Not a Satchel backup: no satchel-backup.json in it."),
    }[content[:1]]
    assert body["data"]["file"]["code"] == expected[0]
    assert body["data"]["file"]["message"].endswith(expected[1])
    assert ok(client.get("/api/backups", headers=admin)) == []


def test_a_damaged_satchel_archive_is_refused(client, admin):
    _setup(client, admin)
    ok(client.post("/api/backups", headers=admin, json={"name": "good.zip"}))
    token = ok(client.post("/api/files/token", headers=admin))["token"]
    archive = bytearray(client.get(f"/api/backups/good.zip?token={token}").content)
    start = archive.find(b"satchel-backup")  # inside the first member's data, past its header
    archive[start + 60: start + 64] = b"\xff\xff\xff\xff"
    response = client.post("/api/backups/upload", headers=admin, files={"file": ("bad.zip", bytes(archive))})
    assert response.status_code == 400
    assert [item["key"] for item in ok(client.get("/api/backups", headers=admin))] == ["good.zip"]


def test_an_uploaded_backup_restores(client, admin):
    record = _setup(client, admin)
    before = _state(client, admin)
    ok(client.post("/api/backups", headers=admin, json={"name": "made.zip"}))
    token = ok(client.post("/api/files/token", headers=admin))["token"]
    archive = client.get(f"/api/backups/made.zip?token={token}").content
    assert client.delete("/api/backups/made.zip", headers=admin).status_code == 204
    assert client.post("/api/backups/upload", headers=admin, files={"file": ("moved.zip", archive)}).status_code == 204
    _change_everything(client, admin, record)
    assert client.post("/api/backups/moved.zip/restore", headers=admin).status_code == 204
    assert _state(client, admin) == before


def test_only_one_backup_or_restore_runs_at_a_time(client, admin, sat):
    ok(client.post("/api/backups", headers=admin, json={"name": "one.zip"}))
    busy = {"data": {}, "message": "Try again later - another backup/restore process has already been started.", "status": 400}

    async def attempt_while_held() -> None:
        async with sat.db.locks.hold(backups.LOCK_KEY, 0) as held:  # as another process of the cluster would
            assert held
            with pytest.raises(backups.BackupBusy):
                await backups.create_backup(sat, "two.zip")

    anyio.run(attempt_while_held)
    sat.active_backup = "one.zip"
    try:
        assert client.post("/api/backups", headers=admin).json() == busy
        assert client.post("/api/backups/one.zip/restore", headers=admin).json() == busy
        deleting = client.delete("/api/backups/one.zip", headers=admin)
        assert deleting.json()["message"] == "The backup is currently being used and cannot be deleted."
    finally:
        sat.active_backup = ""
    assert [item["key"] for item in ok(client.get("/api/backups", headers=admin))] == ["one.zip"]


@pytest.mark.parametrize("direction", ["sqlite+local to postgresql+s3", "postgresql+s3 to sqlite+local"])
def test_an_archive_moves_between_sqlite_with_local_disk_and_postgresql_with_s3(tmp_path, request, direction):
    from conftest import ADMIN_EMAIL, ADMIN_PASSWORD, POSTGRES_URL, _postgres_schema_url
    from s3server import ACCESS_KEY, REGION, SECRET, make_bucket

    if not POSTGRES_URL:
        pytest.skip("SATCHEL_TEST_POSTGRES_URL is not set")
    endpoint = request.getfixturevalue("moto_endpoint")
    schemas = _postgres_schema_url()
    pg_url = next(schemas)
    request.addfinalizer(lambda: next(schemas, None))

    def login(client: TestClient) -> dict[str, str]:
        token = ok(client.post("/api/collections/_superusers/auth-with-password", json={"identity": ADMIN_EMAIL, "password": ADMIN_PASSWORD}))["token"]
        return {"Authorization": token}

    def started(kind: str) -> tuple[TestClient, dict[str, str]]:
        from satchel.core import superusers

        on_pg = kind.startswith("postgresql")
        app = create_app(Config(data_dir=str(tmp_path / kind), db_url=pg_url if on_pg else "", thumb_workers=2))
        request.addfinalizer(app.state.satchel.db.dispose)
        client = TestClient(app).__enter__()
        request.addfinalizer(lambda: client.__exit__(None, None, None))
        anyio.run(superusers.upsert, app.state.satchel, ADMIN_EMAIL, ADMIN_PASSWORD)
        admin = login(client)
        if on_pg:
            s3 = {"enabled": True, "bucket": make_bucket(endpoint), "region": REGION, "endpoint": endpoint,
                  "accessKey": ACCESS_KEY, "secret": SECRET, "forcePathStyle": True}
            ok(client.patch("/api/settings", headers=admin, json={"s3": s3}))
        return client, admin

    source_kind, target_kind = direction.split(" to ")
    source, source_admin = started(source_kind)
    _setup(source, source_admin)
    before = _state(source, source_admin)
    ok(source.post("/api/backups", headers=source_admin, json={"name": "move.zip"}))
    archive = (tmp_path / source_kind / "backups" / "move.zip").read_bytes()

    target, target_admin = started(target_kind)
    target_s3 = ok(target.get("/api/settings", headers=target_admin))["s3"]["enabled"]
    assert target.post("/api/backups/upload", headers=target_admin, files={"file": ("move.zip", archive)}).status_code == 204
    assert target.post("/api/backups/move.zip/restore", headers=target_admin).status_code == 204

    target_admin = login(target)  # the superusers are the archive's now, with their token keys
    assert _state(target, target_admin) == before
    assert ok(target.get("/api/settings", headers=target_admin))["s3"]["enabled"] is target_s3  # storage stays the target's
    local_files = list((tmp_path / target_kind / "storage").rglob("*.txt"))
    assert bool(local_files) is (not target_s3)


def test_the_cli_backs_up_and_restores_what_the_api_sees(tmp_path: Path, db_url: str):
    data_dir = str(tmp_path / "sb")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SATCHEL_")} | {"SATCHEL_DB_URL": db_url}
    app = create_app(Config(data_dir=data_dir, db_url=db_url, thumb_workers=2))
    try:
        from conftest import ADMIN_EMAIL, ADMIN_PASSWORD

        from satchel.core import superusers

        with TestClient(app) as client:
            anyio.run(superusers.upsert, app.state.satchel, ADMIN_EMAIL, ADMIN_PASSWORD)
            admin = {"Authorization": ok(client.post("/api/collections/_superusers/auth-with-password", json={"identity": ADMIN_EMAIL, "password": ADMIN_PASSWORD}))["token"]}
            record = _setup(client, admin)
            before = _state(client, admin)
            made = subprocess.run([SATCHEL, "backup", "cli.zip", "--dir", data_dir], capture_output=True, text=True, env=env, timeout=120)
            assert made.returncode == 0, made.stderr
            assert made.stdout.strip() == 'Successfully created backup "cli.zip".'
            assert [item["key"] for item in ok(client.get("/api/backups", headers=admin))] == ["cli.zip"]
            _change_everything(client, admin, record)
            back = subprocess.run([SATCHEL, "restore", "cli.zip", "--dir", data_dir], capture_output=True, text=True, env=env, timeout=120)
            assert back.returncode == 0, back.stderr
            assert _state(client, admin) == before  # the running app noticed (schema version bumped)
            missing = subprocess.run([SATCHEL, "restore", "nope.zip", "--dir", data_dir], capture_output=True, text=True, env=env, timeout=60)
            assert missing.returncode == 1 and "nope.zip" in missing.stderr
    finally:
        app.state.satchel.db.dispose()


def test_backups_are_kept_in_the_bucket_the_backups_s3_settings_name(client, admin, sat, moto_endpoint, tmp_path):
    from s3server import ACCESS_KEY, REGION, SECRET, make_bucket

    record = _setup(client, admin)
    before = _state(client, admin)
    s3 = {"enabled": True, "bucket": make_bucket(moto_endpoint), "region": REGION, "endpoint": moto_endpoint,
          "accessKey": ACCESS_KEY, "secret": SECRET, "forcePathStyle": True}
    ok(client.patch("/api/settings", headers=admin, json={"backups": {"s3": s3}}))
    assert client.post("/api/backups", headers=admin, json={"name": "in-bucket.zip"}).status_code == 204
    assert [item["key"] for item in ok(client.get("/api/backups", headers=admin))] == ["in-bucket.zip"]
    assert not (Path(sat.config.data_dir) / "backups" / "in-bucket.zip").exists()
    token = ok(client.post("/api/files/token", headers=admin))["token"]
    assert zipfile.ZipFile(io.BytesIO(client.get(f"/api/backups/in-bucket.zip?token={token}").content)).testzip() is None
    _change_everything(client, admin, record)
    assert client.post("/api/backups/in-bucket.zip/restore", headers=admin).status_code == 204
    assert _state(client, admin) == before
    assert ok(client.get("/api/settings", headers=admin))["backups"]["s3"]["enabled"] is True
    assert client.delete("/api/backups/in-bucket.zip", headers=admin).status_code == 204
    assert ok(client.get("/api/backups", headers=admin)) == []
