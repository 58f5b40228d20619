"""Realtime inside one process: subscription options, the per-client queue, stream endings, auth changes."""

from __future__ import annotations

import asyncio
import json
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from checks import ok
from processes import SATCHEL
from sse import Stream

from satchel.app import create_app
from satchel.config import Config
from satchel.core.realtime import hub
from satchel.core.realtime.broker import QUEUE_LIMIT, Broker, Client
from satchel.core.realtime.subscriptions import Options, parse_options, snakecase, topic_of


def test_subscription_options_are_normalised_as_the_reference():
    raw = json.dumps({"query": {"filter": "a = 1", "n": 2, "f": 1.5, "b": True, "o": {"x": 1}}, "headers": {"X-Token": "t", "myTestDB": 1}})
    sub = "posts/*?options=" + quote(raw)
    assert topic_of(sub) == "posts/*"
    assert parse_options(sub) == Options(
        query={"filter": "a = 1", "n": "2", "f": "1.5", "b": "true", "o": ""}, headers={"x_token": "t", "my_test_db": "1"},
    )


def test_malformed_subscription_options_count_as_none():
    for sub in ("posts/*", "posts/*?options=", "posts/*?options={bad", "posts/*?options=[1]", "posts/*?other=1"):
        assert parse_options(sub) == Options()


def test_snakecase_keeps_abbreviations_together():
    assert [snakecase(s) for s in ("X-Token", "myTestDB", "a__b", "--")] == ["x_token", "my_test_db", "a_b", ""]


def test_the_broker_finds_subscriptions_by_topic_and_forgets_replaced_ones():
    broker, client = Broker(), Client("127.0.0.1")
    broker.register(client)
    broker.set_subscriptions(client, ["posts/*", "posts/*?options=%7B%7D", "", "users/abc"])
    assert sorted(sub for _, sub, _ in broker.listeners("posts/*")) == ["posts/*", "posts/*?options=%7B%7D"]
    broker.set_subscriptions(client, ["users/abc"])
    assert list(broker.listeners("posts/*")) == []
    broker.unregister(client)
    assert list(broker.listeners("users/abc")) == [] and not broker.clients


def test_a_client_whose_queue_overflows_is_dropped():
    client = Client("127.0.0.1")
    for n in range(QUEUE_LIMIT):
        client.push(b"m%d" % n)
    assert not client.closed and len(client.pending) == QUEUE_LIMIT
    client.push(b"one too many")
    assert client.closed and not client.pending
    client.push(b"later")
    assert not client.pending


# --- the stream, driven as an ASGI app --------------------------------------------------------------

def _scope() -> dict[str, Any]:
    return {"type": "http", "method": "GET", "path": "/api/realtime", "raw_path": b"/api/realtime", "query_string": b"",
            "headers": [], "client": ("127.0.0.1", 5000), "server": ("127.0.0.1", 8090), "scheme": "http",
            "http_version": "1.1", "root_path": ""}


def _run_stream(tmp_path: Path, send: Any, meanwhile: Any) -> None:
    """Open a stream on a fresh app and run `meanwhile(app)` beside it; returns once the stream ended."""
    app = create_app(Config(data_dir=str(tmp_path / "sb_data")))

    async def receive() -> dict[str, Any]:
        await asyncio.Event().wait()  # the client never hangs up
        return {"type": "http.disconnect"}

    async def main() -> None:
        task = asyncio.create_task(app(_scope(), receive, send))
        await meanwhile(app)
        await asyncio.wait_for(task, 10)
        await app.state.satchel.bus.stop()

    try:
        asyncio.run(main())
    finally:
        app.state.satchel.db.dispose()


def test_a_stalled_reader_is_dropped_and_its_stream_ends_once_it_reads_again(tmp_path: Path):
    sent: list[dict[str, Any]] = []
    stalled, reads_again = asyncio.Event(), asyncio.Event()

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)
        if message.get("body", b"").startswith(b"id:"):
            stalled.set()
            await reads_again.wait()  # a reader that stops reading for a while

    async def overflow(app: Any) -> None:
        await stalled.wait()
        [client] = app.state.realtime.broker.clients.values()
        for _ in range(QUEUE_LIMIT + 1):
            client.push(b"x")
        assert client.closed and not client.pending
        reads_again.set()

    _run_stream(tmp_path, send, overflow)
    assert sent[0]["status"] == 200
    assert b"PB_CONNECT" in sent[1]["body"]  # what was in flight
    assert sent[2:] == [{"type": "http.response.body", "body": b"", "more_body": False}]  # then the end


