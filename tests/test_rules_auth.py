"""Auth collections: the auth form's rules, manageRule and authRule, token rotation, auth-methods."""

from __future__ import annotations

from checks import ok

PASSWORD = "12345678"


def _sign_up(client, email: str, **extra) -> dict:
    response = client.post("/api/collections/users/records", json={"email": email, "password": PASSWORD, "passwordConfirm": PASSWORD, **extra})
    assert response.status_code == 200, response.text
    return response.json()


def _login(client, email: str, password: str = PASSWORD) -> dict[str, str]:
    response = client.post("/api/collections/users/auth-with-password", json={"identity": email, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": response.json()["token"]}


def _refreshes(client, headers) -> bool:
    return client.post("/api/collections/users/auth-refresh", headers=headers).status_code == 200


def test_changing_the_email_ends_earlier_auth_and_file_tokens(client, admin):
    user = _sign_up(client, "ann@example.com")
    headers = _login(client, "ann@example.com")
    file_token = client.post("/api/files/token", headers=headers).json()["token"]
    assert client.post("/api/files/token", headers=headers).status_code == 200
    changed = client.patch(f"/api/collections/users/records/{user['id']}", json={"email": "ann2@example.com"}, headers=admin)
    assert changed.status_code == 200
    assert not _refreshes(client, headers)
    assert client.post("/api/files/token", headers={"Authorization": file_token}).status_code == 401
    assert _refreshes(client, _login(client, "ann2@example.com"))


def test_a_user_changes_their_password_only_with_the_old_one(client):
    user = _sign_up(client, "ann@example.com")
    headers = _login(client, "ann@example.com")
    url = f"/api/collections/users/records/{user['id']}"
    missing = client.patch(url, json={"password": "new-pass-1", "passwordConfirm": "new-pass-1"}, headers=headers)
    assert missing.json()["data"] == {"oldPassword": {"code": "validation_required", "message": "Cannot be blank."}}
    wrong = client.patch(url, json={"password": "new-pass-1", "passwordConfirm": "new-pass-1", "oldPassword": "nope"}, headers=headers)
    assert wrong.json()["data"]["oldPassword"]["code"] == "validation_invalid_old_password"
    ok = client.patch(url, json={"password": "new-pass-1", "passwordConfirm": "new-pass-1", "oldPassword": PASSWORD}, headers=headers)
    assert ok.status_code == 200
    assert not _refreshes(client, headers)
    assert _refreshes(client, _login(client, "ann@example.com", "new-pass-1"))


def test_only_managers_change_email_and_verified(client, admin):
    ok(client.patch("/api/collections/users", headers=admin, json={
        "fields": [{"name": "role", "type": "text"}],
        "updateRule": "id = @request.auth.id || @request.auth.role = 'admin'",
        "viewRule": "id = @request.auth.id || @request.auth.role = 'admin'",
        "manageRule": "@request.auth.role = 'admin'",
    }))
    boss = _sign_up(client, "boss@example.com")
    ok(client.patch(f"/api/collections/users/records/{boss['id']}", json={"role": "admin"}, headers=admin))
    user = _sign_up(client, "ann@example.com")
    own = _login(client, "ann@example.com")
    url = f"/api/collections/users/records/{user['id']}"
    refused = client.patch(url, json={"email": "x@example.com", "verified": True}, headers=own)
    assert refused.status_code == 400 and sorted(refused.json()["data"]) == ["email", "verified"]
    manager = _login(client, "boss@example.com")
    seen = client.get(url, headers=manager).json()
    assert seen["email"] == "ann@example.com"  # managers see emails whatever emailVisibility says
    done = client.patch(url, json={"email": "x@example.com", "verified": True, "password": "other-123", "passwordConfirm": "other-123"}, headers=manager)
    assert done.status_code == 200 and done.json()["verified"] is True
    assert _refreshes(client, _login(client, "x@example.com", "other-123"))


def test_a_guest_cannot_sign_up_already_verified(client):
    response = client.post("/api/collections/users/records", json={
        "email": "ann@example.com", "password": PASSWORD, "passwordConfirm": PASSWORD, "verified": True,
    })
    assert response.json() == {
        "data": {"verified": {"code": "validation_values_mismatch", "message": "Values don't match."}},
        "message": "Failed to create record.", "status": 400,
    }


def test_the_auth_rule_decides_who_may_log_in(client, admin):
    ok(client.patch("/api/collections/users", headers=admin, json={"authRule": "verified = true"}))
    user = _sign_up(client, "ann@example.com")
    refused = client.post("/api/collections/users/auth-with-password", json={"identity": "ann@example.com", "password": PASSWORD})
    assert refused.json() == {"data": {}, "message": "The request doesn't satisfy the collection requirements to authenticate.", "status": 403}
    ok(client.patch(f"/api/collections/users/records/{user['id']}", json={"verified": True}, headers=admin))
    assert _refreshes(client, _login(client, "ann@example.com"))


def test_auth_methods_list_the_identity_fields_of_enabled_password_auth(client, admin):
    ok(client.post("/api/collections", headers=admin, json={
        "name": "members", "type": "auth", "fields": [{"name": "username", "type": "text"}],
        "indexes": ["CREATE UNIQUE INDEX `idx_members_username` ON `members` (`username`)"],
        "passwordAuth": {"enabled": True, "identityFields": ["email", "username"]},
    }))
    body = client.get("/api/collections/members/auth-methods").json()
    assert body["password"] == {"identityFields": ["email", "username"], "enabled": True}
    assert body["usernamePassword"] is True and body["emailPassword"] is True
    ok(client.patch("/api/collections/members", headers=admin, json={"passwordAuth": {"enabled": False}}))
    body = client.get("/api/collections/members/auth-methods").json()
    assert body["password"] == {"identityFields": [], "enabled": False}
    assert body["usernamePassword"] is False and body["emailPassword"] is False
