"""The blank collection of each type, as `GET /api/collections/meta/scaffolds` shows it.

PocketBase builds them with its collection factories and an empty name, so the auth
indexes name a random 10-character id and an empty table, and no stamp is set yet.
"""

from __future__ import annotations

import copy
from typing import Any

from .auth_defaults import AUTH_DEFAULTS
from .collection_model import RULES
from .collections import auth_indexes, auth_system_fields, id_field
from .fields.text import generate


def _blank(type_: str, fields: list[dict[str, Any]], indexes: list[str]) -> dict[str, Any]:
    return {
        "id": "", **{rule: None for rule in RULES}, "name": "", "type": type_,
        "fields": fields, "indexes": indexes, "created": "", "updated": "", "system": False,
    }


def scaffolds() -> dict[str, dict[str, Any]]:
    """The base, auth and view scaffolds (token options hold no secret yet: durations only)."""
    random_id = generate("[a-z0-9]{10}")  # the reference's too: it only names the indexes
    auth = {
        **_blank("auth", auth_system_fields(), auth_indexes(random_id, "")),
        "authRule": "", "manageRule": None, **copy.deepcopy(AUTH_DEFAULTS),
    }
    return {
        "base": _blank("base", [id_field()], []),
        "auth": auth,
        "view": {**_blank("view", [], []), "viewQuery": ""},
    }
