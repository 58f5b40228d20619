"""collections.create through PyPI's pocketbase SDK: a base collection with file fields, an auth collection."""

from __future__ import annotations

import pytest
from pocketbase.errors import ClientResponseError
from sdkhelpers import docs_collection, unique


def _fields(collection) -> dict[str, dict]:
    return {f["name"]: f for f in collection.fields}


def test_create_a_base_collection_with_text_single_multi_and_protected_file_fields(admin):
    name = unique("docs")
    created = admin.collections.create(docs_collection(name, viewRule=None))

    assert created.id.startswith("pbc_")
    assert (created.name, created.type, created.list_rule, created.view_rule) == (name, "base", "", None)
    fields = _fields(created)
    assert fields["title"]["type"] == "text" and fields["title"]["required"] is True
    assert (fields["cover"]["type"], fields["cover"]["maxSelect"], fields["cover"]["mimeTypes"]) == ("file", 1, ["image/png", "image/jpeg"])
    assert (fields["images"]["maxSelect"], fields["images"]["thumbs"]) == (5, ["50x50", "0x80", "120x0", "300x300f"])
    assert fields["secret"]["protected"] is True

    fetched = admin.collections.get_one(name)
    assert fetched.id == created.id
    assert _fields(fetched)["images"]["thumbs"] == ["50x50", "0x80", "120x0", "300x300f"]


def test_create_an_auth_collection(admin):
    name = unique("members")
    created = admin.collections.create(
        {
            "name": name,
            "type": "auth",
            "createRule": "",
            "fields": [{"name": "nickname", "type": "text", "max": 40}, {"name": "avatar", "type": "file", "maxSelect": 1}],
            "passwordAuth": {"enabled": True, "identityFields": ["email"]},
        }
    )
    assert created.is_auth()
    assert created.create_rule == ""
    fields = _fields(created)
    assert {"id", "password", "tokenKey", "email", "emailVisibility", "verified", "nickname", "avatar"} <= set(fields)
    assert fields["password"]["hidden"] is True and fields["tokenKey"]["hidden"] is True
    # The SDK's Collection model keeps no auth options; read them back raw.
    raw = admin.send(f"/api/collections/{name}", {"method": "GET"})
    assert raw["passwordAuth"] == {"enabled": True, "identityFields": ["email"]}
    assert (raw["authToken"]["duration"], raw["fileToken"]["duration"]) == (432000, 180)
    assert "secret" not in raw["authToken"]


def test_create_rejects_an_invalid_thumb_size(admin):
    body = docs_collection(unique("badthumbs"))
    body["fields"][4]["thumbs"] = ["100x"]
    with pytest.raises(ClientResponseError) as err:
        admin.collections.create(body)
    assert err.value.status == 400
    assert "validation_match_invalid" in str(err.value.data)


def test_get_full_list_and_delete(admin):
    name = unique("scratch")
    admin.collections.create({"name": name, "type": "base", "fields": [{"name": "title", "type": "text"}]})
    names = [c.name for c in admin.collections.get_full_list(query_params={"sort": "name"})]
    assert name in names
    assert names == sorted(names)

    assert admin.collections.delete(name) is True
    assert name not in [c.name for c in admin.collections.get_full_list()]
    with pytest.raises(ClientResponseError) as err:
        admin.collections.get_one(name)
    assert err.value.status == 404
