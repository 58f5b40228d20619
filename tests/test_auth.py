"""Superuser login, token refresh, and how tokens are read and rejected."""

from __future__ import annotations

import time

import jwt
from checks import ok
from conftest import ADMIN_EMAIL, ADMIN_PASSWORD


def _login(client, collection="_superusers", identity=ADMIN_EMAIL, password=ADMIN_PASSWORD):
    return client.post(f"/api/collections/{collection}/auth-with-password", json={"identity": identity, "password": password})


def test_superuser_login_returns_record_and_an_auth_token(client, admin_token, sat):
    response = _login(client)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"record", "token"}
    record = body["record"]
    assert record["collectionId"] == "pbc_3142635823"
    assert record["collectionName"] == "_superusers"
    assert record["email"] == ADMIN_EMAIL
    assert record["verified"] is True
    assert "password" not in record and "tokenKey" not in record
    claims = jwt.decode(body["token"], options={"verify_signature": False})
    assert sorted(claims) == ["collectionId", "exp", "id", "refreshable", "type"]
    assert claims["type"] == "auth" and claims["refreshable"] is True
    assert claims["id"] == record["id"]
    assert 86400 - 5 <= claims["exp"] - time.time() <= 86400 + 5


def test_the_token_is_signed_with_token_key_plus_the_collection_secret(client, admin_token, sat):
    collection = sat.superusers()
    claims = jwt.decode(admin_token, options={"verify_signature": False})
    from satchel.db import store

    row = sat.db.read_sync(store.select_record, sat.schema.table(collection), claims["id"])
    key = row["tokenKey"] + collection.token_option("authToken")["secret"]
    assert jwt.decode(admin_token, key, algorithms=["HS256"])["id"] == row["id"]


def test_wrong_password_fails_to_authenticate(client, admin_token):
    response = _login(client, password="wrong-password")
    assert response.status_code == 400
    assert response.json() == {"data": {}, "message": "Failed to authenticate.", "status": 400}


def test_missing_identity_and_password_are_field_errors(client):
    response = client.post("/api/collections/_superusers/auth-with-password", json={})
    assert response.status_code == 400
    assert response.json() == {
        "data": {
            "identity": {"code": "validation_required", "message": "Cannot be blank."},
            "password": {"code": "validation_required", "message": "Cannot be blank."},
        },
        "message": "An error occurred while validating the submitted data.",
        "status": 400,
    }


def test_login_on_a_base_collection_is_missing_auth_collection(client, admin):
    ok(client.post("/api/collections", json={"name": "posts"}, headers=admin))
    response = client.post("/api/collections/posts/auth-with-password", json={"identity": "a", "password": "b"})
    assert response.status_code == 404
    assert response.json()["message"] == "Missing or invalid auth collection context."


def test_token_works_with_and_without_bearer_prefix(client, admin_token):
    for header in (admin_token, f"Bearer {admin_token}", f"bearer {admin_token}"):
        assert client.get("/api/collections", headers={"Authorization": header}).status_code == 200


def test_an_invalid_token_is_ignored_and_the_request_is_a_guest(client, admin_token):
    response = client.get("/api/collections", headers={"Authorization": admin_token[:-2] + "xx"})
    assert response.status_code == 401
    assert response.json() == {"data": {}, "message": "The request requires valid record authorization token.", "status": 401}


def test_an_expired_token_is_ignored(client, admin_token, sat):
    claims = jwt.decode(admin_token, options={"verify_signature": False})
    from satchel.db import store

    collection = sat.superusers()
    row = sat.db.read_sync(store.select_record, sat.schema.table(collection), claims["id"])
    expired = jwt.encode({**claims, "exp": int(time.time()) - 10}, row["tokenKey"] + collection.token_option("authToken")["secret"])
    assert client.get("/api/collections", headers={"Authorization": expired}).status_code == 401


def test_a_file_token_is_not_an_auth_token(client, admin):
    file_token = client.post("/api/files/token", headers=admin).json()["token"]
    assert client.get("/api/collections", headers={"Authorization": file_token}).status_code == 401


def test_auth_refresh_returns_a_new_token_for_the_same_record(client, admin):
    response = client.post("/api/collections/_superusers/auth-refresh", headers=admin)
    assert response.status_code == 200
    assert response.json()["record"]["email"] == ADMIN_EMAIL


def test_auth_refresh_without_a_token_is_401(client):
    response = client.post("/api/collections/_superusers/auth-refresh")
    assert response.status_code == 401


def test_auth_refresh_on_another_auth_collection_is_403(client, admin):
    response = client.post("/api/collections/users/auth-refresh", headers=admin)
    assert response.status_code == 403
    assert response.json()["message"] == "The request requires auth record from _superusers collection."


def test_a_pocketbase_bcrypt_hash_verifies():
    from satchel.core.fields.password import check_password, hash_password

    # Made by PocketBase 0.40.6 (Go's bcrypt, cost 10) for the password "pass123456".
    go_hash = "$2a$10$71hanzltn/cUD5MOT3d.3OF5vGXuWEBJ9gWQEzBueeAt72m7FZSk2"
    ours = hash_password("pass123456")
    assert ours.startswith("$2a$10$")
    assert check_password("pass123456", ours)
    assert not check_password("other", ours)
    assert check_password("pass123456", go_hash)
    assert not check_password("pass1234567", go_hash)


def test_changing_the_password_revokes_earlier_tokens(client, admin, admin_token, sat):
    ok(client.post("/api/collections/users/records", json={"email": "u@example.com", "password": "12345678", "passwordConfirm": "12345678"}))
    user = _login(client, "users", "u@example.com", "12345678").json()
    user_token = user["token"]
    assert client.post("/api/collections/users/auth-refresh", headers={"Authorization": user_token}).status_code == 200
    response = client.patch(
        f"/api/collections/users/records/{user['record']['id']}",
        json={"password": "87654321", "passwordConfirm": "87654321"},
        headers=admin,
    )
    assert response.status_code == 200, response.text
    assert client.post("/api/collections/users/auth-refresh", headers={"Authorization": user_token}).status_code == 401
    assert _login(client, "users", "u@example.com", "87654321").status_code == 200