def test_a_stream_ends_after_its_idle_timeout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(hub, "IDLE_TIMEOUT", 0.05)
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    async def nothing(app: Any) -> None:
        pass

    _run_stream(tmp_path, send, nothing)
    assert b"PB_CONNECT" in sent[1]["body"]
    assert sent[-1] == {"type": "http.response.body", "body": b"", "more_body": False}


# --- auth changes, through a server ----------------------------------------------------------------

@pytest.fixture
def server(satchel_server, tmp_path: Path, db_url: str) -> tuple[str, dict[str, str]]:
    flags = ["--dir", str(tmp_path / "sb_data")] + (["--db-url", db_url] if db_url else [])
    subprocess.run([SATCHEL, "superuser", "upsert", "admin@example.com", "admin-password-1", *flags], check=True, capture_output=True)
    url = satchel_server(*flags)
    token = ok(httpx.post(f"{url}/api/collections/_superusers/auth-with-password",
                          json={"identity": "admin@example.com", "password": "admin-password-1"}))["token"]
    return url, {"Authorization": token}


def _user(url: str, admin: dict[str, str], email: str) -> tuple[dict[str, Any], str]:
    password = "a-long-password"
    user = ok(httpx.post(f"{url}/api/collections/users/records", headers=admin,
                         json={"email": email, "password": password, "passwordConfirm": password}))
    token = ok(httpx.post(f"{url}/api/collections/users/auth-with-password", json={"identity": email, "password": password}))["token"]
    return user, token


def test_a_new_password_unbinds_the_client_and_rules_see_a_guest(server):
    url, admin = server
    ok(httpx.post(f"{url}/api/collections", headers=admin, json={
        "name": "notes", "type": "base", "listRule": "@request.auth.id != ''", "viewRule": "", "fields": [{"name": "title", "type": "text"}],
    }))
    ann, ann_token = _user(url, admin, "ann@example.com")
    _, bob_token = _user(url, admin, "bob@example.com")
    stream = Stream(url)
    try:
        assert stream.subscribe(["notes/*", "public/*"], ann_token).status_code == 204
        ok(httpx.post(f"{url}/api/collections/notes/records", headers=admin, json={"title": "seen"}))
        assert stream.next().data["record"]["title"] == "seen"
        ok(httpx.patch(f"{url}/api/collections/users/records/{ann['id']}", headers=admin,
                       json={"password": "another-password", "passwordConfirm": "another-password"}))
        ok(httpx.post(f"{url}/api/collections/notes/records", headers=admin, json={"title": "not for guests"}))
        # the old binding is gone: another user may take the client over, and is then its auth
        assert stream.subscribe(["notes/*"], bob_token).status_code == 204
        ok(httpx.post(f"{url}/api/collections/notes/records", headers=admin, json={"title": "for bob"}))
        assert stream.next().data["record"]["title"] == "for bob"
    finally:
        stream.close()


def test_a_rule_change_applies_to_open_subscriptions(server):
    url, admin = server
    notes = ok(httpx.post(f"{url}/api/collections", headers=admin, json={
        "name": "notes", "type": "base", "listRule": "", "viewRule": "", "fields": [{"name": "title", "type": "text"}],
    }))
    stream = Stream(url)
    try:
        assert stream.subscribe(["notes/*"]).status_code == 204
        ok(httpx.patch(f"{url}/api/collections/{notes['id']}", headers=admin, json={"listRule": "title = 'open'"}))
        ok(httpx.post(f"{url}/api/collections/notes/records", headers=admin, json={"title": "closed"}))
        ok(httpx.post(f"{url}/api/collections/notes/records", headers=admin, json={"title": "open"}))
        assert stream.next().data["record"]["title"] == "open"
    finally:
        stream.close()


def test_a_process_serves_more_streams_than_granians_default_request_limit(satchel_server, tmp_path: Path):
    """granian serves backlog/workers = 1024 requests at once unless told otherwise, and each stream
    holds one for its whole life: past that, a subscription POST would wait forever."""
    url = satchel_server("--dir", str(tmp_path / "sb_data"), "--workers", "1")
    port = int(url.rsplit(":", 1)[1])

    async def main() -> int:
        streams = []
        for _ in range(1100):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(b"GET /api/realtime HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            streams.append((reader, writer))
        last = b""
        while b'"clientId"' not in last:
            last += await asyncio.wait_for(streams[-1][0].read(4096), 30)
        client_id = last.split(b'"clientId":"')[1].split(b'"')[0].decode()
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            response = await http.post("/api/realtime", json={"clientId": client_id, "subscriptions": ["users/*"]})
        for _, writer in streams:
            writer.close()
        return response.status_code

    assert asyncio.run(main()) == 204
