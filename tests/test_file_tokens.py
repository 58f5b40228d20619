"""`POST /api/files/token` and protected files: only a file token in `?token=` counts."""

from __future__ import annotations

import time

import jwt
import pytest
from checks import ok

NOT_FOUND = {"data": {}, "message": "The requested resource wasn't found.", "status": 404}


def _user(client, email="user@example.com"):
    ok(client.post("/api/collections/users/records", json={"email": email, "password": "12345678", "passwordConfirm": "12345678"}))
    return client.post("/api/collections/users/auth-with-password", json={"identity": email, "password": "12345678"}).json()


def _protected(client, admin, view_rule):
    ok(client.post("/api/collections", headers=admin, json={
        "name": "vault", "viewRule": view_rule,
        "fields": [{"name": "doc", "type": "file", "protected": True}, {"name": "open", "type": "file"}],
    }))
    record = client.post(
        "/api/collections/vault/records", headers=admin,
        files=[("doc", ("secret.txt", b"top secret", "text/plain")), ("open", ("public.txt", b"public", "text/plain"))],
    ).json()
    return record


def test_a_guest_cannot_get_a_file_token(client):
    response = client.post("/api/files/token")
    assert response.status_code == 401
    assert response.json() == {"data": {}, "message": "The request requires valid record authorization token.", "status": 401}


def test_a_superuser_file_token_has_the_reference_claims(client, admin, sat):
    token = client.post("/api/files/token", headers=admin).json()["token"]
    claims = jwt.decode(token, options={"verify_signature": False})
    assert sorted(claims) == ["collectionId", "exp", "id", "type"]
    assert claims["type"] == "file" and claims["collectionId"] == "pbc_3142635823"
    assert 175 <= claims["exp"] - time.time() <= 185


def test_a_user_gets_a_file_token_too(client):
    user = _user(client)
    response = client.post("/api/files/token", headers={"Authorization": user["token"]})
    assert response.status_code == 200
    assert jwt.decode(response.json()["token"], options={"verify_signature": False})["id"] == user["record"]["id"]


def test_file_token_duration_follows_the_collection_option(client, admin):
    ok(client.patch("/api/collections/users", headers=admin, json={"fileToken": {"duration": 600}}))
    user = _user(client)
    token = client.post("/api/files/token", headers={"Authorization": user["token"]}).json()["token"]
    assert 595 <= jwt.decode(token, options={"verify_signature": False})["exp"] - time.time() <= 605


def test_protected_file_needs_a_file_token_in_the_query(client, admin):
    record = _protected(client, admin, view_rule=None)
    url = f"/api/files/vault/{record['id']}/{record['doc']}"
    user = _user(client)
    superuser_file_token = client.post("/api/files/token", headers=admin).json()["token"]
    user_file_token = client.post("/api/files/token", headers={"Authorization": user["token"]}).json()["token"]
    assert client.get(url).json() == NOT_FOUND
    assert client.get(url, headers=admin).status_code == 404
    assert client.get(url, params={"token": admin["Authorization"]}).status_code == 404
    assert client.get(url, params={"token": user_file_token}).status_code == 404
    allowed = client.get(url, params={"token": superuser_file_token})
    assert allowed.status_code == 200 and allowed.content == b"top secret"


def test_an_expired_or_forged_file_token_is_a_guest(client, admin, sat):
    record = _protected(client, admin, view_rule=None)
    url = f"/api/files/vault/{record['id']}/{record['doc']}"
    token = client.post("/api/files/token", headers=admin).json()["token"]
    claims = jwt.decode(token, options={"verify_signature": False})
    expired = jwt.encode({**claims, "exp": int(time.time()) - 1}, "whatever")
    assert client.get(url, params={"token": expired}).status_code == 404
    assert client.get(url, params={"token": token[:-3] + "abc"}).status_code == 404


def test_a_public_view_rule_opens_protected_files_to_everyone(client, admin):
    record = _protected(client, admin, view_rule="")
    response = client.get(f"/api/files/vault/{record['id']}/{record['doc']}")
    assert response.status_code == 200 and response.content == b"top secret"


def test_unprotected_fields_ignore_the_view_rule(client, admin):
    record = _protected(client, admin, view_rule=None)
    assert client.get(f"/api/files/vault/{record['id']}/{record['open']}").content == b"public"


@pytest.mark.parametrize("storage_kind", ["s3"], indirect=True)
def test_protected_files_work_on_s3(client, admin, storage_kind):
    record = _protected(client, admin, view_rule=None)
    url = f"/api/files/vault/{record['id']}/{record['doc']}"
    token = client.post("/api/files/token", headers=admin).json()["token"]
    assert client.get(url).status_code == 404
    assert client.get(url, params={"token": token}).content == b"top secret"
