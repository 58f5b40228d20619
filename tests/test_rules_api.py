"""API rules through the Records and Files APIs: each rule's semantics, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

BAD_REQUEST = {"data": {}, "message": "Something went wrong while processing your request.", "status": 400}
NOT_FOUND = {"data": {}, "message": "The requested resource wasn't found.", "status": 404}
SUPERUSERS_ONLY = {"data": {}, "message": "Only superusers can perform this action.", "status": 403}
PASSWORD = "12345678"


def _user(client, email: str, name: str = "") -> dict:
    created = client.post("/api/collections/users/records",
                          json={"email": email, "password": PASSWORD, "passwordConfirm": PASSWORD, "name": name})
    assert created.status_code == 200, created.text
    auth = client.post("/api/collections/users/auth-with-password", json={"identity": email, "password": PASSWORD}).json()
    return {"id": auth["record"]["id"], "headers": {"Authorization": auth["token"]}}


def _notes(client, admin, **rules) -> None:
    body = {
        "name": "notes",
        "fields": [
            {"name": "title", "type": "text"},
            {"name": "public", "type": "bool"},
            {"name": "owner", "type": "relation", "collectionId": "_pb_users_auth_", "maxSelect": 1},
            {"name": "secret", "type": "text", "hidden": True},
            {"name": "doc", "type": "file", "protected": True},
        ],
        **rules,
    }
    response = client.post("/api/collections", json=body, headers=admin)
    assert response.status_code == 200, response.text


def _note(client, admin, **values) -> dict:
    response = client.post("/api/collections/notes/records", json=values, headers=admin)
    assert response.status_code == 200, response.text
    return response.json()


def _ids(response) -> list[str]:
    assert response.status_code == 200, response.text
    return sorted(item["id"] for item in response.json()["items"])


@pytest.fixture
def two_users(client):
    return _user(client, "ann@example.com", "Ann"), _user(client, "bob@example.com", "Bob")


OWNER = "owner = @request.auth.id"


def test_owner_rules_let_each_user_reach_only_their_own_records(client, admin, two_users):
    ann, bob = two_users
    _notes(client, admin, listRule=OWNER, viewRule=OWNER, updateRule=OWNER, deleteRule=OWNER,
           createRule="owner = @request.auth.id")
    mine = _note(client, admin, title="a", owner=ann["id"])
    theirs = _note(client, admin, title="b", owner=bob["id"])
    assert _ids(client.get("/api/collections/notes/records", headers=ann["headers"])) == [mine["id"]]
    assert client.get(f"/api/collections/notes/records/{mine['id']}", headers=ann["headers"]).status_code == 200
    assert client.get(f"/api/collections/notes/records/{theirs['id']}", headers=ann["headers"]).json() == NOT_FOUND
    assert client.patch(f"/api/collections/notes/records/{theirs['id']}", json={"title": "x"}, headers=ann["headers"]).status_code == 404
    assert client.patch(f"/api/collections/notes/records/{mine['id']}", json={"title": "x"}, headers=ann["headers"]).json()["title"] == "x"
    assert client.delete(f"/api/collections/notes/records/{theirs['id']}", headers=ann["headers"]).status_code == 404
    assert client.delete(f"/api/collections/notes/records/{mine['id']}", headers=ann["headers"]).status_code == 204


def test_a_failing_create_rule_is_a_400_and_a_passing_one_creates(client, admin, two_users):
    ann, bob = two_users
    _notes(client, admin, createRule=OWNER)
    refused = client.post("/api/collections/notes/records", json={"title": "t", "owner": bob["id"]}, headers=ann["headers"])
    assert refused.json() == {"data": {}, "message": "Failed to create record.", "status": 400}
    assert client.post("/api/collections/notes/records", json={"title": "t", "owner": bob["id"]}).status_code == 400
    created = client.post("/api/collections/notes/records", json={"title": "t", "owner": ann["id"]}, headers=ann["headers"])
    assert created.status_code == 200 and created.json()["owner"] == ann["id"]


def test_null_rules_answer_403_to_everyone_but_superusers(client, admin, two_users):
    ann, _ = two_users
    _notes(client, admin)
    note = _note(client, admin, title="a")
    url = f"/api/collections/notes/records/{note['id']}"
    for headers in ({}, ann["headers"]):
        assert client.get("/api/collections/notes/records", headers=headers).json() == SUPERUSERS_ONLY
        assert client.get(url, headers=headers).json() == SUPERUSERS_ONLY
        assert client.post("/api/collections/notes/records", json={}, headers=headers).json() == SUPERUSERS_ONLY
        assert client.patch(url, json={}, headers=headers).json() == SUPERUSERS_ONLY
        assert client.delete(url, headers=headers).json() == SUPERUSERS_ONLY
    assert client.get(url, headers=admin).status_code == 200


def test_a_list_rule_filters_silently_and_combines_with_the_filter(client, admin):
    _notes(client, admin, listRule="public = true")
    shown = _note(client, admin, title="shown", public=True)
    _note(client, admin, title="hidden", public=False)
    other = _note(client, admin, title="other", public=True)
    assert _ids(client.get("/api/collections/notes/records")) == sorted([shown["id"], other["id"]])
    assert _ids(client.get("/api/collections/notes/records", params={"filter": "title = 'shown'"})) == [shown["id"]]
    assert _ids(client.get("/api/collections/notes/records", params={"filter": "title = 'hidden'"})) == []
    assert client.get("/api/collections/notes/records", params={"filter": "title = 'hidden'"}).json()["totalItems"] == 0


def test_the_default_users_rules_show_a_user_only_themselves(client, two_users):
    ann, bob = two_users
    assert _ids(client.get("/api/collections/users/records", headers=ann["headers"])) == [ann["id"]]
    assert client.get(f"/api/collections/users/records/{bob['id']}", headers=ann["headers"]).status_code == 404
    assert _ids(client.get("/api/collections/users/records")) == []
    assert client.patch(f"/api/collections/users/records/{bob['id']}", json={"name": "x"}, headers=ann["headers"]).status_code == 404
    assert client.patch(f"/api/collections/users/records/{ann['id']}", json={"name": "Annie"}, headers=ann["headers"]).json()["name"] == "Annie"


def test_request_fields_in_filters_are_for_superusers_only(client, admin):
    _notes(client, admin, listRule="")
    for prefix in ("@request.", "@collection."):
        response = client.get("/api/collections/notes/records", params={"filter": f"{prefix}x.y = 1"})
        assert response.json() == {"data": {}, "message": f"Only superusers can filter by {prefix}", "status": 403}
    assert client.get("/api/collections/notes/records", params={"filter": "@request.auth.id = ''"}, headers=admin).status_code == 200


@pytest.mark.parametrize("bad", ["nope = 1", "title = ", "   ", "title = 'x", "title == 1", "(title = 1", "secret = 's'"])
def test_a_bad_filter_is_the_reference_400(client, admin, bad):
    _notes(client, admin, listRule="")
    assert client.get("/api/collections/notes/records", params={"filter": bad}).json() == BAD_REQUEST


def test_superusers_may_filter_by_hidden_fields(client, admin):
    _notes(client, admin, listRule="")
    note = _note(client, admin, secret="s1")
    assert _ids(client.get("/api/collections/notes/records", params={"filter": "secret = 's1'"}, headers=admin)) == [note["id"]]


def test_filter_limits_refuse_instead_of_working_hard(client, admin):
    _notes(client, admin, listRule="")
    too_long = "title = '" + "x" * 3500 + "'"
    too_many = " || ".join(["title = 'x'"] * 201)
    too_deep = "(" * 101 + "title = 'x'" + ")" * 101
    too_wide = " && ".join(f"@collection.notes:a{i}.title = 'x'" for i in range(50))
    for text in (too_long, too_many, too_deep):
        assert client.get("/api/collections/notes/records", params={"filter": text}).json() == BAD_REQUEST
    assert client.get("/api/collections/notes/records", params={"filter": too_wide}, headers=admin).json() == BAD_REQUEST
    assert client.get("/api/collections/notes/records", params={"filter": " || ".join(["title = 'x'"] * 200)}).status_code == 200


def test_a_filter_through_a_relation_respects_the_related_list_rule(client, admin, two_users):
    ann, bob = two_users
    _notes(client, admin, listRule="")
    mine = _note(client, admin, title="a", owner=ann["id"])
    _note(client, admin, title="b", owner=bob["id"])
    # users may only list themselves, so a guest's filter can't see through `owner`
    assert _ids(client.get("/api/collections/notes/records", params={"filter": "owner.name = 'Ann'"})) == []
    assert _ids(client.get("/api/collections/notes/records", params={"filter": "owner.name = 'Ann'"}, headers=ann["headers"])) == [mine["id"]]
    assert _ids(client.get("/api/collections/notes/records", params={"filter": "owner.name = 'Bob'"}, headers=ann["headers"])) == []


def test_update_rules_see_the_submitted_body(client, admin, two_users):
    ann, _ = two_users
    _notes(client, admin, updateRule="@request.body.title:changed = false && @request.body.public != true")
    note = _note(client, admin, title="same")
    url = f"/api/collections/notes/records/{note['id']}"
    assert client.patch(url, json={"title": "other"}, headers=ann["headers"]).status_code == 404
    assert client.patch(url, json={"public": True}).status_code == 404
    assert client.patch(url, json={"title": "same"}).status_code == 200


def test_create_rules_see_the_body_and_the_new_record(client, admin, two_users):
    ann, _ = two_users
    _notes(client, admin, createRule="@request.auth.id != '' && title ~ 'ok' && @request.body.public:isset = false")
    assert client.post("/api/collections/notes/records", json={"title": "ok"}).status_code == 400
    assert client.post("/api/collections/notes/records", json={"title": "no"}, headers=ann["headers"]).status_code == 400
    assert client.post("/api/collections/notes/records", json={"title": "ok", "public": False}, headers=ann["headers"]).status_code == 400
    assert client.post("/api/collections/notes/records", json={"title": "is ok"}, headers=ann["headers"]).status_code == 200


def _upload(client, admin, **values) -> dict:
    files = [("doc", ("secret.txt", b"top secret", "text/plain"))]
    data = {k: str(v).lower() if isinstance(v, bool) else v for k, v in values.items()}
    response = client.post("/api/collections/notes/records", data=data, files=files, headers=admin)
    assert response.status_code == 200, response.text
    return response.json()


def _file_token(client, user) -> str:
    return client.post("/api/files/token", headers=user["headers"]).json()["token"]


def test_protected_files_follow_an_owner_view_rule(client, admin, two_users):
    ann, bob = two_users
    _notes(client, admin, viewRule=OWNER)
    note = _upload(client, admin, owner=ann["id"])
    url = f"/api/files/notes/{note['id']}/{note['doc']}"
    ok = client.get(url, params={"token": _file_token(client, ann)})
    assert ok.status_code == 200 and ok.content == b"top secret"
    assert client.get(url, params={"token": _file_token(client, bob)}).json() == NOT_FOUND
    assert client.get(url).status_code == 404
    assert client.get(url, headers=ann["headers"]).status_code == 404  # only the file token counts


def test_protected_files_follow_an_auth_collection_and_flag_rule(client, admin, two_users):
    ann, _ = two_users
    _notes(client, admin, viewRule='@request.auth.collectionName = "users" && public = true')
    public = _upload(client, admin, public=True)
    private = _upload(client, admin, public=False)
    token = _file_token(client, ann)
    assert client.get(f"/api/files/notes/{public['id']}/{public['doc']}", params={"token": token}).status_code == 200
    assert client.get(f"/api/files/notes/{private['id']}/{private['doc']}", params={"token": token}).status_code == 404
    assert client.get(f"/api/files/notes/{public['id']}/{public['doc']}").status_code == 404


def test_protected_file_rules_see_the_protected_file_context(client, admin, two_users):
    ann, _ = two_users
    _notes(client, admin, viewRule="@request.context = 'protectedFile'")
    note = _upload(client, admin)
    assert client.get(f"/api/collections/notes/records/{note['id']}", headers=ann["headers"]).status_code == 404
    assert client.get(f"/api/files/notes/{note['id']}/{note['doc']}").status_code == 200


def test_a_filter_that_would_run_for_ages_is_cut_off_as_a_400(client, admin, monkeypatch):
    from satchel.core.rules import query

    monkeypatch.setattr(query, "TIME_LIMIT_SECONDS", 0.5)
    _notes(client, admin, listRule="")
    for i in range(60):
        _note(client, admin, title=f"t{i}")
    # a cycle of strict "greater than"s can never hold, but finding that out means walking ~C(60, 6) chains
    cross = " && ".join(f"@collection.notes:c{i}.title ?> @collection.notes:c{(i + 1) % 6}.title" for i in range(6))
    response = client.get("/api/collections/notes/records", params={"filter": cross}, headers=admin)
    assert response.json() == BAD_REQUEST


def test_rule_error_explains_a_rule_that_cannot_compile(sat, client, admin):
    from satchel.core import rules

    _notes(client, admin)
    notes = sat.find_collection("notes")
    assert rules.rule_error(sat.schema, notes, "owner = @request.auth.id && title ~ 'x'") is None
    assert rules.rule_error(sat.schema, notes, "@request.auth.anything = 1") is None  # no auth record while validating
    assert rules.rule_error(sat.schema, notes, "") is None and rules.rule_error(sat.schema, notes, None) is None
    assert "nope" in rules.rule_error(sat.schema, notes, "nope = 1")
    assert rules.rule_error(sat.schema, notes, "title = ") is not None
