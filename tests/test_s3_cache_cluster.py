"""Instances that keep copies of S3 objects answer exactly as one that doesn't, and never serve a
file that its record no longer holds, whichever instance changed the record.

Three instances on one database and one bucket, each a real `satchel serve`: A and B with their
caches, C with the cache off (SATCHEL_S3_CACHE=0), the reference for every header. On
PostgreSQL each has a data directory (so a cache) of its own; on SQLite they share one, so A
and B are several processes sharing one cache.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import httpx
from checks import ok, wait_for
from conftest import ADMIN_EMAIL, ADMIN_PASSWORD, image_bytes
from processes import SATCHEL
from s3server import ACCESS_KEY, REGION, SECRET, make_bucket

TEXT = b"plain text from s3\n" * 60
PNG = image_bytes(40, 30)


def _copies(data_dir: Path) -> set[str]:
    """The keys an instance holds copies of."""
    return {p.relative_to(d).as_posix() for d in data_dir.glob("cache/s3/*/data") for p in d.rglob("*") if p.is_file()}


def _answer(url: str, method: str, path: str, headers: dict[str, str]) -> tuple[int, list[tuple[str, str]], bytes]:
    response = httpx.request(method, url + path, headers=headers, timeout=30)
    return response.status_code, [(k, v) for k, v in response.headers.multi_items() if k != "date"], response.content


def test_cached_answers_match_s3_and_follow_changes_made_elsewhere(tmp_path: Path, db_url: str, moto_endpoint: str, satchel_server) -> None:
    dirs = [tmp_path / name for name in "abc"] if db_url else [tmp_path / "sb"] * 3
    envs = [{**os.environ, "SATCHEL_DIR": str(d), "SATCHEL_DB_URL": db_url} for d in dirs]
    envs[2]["SATCHEL_S3_CACHE"] = "0"
    subprocess.run([SATCHEL, "superuser", "upsert", ADMIN_EMAIL, ADMIN_PASSWORD], env=envs[0], check=True, capture_output=True)
    a, b, c = (satchel_server("--workers", "1", env=env) for env in envs)

    with httpx.Client(base_url=a, timeout=60) as http:
        admin = {"Authorization": ok(http.post("/api/collections/_superusers/auth-with-password", json={"identity": ADMIN_EMAIL, "password": ADMIN_PASSWORD}))["token"]}
        ok(http.patch("/api/settings", headers=admin, json={"s3": {
            "enabled": True, "bucket": make_bucket(moto_endpoint), "region": REGION, "endpoint": moto_endpoint,
            "accessKey": ACCESS_KEY, "secret": SECRET, "forcePathStyle": True,
        }}))
        docs = ok(http.post("/api/collections", headers=admin, json={
            "name": "docs", "type": "base", "viewRule": "",
            "fields": [{"name": "files", "type": "file", "maxSelect": 5, "thumbs": ["10x10"]}],
        }))
        record = ok(http.post("/api/collections/docs/records", headers=admin, files=[("files", ("a.txt", TEXT, "text/plain")), ("files", ("p.png", PNG, "image/png"))]))
    txt, png = (f"/api/files/docs/{record['id']}/{name}" for name in record["files"])
    for url in (b, c):  # the others hear of the settings and the collection within moments
        wait_for(lambda url=url: httpx.get(f"{url}/api/collections/docs/records/{record['id']}", timeout=30).status_code == 200)

    # Every header and byte the same, from S3 (C), filling A's cache, and from A's copies.
    modified = httpx.get(c + txt).headers["last-modified"]
    asked = [
        ("GET", txt, {}), ("HEAD", txt, {}), ("GET", png, {}), ("GET", png + "?download=1", {}),
        ("GET", png + "?thumb=10x10", {}), ("HEAD", png + "?thumb=10x10", {}), ("GET", png + "?thumb=10x10&download=1", {}),
        ("GET", txt, {"Range": "bytes=2-5"}), ("HEAD", txt, {"Range": "bytes=-7"}), ("GET", txt, {"Range": "bytes=5000-"}),
        ("GET", txt, {"If-Range": modified, "Range": "bytes=0-3"}), ("GET", txt, {"If-Modified-Since": modified}),
        ("HEAD", png, {"If-Modified-Since": modified}), ("GET", txt, {"If-Unmodified-Since": "Mon, 01 Jan 2001 00:00:00 GMT"}),
        ("GET", txt, {"If-None-Match": "*"}), ("GET", txt, {"Origin": "https://example.com"}),
    ]
    for method, path, headers in asked:
        filling, copied, from_s3 = (_answer(url, method, path, headers) for url in (a, a, c))
        assert filling == copied == from_s3, (method, path, headers)
    collection, record_id = docs["id"], record["id"]
    names = record["files"]
    thumb = f"{collection}/{record_id}/thumbs_{names[1]}/10x10_{names[1]}"
    assert {f"{collection}/{record_id}/{names[0]}", f"{collection}/{record_id}/{names[1]}", thumb} <= _copies(dirs[0])
    if db_url:
        assert not _copies(dirs[2])  # C keeps none

    # B holds copies of both files and the thumb; A replaces one file, then deletes the record.
    for path in (txt, png, png + "?thumb=10x10"):
        assert httpx.get(b + path).status_code == 200
    with httpx.Client(base_url=a, timeout=60) as http:
        changed = ok(http.patch(f"/api/collections/docs/records/{record_id}", headers=admin, data={"files-": names[0]}, files={"files+": ("b.txt", b"the new text", "text/plain")}))
        new_txt = f"/api/files/docs/{record_id}/{changed['files'][-1]}"
        wait_for(lambda: httpx.get(b + txt).status_code == 404)
        assert httpx.get(b + new_txt).content == b"the new text"
        if db_url:  # B's copy is still on its disk, and never served: the record no longer names it
            assert f"{collection}/{record_id}/{names[0]}" in _copies(dirs[1])
        ok(http.delete(f"/api/collections/docs/records/{record_id}", headers=admin))
        wait_for(lambda: httpx.get(b + png).status_code == 404)
        assert httpx.get(b + png + "?thumb=10x10").status_code == 404
        assert not any(key.startswith(f"{collection}/{record_id}/") for key in _copies(dirs[0]))  # A dropped its own

        # A truncated collection, then a deleted one.
        other = ok(http.post("/api/collections/docs/records", headers=admin, files={"files": ("c.txt", b"truncated soon", "text/plain")}))
        other_path = f"/api/files/docs/{other['id']}/{other['files'][0]}"
        assert httpx.get(b + other_path).content == b"truncated soon"
        assert http.delete("/api/collections/docs/truncate", headers=admin).status_code == 204
        wait_for(lambda: httpx.get(b + other_path).status_code == 404)
        last = ok(http.post("/api/collections/docs/records", headers=admin, files={"files": ("d.txt", b"deleted soon", "text/plain")}))
        last_path = f"/api/files/docs/{last['id']}/{last['files'][0]}"
        assert httpx.get(b + last_path).content == b"deleted soon"
        assert http.delete("/api/collections/docs", headers=admin).status_code == 204
        wait_for(lambda: httpx.get(b + last_path).status_code == 404)
        assert not _copies(dirs[0])
