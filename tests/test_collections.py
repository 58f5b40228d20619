"""The Collections API: JSON shape, validation, and table migrations without data loss."""

from __future__ import annotations

import sqlalchemy as sa
from checks import ok, wait_for


def _create(client, admin, body):
    return client.post("/api/collections", json=body, headers=admin)


def test_collections_need_a_superuser(client):
    assert client.get("/api/collections").status_code == 401


def test_a_fresh_install_has_superusers_and_users(client, admin):
    body = client.get("/api/collections", headers=admin).json()
    names = {c["name"]: c for c in body["items"]}
    assert {"_superusers", "users"} <= set(names)
    assert names["_superusers"]["id"] == "pbc_3142635823"
    assert names["users"]["id"] == "_pb_users_auth_"
    assert [f["name"] for f in names["users"]["fields"]] == [
        "id", "password", "tokenKey", "email", "emailVisibility", "verified", "name", "avatar", "created", "updated",
    ]
    assert names["users"]["authToken"] == {"duration": 432000}
    assert names["_superusers"]["authToken"] == {"duration": 86400}
    assert body["page"] == 1 and body["perPage"] == 30


def test_secrets_never_leave_the_server(client, admin):
    text = client.get("/api/collections/users", headers=admin).text
    assert "secret" not in text


def test_create_base_collection_has_pocketbase_ids_and_defaults(client, admin):
    response = _create(client, admin, {"name": "docs", "fields": [{"name": "title", "type": "text"}, {"name": "n", "type": "number"}]})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["id"] == "pbc_1985629191"
    assert list(body)[:13] == [
        "id", "listRule", "viewRule", "createRule", "updateRule", "deleteRule", "name", "type", "fields",
        "indexes", "created", "updated", "system",
    ]
    assert body["fields"][0]["name"] == "id" and body["fields"][0]["primaryKey"] is True
    assert body["fields"][1] == {
        "autogeneratePattern": "", "help": "", "hidden": False, "id": "text724990059", "max": 0, "min": 0,
        "name": "title", "pattern": "", "presentable": False, "primaryKey": False, "required": False,
        "system": False, "type": "text",
    }
    assert body["fields"][2]["id"] == "number2013832146"
    assert body["fields"][2]["min"] is None and body["fields"][2]["onlyInt"] is False


def test_create_auth_collection_has_the_auth_system_fields(client, admin):
    body = _create(client, admin, {"name": "members", "type": "auth"}).json()
    assert [f["name"] for f in body["fields"]] == ["id", "password", "tokenKey", "email", "emailVisibility", "verified"]
    assert body["fileToken"] == {"duration": 180}
    assert body["passwordAuth"] == {"enabled": True, "identityFields": ["email"]}
    assert body["indexes"][1] == "CREATE UNIQUE INDEX `idx_email_pbc_2620428958` ON `members` (`email`) WHERE `email` != ''"


def test_validation_errors_on_create(client, admin):
    cases = [
        ({}, {"name": {"code": "validation_required", "message": "Cannot be blank."}}),
        ({"name": "bad name"}, {"name": {"code": "validation_match_invalid", "message": "Must be in a valid format."}}),
        ({"name": "users"}, {"name": {"code": "validation_collection_name_exists", "message": "Collection name must be unique (case insensitive)."}}),
        ({"name": "x5", "type": "nope"}, {"type": {"code": "validation_in_invalid", "message": "Must be a valid value."}}),
        ({"name": "x1", "fields": [{"name": "s", "type": "select"}]}, {"fields": {"1": {"values": {"code": "validation_required", "message": "Cannot be blank."}}}}),
        ({"name": "x4", "fields": [{"name": "r", "type": "relation"}]}, {"fields": {"1": {"collectionId": {"code": "validation_required", "message": "Cannot be blank."}}}}),
        (
            {"name": "x2", "fields": [{"name": "f", "type": "file", "thumbs": ["100x", "0x0"], "maxSelect": -1}]},
            {"fields": {"1": {
                "maxSelect": {"code": "validation_min_greater_equal_than_required", "message": "Must be no less than 0.", "params": {"threshold": 0}},
                "thumbs": {"0": {"code": "validation_match_invalid", "message": "Must be in a valid format."}, "1": {"code": "validation_not_in_invalid", "message": "Must not be in list."}},
            }}},
        ),
    ]
    for body, data in cases:
        response = _create(client, admin, body)
        assert response.status_code == 400, body
        assert response.json() == {"data": data, "message": "Failed to create collection.", "status": 400}


def test_unknown_field_type_is_invalid_formatting(client, admin):
    response = _create(client, admin, {"name": "x7", "fields": [{"name": "q", "type": "unknown"}]})
    assert response.status_code == 400
    assert response.json()["message"] == "Failed to load the submitted data due to invalid formatting."


