"""`@request.*`: what a rule may know about the request being checked.

Built once per request from the API layer; values are normalised the way PocketBase's
RequestInfo holds them (query and headers as first-value strings, header names lowercased
with `-` as `_`, JSON numbers as floats).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ... import deepjson
from ..fields import field_type
from ..record_data import apply_modifier, split_key, takes_modifier

DEFAULT = "default"
PROTECTED_FILE = "protectedFile"
EXPAND = "expand"

# auth fields read from the token's record itself, without a join
PLAIN_AUTH_FIELDS = ("id", "collectionId", "collectionName", "email", "emailVisibility", "verified")


@dataclass
class RequestInfo:
    auth: Any = None  # core.auth.Auth or None
    method: str = "GET"
    context: str = DEFAULT
    query: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    body: dict[str, Any] = field(default_factory=dict)

    @property
    def is_superuser(self) -> bool:
        return self.auth is not None and self.auth.is_superuser

    def static(self) -> dict[str, Any]:
        """The map `@request.*` paths are looked up in."""
        return {
            "context": self.context,
            "method": self.method,
            "query": self.query,
            "headers": self.headers,
            "body": self.body,
            "auth": self._auth_map(),
        }

    def _auth_map(self) -> dict[str, Any] | None:
        if self.auth is None:
            return None
        record = self.auth.record
        out: dict[str, Any] = {
            "id": record.get("id", ""),
            "collectionId": self.auth.collection.id,
            "collectionName": self.auth.collection.name,
        }
        for name in ("email", "emailVisibility", "verified"):
            if name in record:
                value = record[name]
                out[name] = bool(value) if name != "email" else value
        return out


def normalize_headers(pairs: list[tuple[str, str]]) -> dict[str, str]:
    """First value per header; `X-Token` becomes `x_token`."""
    out: dict[str, str] = {}
    for name, value in pairs:
        key = name.lower().replace("-", "_")
        if key != "host":  # Go moves Host out of the header map, so PocketBase never sees it there
            out.setdefault(key, value)
    return out


def normalize_body(value: Any) -> Any:
    """JSON numbers as Go's decoder gives them: float64 (at any depth: a json field may nest deep)."""
    return deepjson.rebuild(value, _go_float)


def _go_float(value: Any) -> Any:
    return float(value) if isinstance(value, int) and not isinstance(value, bool) else value


def rule_body(collection: Any, current: dict[str, Any], raw: dict[str, Any], uploads: dict[str, list[str]], superuser: bool) -> dict[str, Any]:
    """`@request.body` for create/update: field keys (with their modifiers) replaced by the value
    the record would get, as the reference's ReplaceModifiers does; hidden fields dropped for
    everyone but superusers (an auth collection's password excepted)."""
    data = dict(raw)
    values = dict(current)
    for key in sorted(raw, key=len):
        name, modifier = split_key(key)
        field = collection.field(name)
        if field is None or modifier and not takes_modifier(field, modifier):
            continue
        if modifier:
            values[name] = apply_modifier(field, values.get(name), modifier, raw[key])
        else:
            values[name] = field_type(field).prepare(raw[key], field)
        data.pop(key, None)
        data[name] = values[name]
    for key, names in uploads.items():
        name, _ = split_key(key)
        field = collection.field(name)
        if field is not None and field["type"] == "file":
            sent = data.get(name)
            kept = sent if isinstance(sent, list) else ([sent] if sent else [])
            data[name] = [*kept, *names]
    if not superuser:
        for field in collection.fields:
            if field.get("hidden") and not (collection.is_auth and field["name"] == "password"):
                data.pop(field["name"], None)
    return normalize_body(data)
