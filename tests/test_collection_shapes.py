"""Collection bodies of any JSON shape are answered with a 200 or a 4xx, never a 500.

A random search over field definitions (names, types and options of every JSON type) and
collection options found a dozen crashes once; this keeps it finding none.
"""

from __future__ import annotations

from typing import Any

from checks import ok
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from satchel.core.fields import FIELD_TYPES

OPTIONS = sorted({"name", "type", "id", "system", "hidden", "presentable", "help"} | {k for t in FIELD_TYPES.values() for k in t.defaults})
SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-2, 3), st.sampled_from([2.5, 1e20, -1.0]),
    st.sampled_from(["", "a", "id", "email", "users", "_pb_users_auth_", "[a-z]{3}", "(", "x y", "a" * 300]),
)
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(["a", "enabled", "duration"]), inner, max_size=2), max_leaves=4)
# Mostly plausible values, so that many bodies get past decoding to validation and the database.
PLAUSIBLE = st.one_of(st.booleans(), st.integers(0, 3), st.sampled_from(["", "a", "users", "_pb_users_auth_", "[a-z]{3}", "image/png"]),
                      st.lists(st.sampled_from(["a", "b", "100x100", "x.io"]), max_size=2))
OPTION = st.one_of(PLAUSIBLE, PLAUSIBLE, PLAUSIBLE, VALUES)
FIELDS = st.lists(
    st.fixed_dictionaries(
        {"name": st.one_of(st.sampled_from(["a", "b", "id", "email", "created", "", "x y"]), st.sampled_from(["a", "b"]), VALUES),
         "type": st.one_of(st.sampled_from([*FIELD_TYPES, "nope"]), st.sampled_from([*FIELD_TYPES]), VALUES)},
        optional={option: OPTION for option in OPTIONS if option not in ("name", "type")},
    ),
    max_size=4,
)
BODIES = st.fixed_dictionaries(
    {"name": st.from_regex(r"[a-z]{8}", fullmatch=True) | st.sampled_from(["c1", "users", ""]), "type": st.sampled_from(["base", "base", "auth", "view", None])},
    optional={"fields": FIELDS | FIELDS | VALUES, "listRule": st.sampled_from(["id = 1", "nope = 1", "a = 1", ""]) | VALUES,
              "indexes": st.lists(st.sampled_from(["CREATE INDEX i1 ON x (a)", "CREATE UNIQUE INDEX i2 ON x (`b` COLLATE NOCASE)", "bad"]), max_size=2) | VALUES,
              "passwordAuth": st.fixed_dictionaries({}, optional={"enabled": st.booleans(), "identityFields": st.lists(st.sampled_from(["email", "a"]))}) | VALUES,
              "authToken": VALUES, "manageRule": VALUES, "id": VALUES},
)


@settings(max_examples=300, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(body=BODIES, patch=st.sampled_from([None, "target", "users"]))
def test_any_collection_body_is_a_200_or_a_4xx(client, admin, body: dict[str, Any], patch: str | None) -> None:
    if client.get("/api/collections/target", headers=admin).status_code == 404:  # examples share the client
        ok(client.post("/api/collections", json={"name": "target", "type": "base", "fields": [{"name": "a", "type": "text"}]}, headers=admin))
    if patch is None:
        response = client.post("/api/collections", json=body, headers=admin)
    else:
        response = client.patch(f"/api/collections/{patch}", json=body, headers=admin)
    assert response.status_code in (200, 400, 404), response.text
    if response.status_code == 200:
        name = response.json()["name"]
        record = client.post(f"/api/collections/{name}/records", json={"a": 2.5, "b": ["x"], "email": 1.5}, headers=admin)
        assert record.status_code in (200, 400, 404), record.text
