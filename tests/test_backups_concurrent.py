"""A backup taken while records and their files keep changing restores to a consistent state:
every row it holds finds its files (a deleted file would otherwise be missing from the archive)."""

from __future__ import annotations

import os
import subprocess
import threading

import httpx
from checks import ok
from conftest import ADMIN_EMAIL, ADMIN_PASSWORD
from processes import SATCHEL

RECORDS = 20


def _writer(url: str, admin: dict[str, str], ids: list[str], stop: threading.Event, errors: list[str]) -> None:
    """Replace each record's files again and again (each replacement deletes the old file)."""
    generation = 0
    with httpx.Client(base_url=url, headers=admin, timeout=60) as http:
        while not stop.is_set():
            generation += 1
            record_id = ids[generation % len(ids)]
            body = f"{record_id} generation {generation}".encode() * 2000
            response = http.patch(f"/api/collections/docs/records/{record_id}", files=[("files", ("f.txt", body, "text/plain"))])
            if response.status_code != 200:
                errors.append(response.text)


def test_a_backup_during_concurrent_file_changes_restores_every_file(satchel_server, tmp_path, db_url):
    data_dir = str(tmp_path / "sb")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SATCHEL_")} | {"SATCHEL_DIR": data_dir, "SATCHEL_DB_URL": db_url}
    subprocess.run([SATCHEL, "superuser", "upsert", ADMIN_EMAIL, ADMIN_PASSWORD], env=env, check=True, capture_output=True, timeout=60)
    url = satchel_server("--workers", "2", env=env)
    token = ok(httpx.post(f"{url}/api/collections/_superusers/auth-with-password", json={"identity": ADMIN_EMAIL, "password": ADMIN_PASSWORD}))["token"]
    admin = {"Authorization": token}
    ok(httpx.post(f"{url}/api/collections", headers=admin, json={
        "name": "docs", "type": "base", "fields": [{"name": "files", "type": "file", "maxSelect": 3, "maxSize": 10_000_000}],
    }))
    ids = [
        ok(httpx.post(f"{url}/api/collections/docs/records", headers=admin, files=[("files", ("f.txt", b"first", "text/plain"))]))["id"]
        for _ in range(RECORDS)
    ]
    stop, errors = threading.Event(), []
    writers = [threading.Thread(target=_writer, args=(url, admin, ids[i::2], stop, errors)) for i in range(2)]
    for writer in writers:
        writer.start()
    try:
        for name in ("during-1.zip", "during-2.zip"):
            made = httpx.post(f"{url}/api/backups", headers=admin, json={"name": name}, timeout=120)
            assert made.status_code == 204, made.text
    finally:
        stop.set()
        for writer in writers:
            writer.join()
    assert errors == []

    file_token = ok(httpx.post(f"{url}/api/files/token", headers=admin))["token"]
    for name in ("during-1.zip", "during-2.zip"):
        assert httpx.post(f"{url}/api/backups/{name}/restore", headers=admin, timeout=120).status_code == 204
        admin = {"Authorization": ok(httpx.post(f"{url}/api/collections/_superusers/auth-with-password", json={"identity": ADMIN_EMAIL, "password": ADMIN_PASSWORD}))["token"]}
        file_token = ok(httpx.post(f"{url}/api/files/token", headers=admin))["token"]
        records = ok(httpx.get(f"{url}/api/collections/docs/records?perPage=100", headers=admin))["items"]
        assert len(records) == RECORDS
        for record in records:
            for filename in record["files"]:
                got = httpx.get(f"{url}/api/files/docs/{record['id']}/{filename}?token={file_token}")
                assert got.status_code == 200, (name, record["id"], filename)
                assert got.content.startswith(b"first") or got.content.startswith(record["id"].encode())
