"""The Records API: CRUD, value casts, list parameters, interim rules, error envelopes."""

from __future__ import annotations

import re

import sqlalchemy as sa
from checks import ok

DOCS = {
    "name": "docs",
    "listRule": "", "viewRule": "", "createRule": "", "updateRule": "", "deleteRule": "",
    "fields": [
        {"name": "title", "type": "text"},
        {"name": "n", "type": "number"},
        {"name": "b", "type": "bool"},
        {"name": "e", "type": "email"},
        {"name": "u", "type": "url"},
        {"name": "d", "type": "date"},
        {"name": "s", "type": "select", "values": ["a", "b"]},
        {"name": "tags", "type": "select", "values": ["a", "b", "c"], "maxSelect": 3},
        {"name": "j", "type": "json"},
        {"name": "created", "type": "autodate", "onCreate": True},
        {"name": "updated", "type": "autodate", "onCreate": True, "onUpdate": True},
    ],
}
DATE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}Z$")


def _docs(client, admin, **changes):
    response = client.post("/api/collections", json={**DOCS, **changes}, headers=admin)
    assert response.status_code == 200, response.text
    return response.json()


def test_create_returns_the_record_with_sorted_keys_and_zero_values(client, admin):
    _docs(client, admin)
    response = client.post("/api/collections/docs/records", json={"title": "hi"})
    assert response.status_code == 200
    body = response.json()
    assert list(body) == sorted(body)
    assert re.fullmatch(r"[a-z0-9]{15}", body["id"])
    assert DATE.match(body["created"]) and body["created"] == body["updated"]
    assert {k: v for k, v in body.items() if k not in ("id", "created", "updated")} == {
        "b": False, "collectionId": "pbc_1985629191", "collectionName": "docs", "d": "", "e": "", "j": None,
        "n": 0, "s": "", "tags": [], "title": "hi", "u": "",
    }


def test_multipart_values_are_inferred_and_cast(client, admin):
    _docs(client, admin)
    response = client.post("/api/collections/docs/records", data={"title": "x", "n": "12", "b": "true", "j": '{"a":1}', "s": "a"})
    body = response.json()
    assert (body["title"], body["n"], body["b"], body["j"], body["s"]) == ("x", 12, True, {"a": 1}, "a")


def test_bad_values_are_field_errors(client, admin):
    _docs(client, admin)
    response = client.post("/api/collections/docs/records", json={"e": "bad", "u": "bad", "s": "zz"})
    assert response.status_code == 400
    assert response.json() == {
        "data": {
            "e": {"code": "validation_is_email", "message": "Must be a valid email address."},
            "s": {"code": "validation_invalid_value", "message": "Invalid value zz.", "params": {"value": "zz"}},
            "u": {"code": "validation_invalid_url", "message": "Must be a valid url."},
        },
        "message": "Failed to create record.",
        "status": 400,
    }


def test_the_row_is_in_the_database(client, admin, sat):
    _docs(client, admin)
    record = client.post("/api/collections/docs/records", json={"title": "stored", "tags": ["a", "c"], "j": [1, 2]}).json()
    with sat.db.engine.connect() as conn:
        row = conn.execute(sa.text("SELECT title, tags, j FROM docs WHERE id = :id"), {"id": record["id"]}).one()
    assert row.title == "stored" and row.tags == '["a","c"]' and row.j == "[1,2]"


def test_update_applies_modifiers(client, admin):
    _docs(client, admin)
    record = client.post("/api/collections/docs/records", json={"n": 5, "tags": ["a"]}).json()
    response = client.patch(f"/api/collections/docs/records/{record['id']}", json={"n+": 3, "tags+": "b", "+tags": "c"})
    assert response.status_code == 200
    assert response.json()["n"] == 8 and response.json()["tags"] == ["c", "a", "b"]
    response = client.patch(f"/api/collections/docs/records/{record['id']}", json={"tags-": ["a"], "n-": 10})
    assert response.json()["tags"] == ["c", "b"] and response.json()["n"] == -2


def test_view_and_delete(client, admin, sat):
    _docs(client, admin)
    record = client.post("/api/collections/docs/records", json={"title": "bye"}).json()
    assert client.get(f"/api/collections/docs/records/{record['id']}").json()["title"] == "bye"
    assert client.delete(f"/api/collections/docs/records/{record['id']}").status_code == 204
    missing = client.get(f"/api/collections/docs/records/{record['id']}")
    assert missing.status_code == 404
    assert missing.json() == {"data": {}, "message": "The requested resource wasn't found.", "status": 404}


def test_unknown_collection_is_missing_collection_context(client):
    response = client.get("/api/collections/nope/records")
    assert response.json() == {"data": {}, "message": "Missing collection context.", "status": 404}


def test_list_paginates_sorts_and_picks_fields(client, admin):
    _docs(client, admin)
    for title in ("b", "c", "a"):
        ok(client.post("/api/collections/docs/records", json={"title": title}))
    body = client.get("/api/collections/docs/records?sort=-title&perPage=2").json()
    assert [i["title"] for i in body["items"]] == ["c", "b"]
    assert (body["page"], body["perPage"], body["totalItems"], body["totalPages"]) == (1, 2, 3, 2)
    page2 = client.get("/api/collections/docs/records?sort=-title&perPage=2&page=2").json()
    assert [i["title"] for i in page2["items"]] == ["a"]
    skipped = client.get("/api/collections/docs/records?skipTotal=1&fields=id,title").json()
    assert skipped["totalItems"] == -1 and skipped["totalPages"] == -1
    assert set(skipped["items"][0]) == {"id", "title"}
    assert len(client.get("/api/collections/docs/records?sort=@random").json()["items"]) == 3