def test_malformed_json_is_a_400(client, admin):
    response = client.post("/api/collections", content=b"{bad", headers={**admin, "Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json()["data"] == {}


def _rows(sat, name):
    with sat.db.engine.connect() as conn:
        table = sa.Table(name, sa.MetaData(), autoload_with=conn)
        return [dict(r) for r in conn.execute(sa.select(table)).mappings()], [c.name for c in table.columns]


def test_update_adds_renames_and_removes_columns_keeping_data(client, admin, sat):
    created = _create(client, admin, {
        "name": "notes", "listRule": "", "createRule": "",
        "fields": [{"name": "title", "type": "text"}, {"name": "body", "type": "text"}, {"name": "gone", "type": "number"}],
    }).json()
    record = client.post("/api/collections/notes/records", json={"title": "hello", "body": "world", "gone": 3}).json()
    title = next(f for f in created["fields"] if f["name"] == "title")
    body = next(f for f in created["fields"] if f["name"] == "body")
    response = client.patch("/api/collections/notes", headers=admin, json={
        "name": "memos",
        "fields": [{**title, "name": "heading"}, body, {"name": "stars", "type": "number"}],
    })
    assert response.status_code == 200, response.text
    rows, columns = _rows(sat, "memos")
    assert columns == ["id", "heading", "body", "stars"]
    assert rows == [{"id": record["id"], "heading": "hello", "body": "world", "stars": 0}]
    listed = client.get("/api/collections/memos/records").json()["items"]
    assert listed[0]["heading"] == "hello" and listed[0]["stars"] == 0 and "gone" not in listed[0]


def test_switching_a_select_to_multiple_converts_the_stored_values(client, admin, sat):
    created = _create(client, admin, {"name": "tagged", "listRule": "", "createRule": "", "fields": [{"name": "tag", "type": "select", "values": ["a", "b"]}]}).json()
    ok(client.post("/api/collections/tagged/records", json={"tag": "b"}))
    tag = created["fields"][1]
    ok(client.patch("/api/collections/tagged", headers=admin, json={"fields": [{**tag, "maxSelect": 2}]}))
    assert client.get("/api/collections/tagged/records").json()["items"][0]["tag"] == ["b"]


def test_delete_collection_drops_its_table(client, admin, sat):
    _create(client, admin, {"name": "temp"})
    response = client.delete("/api/collections/temp", headers=admin)
    assert response.status_code == 204
    assert "temp" not in sa.inspect(sat.db.engine).get_table_names()
    assert client.get("/api/collections/temp", headers=admin).status_code == 404


def test_system_collections_cannot_be_deleted(client, admin):
    assert client.delete("/api/collections/_superusers", headers=admin).status_code == 400


def test_a_second_process_sees_a_collection_created_through_the_first(client, admin, config):
    from starlette.testclient import TestClient

    from satchel.app import create_app

    other = create_app(config)
    with TestClient(other) as second:
        # On PostgreSQL the news travels by NOTIFY: seen within moments, not necessarily at once.
        _create(client, admin, {"name": "shared", "listRule": "", "createRule": ""})
        wait_for(lambda: second.post("/api/collections/shared/records", json={}).status_code == 200)
        ok(client.patch("/api/collections/shared", headers=admin, json={"fields": [{"name": "extra", "type": "text"}]}))
        wait_for(lambda: second.post("/api/collections/shared/records", json={"extra": "seen"}).json().get("extra") == "seen")
    other.state.satchel.dispose()


def test_the_collection_list_sorts_and_picks_fields_like_the_reference(client, admin):
    for name in ("zeta", "alpha"):
        _create(client, admin, {"name": name})
    body = client.get("/api/collections?sort=-system,name&fields=name,system", headers=admin).json()
    system = ["_authOrigins", "_externalAuths", "_mfas", "_otps", "_superusers"]
    assert body["items"] == [
        *({"name": name, "system": True} for name in system), {"name": "alpha", "system": False},
        {"name": "users", "system": False}, {"name": "zeta", "system": False},
    ]
    names = [c["name"] for c in client.get("/api/collections?sort=-name", headers=admin).json()["items"]]
    assert names == ["zeta", "users", "alpha", *reversed(system)]
    assert client.get("/api/collections?sort=nope", headers=admin).status_code == 400


def test_a_geo_point_field_added_to_a_table_with_rows_reads_as_the_zero_point(client, admin):
    ok(client.post("/api/collections", headers=admin, json={"name": "places", "createRule": "", "viewRule": "", "fields": [{"name": "t", "type": "text"}]}))
    record = client.post("/api/collections/places/records", json={"t": "x"}).json()
    fields = client.get("/api/collections/places", headers=admin).json()["fields"]
    added = client.patch("/api/collections/places", headers=admin, json={"fields": [*fields, {"name": "g", "type": "geoPoint"}]})
    assert added.status_code == 200, added.text
    assert client.get(f"/api/collections/places/records/{record['id']}").json()["g"] == {"lon": 0, "lat": 0}
    moved = client.post("/api/collections/places/records", json={"g": {"lon": 1.5, "lat": -2}})
    assert moved.json()["g"] == {"lon": 1.5, "lat": -2}


def test_a_value_the_database_cannot_hold_is_a_400(client, admin):
    users = client.get("/api/collections/users", headers=admin).json()["id"]
    ok(client.post("/api/collections", headers=admin, json={"name": "refs", "createRule": "", "fields": [
        {"name": "r", "type": "relation", "collectionId": users}, {"name": "t", "type": "text"}]}))
    # PostgreSQL text can't hold NUL; SQLite can, and no user has that id either way.
    response = client.post("/api/collections/refs/records", json={"r": "\u0000", "t": "a"})
    assert response.status_code == 400, response.text
