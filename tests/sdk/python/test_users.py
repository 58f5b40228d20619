"""Users through PyPI's pocketbase SDK: sign-up, login, refresh, file tokens, protected files by view rule."""

from __future__ import annotations

import re
import time

import httpx
import pytest
from pocketbase import PocketBase
from pocketbase.errors import ClientResponseError
from pocketbase.models import FileUpload
from sdkhelpers import image_size, jwt_claims, png, unique

PASSWORD = "user-password-123"
PNG = png(64, 48)


@pytest.fixture
def users_id(admin) -> str:
    return admin.collections.get_one("users").id


def sign_up_and_login(url: str, label: str) -> PocketBase:
    email = f"{unique(label)}@example.com"
    PocketBase(url).collection("users").create({"email": email, "password": PASSWORD, "passwordConfirm": PASSWORD, "name": label})
    pb = PocketBase(url)
    pb.collection("users").auth_with_password(email, PASSWORD)
    return pb


def test_a_guest_signs_up_and_logs_in(server_url, users_id):
    email = f"{unique('signup')}@example.com"
    guest = PocketBase(server_url)
    created = guest.collection("users").create(
        {"email": email, "password": PASSWORD, "passwordConfirm": PASSWORD, "name": "Sign Up", "emailVisibility": True}
    )
    assert (created.collection_name, created.email, created.verified) == ("users", email, False)
    assert guest.auth_store.token == ""

    pb = PocketBase(server_url)
    auth = pb.collection("users").auth_with_password(email, PASSWORD)
    assert (auth.record.id, auth.record.email, auth.record.name) == (created.id, email, "Sign Up")
    claims = jwt_claims(auth.token)
    assert (claims["type"], claims["id"], claims["collectionId"]) == ("auth", created.id, users_id)

    refreshed = pb.collection("users").auth_refresh()
    assert refreshed.record.id == created.id
    assert pb.auth_store.model.email == email


def test_sign_up_errors(server_url):
    guest = PocketBase(server_url)
    email = f"{unique('dupe')}@example.com"
    with pytest.raises(ClientResponseError) as err:
        guest.collection("users").create({"email": email, "password": PASSWORD, "passwordConfirm": "something-else"})
    assert err.value.data["data"]["passwordConfirm"]["code"] == "validation_values_mismatch"
    guest.collection("users").create({"email": email, "password": PASSWORD, "passwordConfirm": PASSWORD})
    with pytest.raises(ClientResponseError) as err:
        guest.collection("users").create({"email": email, "password": PASSWORD, "passwordConfirm": PASSWORD})
    assert err.value.data["data"]["email"]["code"] == "validation_not_unique"


def test_a_wrong_user_password_is_rejected(server_url):
    email = sign_up_and_login(server_url, "wrongpass").auth_store.model.email
    with pytest.raises(ClientResponseError) as err:
        PocketBase(server_url).collection("users").auth_with_password(email, "nope-nope-nope")
    assert err.value.status == 400


def test_a_user_reads_and_updates_their_own_record(server_url):
    pb = sign_up_and_login(server_url, "self")
    me = pb.auth_store.model
    assert pb.collection("users").get_one(me.id).email == me.email

    updated = pb.collection("users").update(me.id, {"name": "Renamed", "avatar": FileUpload(("me.png", PNG))})
    assert updated.name == "Renamed"
    assert re.fullmatch(r"me[a-z0-9]{10}_[a-z0-9]{10}\.png", updated.avatar)
    assert pb.auth_store.model.name == "Renamed"
    avatar = httpx.get(pb.files.get_url(updated, updated.avatar, {"thumb": "100x100"}))
    assert image_size(avatar.content) == ("PNG", 100, 100)

    other = sign_up_and_login(server_url, "other")
    with pytest.raises(ClientResponseError) as err:
        other.collection("users").get_one(me.id)
    assert err.value.status == 404
    assert [u.id for u in other.collection("users").get_full_list()] == [other.auth_store.model.id]


def test_get_token_as_a_user(server_url, users_id):
    pb = sign_up_and_login(server_url, "tokens")
    claims = jwt_claims(pb.files.get_token())
    assert (claims["type"], claims["id"], claims["collectionId"]) == ("file", pb.auth_store.model.id, users_id)
    assert 170 < claims["exp"] - time.time() <= 185


def vault(admin, users_id: str, view_rule: str | None, owner: PocketBase | None = None):
    name = unique("vault")
    admin.collections.create(
        {
            "name": name,
            "type": "base",
            "listRule": view_rule,
            "viewRule": view_rule,
            "fields": [
                {"name": "owner", "type": "relation", "collectionId": users_id, "maxSelect": 1},
                {"name": "doc", "type": "file", "maxSelect": 1, "protected": True},
            ],
        }
    )
    owner_id = owner.auth_store.model.id if owner else ""
    return admin.collection(name).create({"owner": owner_id, "doc": FileUpload(("doc.png", PNG))})


def status(pb: PocketBase, record, **params) -> int:
    return httpx.get(pb.files.get_url(record, record.doc, params)).status_code


def test_protected_file_with_an_owner_rule(server_url, admin, users_id):
    owner, stranger = sign_up_and_login(server_url, "owner"), sign_up_and_login(server_url, "stranger")
    record = vault(admin, users_id, "owner = @request.auth.id", owner)

    mine = httpx.get(owner.files.get_url(record, record.doc, {"token": owner.files.get_token()}))
    assert mine.status_code == 200 and mine.content == PNG
    assert status(owner, record, token=stranger.files.get_token()) == 404
    assert status(owner, record) == 404
    assert httpx.get(owner.files.get_url(record, record.doc), headers={"Authorization": owner.auth_store.token}).status_code == 404
    assert status(owner, record, token=owner.auth_store.token) == 404
    assert status(owner, record, token=admin.files.get_token()) == 200
    assert [r.id for r in owner.collection(record.collection_name).get_full_list()] == [record.id]
    assert stranger.collection(record.collection_name).get_full_list() == []


def test_protected_file_with_a_users_only_rule(server_url, admin, users_id):
    user = sign_up_and_login(server_url, "member")
    record = vault(admin, users_id, "@request.auth.id != '' && @request.auth.collectionName = 'users'")
    assert status(user, record, token=user.files.get_token()) == 200
    assert status(user, record) == 404


def test_protected_file_with_a_null_rule(server_url, admin, users_id):
    user = sign_up_and_login(server_url, "nullrule")
    record = vault(admin, users_id, None, user)
    assert status(user, record, token=user.files.get_token()) == 404
    assert status(user, record, token=admin.files.get_token()) == 200


def test_protected_file_with_an_empty_rule_is_open_to_guests(server_url, admin, users_id):
    record = vault(admin, users_id, "")
    assert httpx.get(PocketBase(server_url).files.get_url(record, record.doc)).content == PNG
