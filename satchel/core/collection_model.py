"""A collection as the rest of the code sees it: the dict PocketBase prints, with look-ups.

The definition is kept exactly as PocketBase would print it (secrets included); its
validation lives in collections.py, which needs the rules compiler, which needs this.
"""

from __future__ import annotations

from typing import Any

from .auth_defaults import TOKEN_OPTIONS

RULES = ("listRule", "viewRule", "createRule", "updateRule", "deleteRule")
AUTH_RULES = ("authRule", "manageRule")
TYPES = ("base", "auth", "view")
SUPERUSERS = "_superusers"
#: PocketBase's internal collections, in the order its first migration creates them
INTERNAL_COLLECTIONS = ("_mfas", "_otps", "_externalAuths", "_authOrigins")
_FIRST = (*INTERNAL_COLLECTIONS, SUPERUSERS)


def listing_order(data: dict[str, Any]) -> int:
    """Where a collection stands in listings: PocketBase lists them in the order its database rows
    were made, which puts its system collections first whenever Satchel added them."""
    name = data["name"]
    return _FIRST.index(name) if data.get("system") and name in _FIRST else len(_FIRST)


class Collection:
    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data
        self.fields_by_name = {f["name"]: f for f in data["fields"]}

    @property
    def id(self) -> str:
        return self.data["id"]

    @property
    def name(self) -> str:
        return self.data["name"]

    @property
    def is_auth(self) -> bool:
        return self.data["type"] == "auth"

    @property
    def is_view(self) -> bool:
        """Records read from a SQL view over other collections; nothing writes them."""
        return self.data["type"] == "view"

    @property
    def is_superusers(self) -> bool:
        return self.data["name"] == SUPERUSERS

    @property
    def fields(self) -> list[dict[str, Any]]:
        return self.data["fields"]

    def field(self, name: str) -> dict[str, Any] | None:
        return self.fields_by_name.get(name)

    def file_fields(self) -> list[dict[str, Any]]:
        return [f for f in self.fields if f["type"] == "file"]

    def rule(self, name: str) -> str | None:
        return self.data.get(name)

    def token_option(self, kind: str) -> dict[str, Any]:
        """`{"duration": N, "secret": S}` for a token kind such as "authToken" or "fileToken"."""
        return self.data[kind]

    def public(self) -> dict[str, Any]:
        """The collection as the API shows it: token secrets never leave the server."""
        out = dict(self.data)
        for kind in TOKEN_OPTIONS:
            if kind in out:
                out[kind] = {"duration": out[kind]["duration"]}
        if "oauth2" in out:
            providers = [{k: v for k, v in p.items() if k != "clientSecret"} for p in out["oauth2"]["providers"]]
            out["oauth2"] = {**out["oauth2"], "providers": providers}
        return out
