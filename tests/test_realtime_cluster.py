"""Realtime across processes: two `satchel serve` instances on one database (PostgreSQL schema, or
one SQLite data dir), a subscriber on one and writes through the other."""

from __future__ import annotations

import subprocess
from pathlib import Path

import httpx
import pytest
from checks import ok
from processes import SATCHEL
from sse import Stream

EMAIL, PASSWORD = "admin@example.com", "admin-password-1"


@pytest.fixture
def pair(satchel_server, tmp_path: Path, db_url: str) -> tuple[str, str, dict[str, str]]:
    """Two instances sharing one database, and a superuser's headers; a public `notes` collection."""
    flags = ["--dir", str(tmp_path / "sb_data")] + (["--db-url", db_url] if db_url else [])
    subprocess.run([SATCHEL, "superuser", "upsert", EMAIL, PASSWORD, *flags], check=True, capture_output=True)
    first, second = satchel_server(*flags), satchel_server(*flags)
    token = ok(httpx.post(f"{first}/api/collections/_superusers/auth-with-password", json={"identity": EMAIL, "password": PASSWORD}))["token"]
    admin = {"Authorization": token}
    ok(httpx.post(f"{first}/api/collections", headers=admin, json={
        "name": "notes", "type": "base", "listRule": "", "viewRule": "", "fields": [{"name": "title", "type": "text", "max": 50_000}],
    }))
    return first, second, admin


def test_a_record_created_through_one_instance_reaches_a_subscriber_of_the_other(pair):
    first, second, admin = pair
    stream = Stream(first)
    try:
        assert stream.subscribe(["notes/*"]).status_code == 204
        created = ok(httpx.post(f"{second}/api/collections/notes/records", headers=admin, json={"title": "from the other"}))
        event = stream.next()
        assert (event.name, event.data) == ("notes/*", {"action": "create", "record": created})
    finally:
        stream.close()


def test_subscriptions_posted_to_another_instance_apply_to_the_stream(pair):
    first, second, admin = pair
    stream = Stream(first)
    try:
        response = httpx.post(f"{second}/api/realtime", json={"clientId": stream.client_id, "subscriptions": ["notes/*"]})
        assert response.status_code == 204, response.text
        created = ok(httpx.post(f"{first}/api/collections/notes/records", headers=admin, json={"title": "x"}))
        assert stream.next().data["record"]["id"] == created["id"]
        unknown = httpx.post(f"{second}/api/realtime", json={"clientId": "nobody", "subscriptions": []})
        assert unknown.status_code == 404
    finally:
        stream.close()


def test_updates_through_both_instances_arrive_once_each_in_commit_order(pair):
    first, second, admin = pair
    record = ok(httpx.post(f"{first}/api/collections/notes/records", headers=admin, json={"title": "0"}))
    streams = [Stream(first), Stream(second)]
    try:
        for stream in streams:
            assert stream.subscribe([f"notes/{record['id']}"]).status_code == 204
        for n in range(1, 41):
            url = (first, second)[n % 2]
            ok(httpx.patch(f"{url}/api/collections/notes/records/{record['id']}", headers=admin, json={"title": str(n)}))
        ok(httpx.delete(f"{second}/api/collections/notes/records/{record['id']}", headers=admin))
        for stream in streams:
            events = stream.until(f"notes/{record['id']}", lambda data: data["action"] == "delete")
            assert [e.data["record"]["title"] for e in events] == [str(n) for n in range(1, 41)] + ["40"]
            assert [e.data["action"] for e in events] == ["update"] * 40 + ["delete"]
    finally:
        for stream in streams:
            stream.close()


def test_an_event_larger_than_a_notify_payload_is_delivered(pair):
    first, second, admin = pair
    stream = Stream(first)
    try:
        assert stream.subscribe(["notes/*"]).status_code == 204
        title = "é" * 20_000  # 40 kB: PostgreSQL's NOTIFY takes under 8000 bytes
        ok(httpx.post(f"{second}/api/collections/notes/records", headers=admin, json={"title": title}))
        assert stream.next().data["record"]["title"] == title
    finally:
        stream.close()
