"""Superuser auth through PyPI's pocketbase SDK: auth_with_password, auth_refresh, bad credentials.

Not asserted: `auth_store.is_superuser`. The SDK looks for `collection_id`/`collection_name` claims,
but PocketBase's tokens carry `collectionId`, so it is False for every token, the reference's too.
"""

from __future__ import annotations

import time

import pytest
from pocketbase import PocketBase
from pocketbase.errors import ClientResponseError
from sdkhelpers import SUPERUSER_EMAIL, SUPERUSER_PASSWORD, SUPERUSERS_ID, jwt_claims


def test_superuser_auth_with_password_fills_the_auth_store(server_url):
    pb = PocketBase(server_url)
    auth = pb.collection("_superusers").auth_with_password(SUPERUSER_EMAIL, SUPERUSER_PASSWORD)

    assert auth.record.email == SUPERUSER_EMAIL
    assert auth.record.collection_id == SUPERUSERS_ID
    assert auth.record.collection_name == "_superusers"
    assert not hasattr(auth.record, "password") and not hasattr(auth.record, "token_key")
    assert auth.is_valid
    assert pb.auth_store.token == auth.token
    assert pb.auth_store.model.id == auth.record.id
    assert pb.auth_store.is_valid
    claims = jwt_claims(auth.token)
    assert (claims["type"], claims["id"], claims["collectionId"], claims["refreshable"]) == ("auth", auth.record.id, SUPERUSERS_ID, True)
    assert 86400 - 60 < claims["exp"] - time.time() <= 86400 + 5


def test_superuser_only_endpoints_need_the_token(server_url):
    pb = PocketBase(server_url)
    with pytest.raises(ClientResponseError) as denied:
        pb.collections.get_full_list()
    assert denied.value.status == 401

    pb.collection("_superusers").auth_with_password(SUPERUSER_EMAIL, SUPERUSER_PASSWORD)
    names = {c.name for c in pb.collections.get_full_list()}
    assert {"_superusers", "users"} <= names


def test_auth_refresh_returns_a_new_token_for_the_same_superuser(admin):
    first = admin.auth_store.token
    time.sleep(1.1)  # a new second, so a new exp
    refreshed = admin.collection("_superusers").auth_refresh()

    assert refreshed.record.id == admin.auth_store.model.id
    assert refreshed.record.email == SUPERUSER_EMAIL
    assert refreshed.token != first
    assert admin.auth_store.token == refreshed.token
    assert jwt_claims(refreshed.token)["exp"] > jwt_claims(first)["exp"]
    assert admin.collections.get_list(1, 1).total_items >= 2


def test_auth_refresh_without_a_token_is_rejected_with_401(server_url):
    with pytest.raises(ClientResponseError) as err:
        PocketBase(server_url).collection("_superusers").auth_refresh()
    assert err.value.status == 401


def test_a_wrong_password_is_rejected_with_400(server_url):
    pb = PocketBase(server_url)
    with pytest.raises(ClientResponseError) as err:
        pb.collection("_superusers").auth_with_password(SUPERUSER_EMAIL, "not-the-password")
    assert err.value.status == 400
    assert err.value.data["message"] == "Failed to authenticate."
    assert pb.auth_store.token == ""
