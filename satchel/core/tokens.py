"""Auth and file tokens: HS256 JWTs signed with the record's tokenKey plus a per-collection secret.

A token proves nothing until the record it names is loaded and its signature checked
with that record's key, so changing a password (a new tokenKey) revokes every token.
"""

from __future__ import annotations

import time
from typing import Any

from ..strconv import truthy

SECRET_OPTION = {"auth": "authToken", "file": "fileToken"}


def new_token(collection: Any, record: dict[str, Any], kind: str, duration: int = 0, refreshable: bool = True) -> str:
    """A token of `kind` for the record, valid for the collection's duration or `duration` seconds;
    an auth token that isn't `refreshable` (an impersonation) is handed back as is by auth-refresh."""
    import jwt

    option = collection.token_option(SECRET_OPTION[kind])
    claims: dict[str, Any] = {
        "collectionId": collection.id,
        "exp": int(time.time()) + (duration or int(option["duration"])),
        "id": record["id"],
    }
    if kind == "auth":
        claims["refreshable"] = refreshable
    claims["type"] = kind
    return jwt.encode(claims, record["tokenKey"] + option["secret"], algorithm="HS256")


def is_refreshable(claims: dict[str, Any]) -> bool:
    """Go's cast.ToBool of the `refreshable` claim: an absent or false one keeps the token as it is."""
    value = claims.get("refreshable")
    if isinstance(value, str):
        return truthy(value)
    return bool(value) if isinstance(value, (bool, int, float)) else False


def unverified_claims(token: str, kind: str) -> dict[str, Any] | None:
    """The claims, if the token is well formed, unexpired and of the wanted kind (not yet trusted)."""
    if not token:
        return None
    import jwt

    try:
        claims = jwt.decode(token, options={"verify_signature": False, "verify_exp": True, "verify_iat": True, "verify_nbf": True}, algorithms=["HS256"])
    except jwt.PyJWTError:
        return None
    if any(key in claims and not _is_number(claims[key]) for key in ("exp", "iat", "nbf")):
        return None  # golang-jwt reads these as NumericDate: a JSON number, never text (PyJWT takes "123")
    if claims.get("type") != kind:
        return None
    if not all(isinstance(claims.get(k), str) and claims.get(k) for k in ("id", "collectionId")):
        return None
    return claims


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def verify(token: str, collection: Any, record: dict[str, Any], kind: str) -> bool:
    import jwt

    option = collection.token_option(SECRET_OPTION[kind])
    try:
        jwt.decode(token, record["tokenKey"] + option["secret"], algorithms=["HS256"])
    except jwt.PyJWTError:
        return False
    return True