def test_default_order_is_creation_order(client, admin):
    _docs(client, admin)
    ids = [client.post("/api/collections/docs/records", json={"title": str(i)}).json()["id"] for i in range(4)]
    assert [i["id"] for i in client.get("/api/collections/docs/records").json()["items"]] == ids


def test_bad_list_parameters_are_400(client, admin):
    _docs(client, admin)
    for query in ("sort=nope", "page=abc"):
        response = client.get(f"/api/collections/docs/records?{query}")
        assert response.status_code == 400
        assert response.json() == {"data": {}, "message": "Something went wrong while processing your request.", "status": 400}


def test_per_page_is_capped_at_1000(client, admin):
    _docs(client, admin)
    assert client.get("/api/collections/docs/records?perPage=5000").json()["perPage"] == 1000


def test_null_rules_allow_only_superusers(client, admin):
    _docs(client, admin, listRule=None, viewRule=None, createRule=None, updateRule=None, deleteRule=None)
    denied = {"data": {}, "message": "Only superusers can perform this action.", "status": 403}
    assert client.get("/api/collections/docs/records").json() == denied
    assert client.post("/api/collections/docs/records", json={}).json() == denied
    record = client.post("/api/collections/docs/records", json={}, headers=admin).json()
    assert client.get(f"/api/collections/docs/records/{record['id']}").status_code == 403
    assert client.patch(f"/api/collections/docs/records/{record['id']}", json={}).status_code == 403
    assert client.delete(f"/api/collections/docs/records/{record['id']}").status_code == 403
    assert client.get(f"/api/collections/docs/records/{record['id']}", headers=admin).status_code == 200


def test_expression_rules_are_evaluated_per_record(client, admin):
    rule = "title = 'x'"
    _docs(client, admin, listRule=rule, viewRule=rule, createRule=rule, updateRule=rule, deleteRule=rule)
    shown = client.post("/api/collections/docs/records", json={"title": "x"}, headers=admin).json()
    hidden = client.post("/api/collections/docs/records", json={"title": "y"}, headers=admin).json()
    listed = client.get("/api/collections/docs/records").json()
    assert [item["id"] for item in listed["items"]] == [shown["id"]] and listed["totalItems"] == 1
    assert client.get(f"/api/collections/docs/records/{shown['id']}").status_code == 200
    assert client.get(f"/api/collections/docs/records/{hidden['id']}").status_code == 404
    created = client.post("/api/collections/docs/records", json={"title": "z"})
    assert created.status_code == 400 and created.json()["message"] == "Failed to create record."
    assert client.post("/api/collections/docs/records", json={"title": "x"}).status_code == 200
    assert client.patch(f"/api/collections/docs/records/{hidden['id']}", json={}).status_code == 404
    assert client.delete(f"/api/collections/docs/records/{hidden['id']}").status_code == 404
    assert client.delete(f"/api/collections/docs/records/{shown['id']}").status_code == 204


def test_hidden_fields_show_only_to_superusers(client, admin):
    ok(client.post("/api/collections", headers=admin, json={
        "name": "hid", "listRule": "", "viewRule": "", "createRule": "",
        "fields": [{"name": "secret", "type": "text", "hidden": True}],
    }))
    record = client.post("/api/collections/hid/records", json={"secret": "s1"}, headers=admin).json()
    assert record["secret"] == "s1"
    assert "secret" not in client.get(f"/api/collections/hid/records/{record['id']}").json()


def test_user_sign_up_hides_email_and_checks_the_password_confirmation(client):
    ok = client.post("/api/collections/users/records", json={"email": "u1@example.com", "password": "12345678", "passwordConfirm": "12345678"})
    assert ok.status_code == 200
    assert "email" not in ok.json() and ok.json()["verified"] is False
    mismatch = client.post("/api/collections/users/records", json={"email": "u2@example.com", "password": "123", "passwordConfirm": "1234"})
    assert mismatch.json()["data"] == {"passwordConfirm": {"code": "validation_values_mismatch", "message": "Values don't match."}}
    empty = client.post("/api/collections/users/records", json={})
    assert set(empty.json()["data"]) == {"password", "passwordConfirm"}
    dup = client.post("/api/collections/users/records", json={"email": "U1@example.com", "password": "12345678", "passwordConfirm": "12345678"})
    assert dup.json()["data"] == {"email": {"code": "validation_not_unique", "message": "Value must be unique."}}


def test_a_given_id_is_used_and_checked(client, admin):
    _docs(client, admin)
    ok = client.post("/api/collections/docs/records", json={"id": "abcdefghij12345"})
    assert ok.json()["id"] == "abcdefghij12345"
    again = client.post("/api/collections/docs/records", json={"id": "abcdefghij12345"})
    assert again.status_code == 400 and "id" in again.json()["data"]
    short = client.post("/api/collections/docs/records", json={"id": "abc"})
    assert short.json()["data"]["id"]["code"] == "validation_min_text_constraint"
