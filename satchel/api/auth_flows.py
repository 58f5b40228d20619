"""The auth flows Satchel can't complete: verification, password reset and email change need mail,
and OTP and OAuth2 are always off (auth-methods says so too).

PocketBase 0.40.6 answers these when it can send no mail with the same statuses and messages, so
each handler follows its Go handler's order of checks: the collection (the rate-limit middleware's
404 first), the special cases, binding the body into a form of strings, then the form's
ozzo-validation rules. Satchel never issues verification, password-reset or email-change tokens,
so every such token is invalid; only the token's unverified claims pick which message says so.
"""

from __future__ import annotations

import base64
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..core.collection_model import Collection
from ..core.email_format import is_email_format
from ..core.fields.casting import to_str
from ..core.state import Satchel
from ..db import store
from ..errors import ApiError, bad_request, field_error, forbidden
from .auth import auth_collection, path_collection
from .binding import LOADING_FAILED, bound_values
from .body import parse_json
from .context import require_auth, satchel

log = logging.getLogger("satchel.auth")

ErrorItem = dict[str, Any] | None


# Collection, body and rules ---------------------------------------------------------------------


async def _bind(request: Request, names: tuple[str, ...], every_error_loading: bool = False) -> dict[str, str]:
    """The body bound into a Go form of string fields named `names` ("" where absent): any
    non-string JSON value fails; form values are the text they were sent as."""
    values, is_json = await bound_values(request, names, every_error_loading)
    form = dict.fromkeys(names, "")
    for name, value in values.items():
        if isinstance(value, (dict, list)) or (is_json and not isinstance(value, str)):
            raise bad_request(LOADING_FAILED)
        form[name] = to_str(value)  # the text a form value was sent as, undoing read_body's inference
    return form


def _invalid(errors: dict[str, ErrorItem]) -> ApiError:
    """The form's validation 400, listing the fields that have an error."""
    found = {name: error for name, error in errors.items() if error is not None}
    return ApiError(400, "An error occurred while validating the submitted data.", found)


def _validated(errors: dict[str, ErrorItem]) -> None:
    if any(error is not None for error in errors.values()):
        raise _invalid(errors)


def _required(value: str) -> ErrorItem:
    return None if value else field_error("validation_required", "Cannot be blank.")


def _length(value: str, low: int, high: int) -> ErrorItem:
    if low <= len(value) <= high:
        return None
    return field_error("validation_length_out_of_range", f"The length must be between {low} and {high}.", {"max": high, "min": low})


def _email(value: str) -> ErrorItem:
    """Required, Length(1, 255) and is.EmailFormat: the rules every email in these forms starts with."""
    error = _required(value) or _length(value, 1, 255)
    if error is None and not is_email_format(value):  # only ever sees 255 characters or fewer
        error = field_error("validation_is_email", "Must be a valid email address.")
    return error


def _invalid_token() -> ErrorItem:
    return field_error("validation_invalid_token", "Invalid or expired token.")


def _unverified_claims(token: str) -> dict[str, Any]:
    """The token's claims, unchecked; {} when they don't parse. This is what ParseUnverifiedJWT's
    callers see: jwt-go fills the claims before it looks at the algorithm or any claim's value."""
    parts = token.split(".")
    if len(parts) != 3:
        return {}
    try:
        header = parse_json(_segment(parts[0]))
        claims = parse_json(_segment(parts[1]))
    except ValueError:
        return {}
    return claims if isinstance(header, (dict, type(None))) and isinstance(claims, dict) else {}


def _segment(text: str) -> bytes:
    """A JWT segment's bytes: unpadded base64url, as jwt-go's DecodeSegment reads it."""
    if not re.fullmatch(r"[A-Za-z0-9_-]*", text):
        raise ValueError("not unpadded base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def email_nocase(collection: Collection) -> bool:
    """Whether the email's single-column unique index is COLLATE NOCASE, which FindAuthRecordByEmail
    takes as its cue to compare case-insensitively."""
    for index in collection.data.get("indexes") or []:
        m = re.match(r"^\s*CREATE\s+UNIQUE\s+INDEX\s.*?\(([^)]*)\)", index, re.IGNORECASE | re.DOTALL)
        words = m.group(1).split() if m and "," not in m.group(1) else []
        if words and words[0].strip("`\"[]").lower() == "email":
            return [w.lower() for w in words[1:3]] == ["collate", "nocase"]
    return False


async def _find_by_email(sat: Satchel, collection: Collection, email: str) -> dict[str, Any] | None:
    rows = await sat.db.read(store.select_by, sat.schema.table(collection), "email", email, email_nocase(collection))
    return rows[0] if rows else None


# Handlers ---------------------------------------------------------------------------------------


async def request_verification(request: Request) -> Response:
    collection = auth_collection(request)
    if collection.is_superusers:
        raise bad_request("All superusers are verified by default.")
    form = await _bind(request, ("email",))
    _validated({"email": _email(form["email"])})
    record = await _find_by_email(satchel(request), collection, form["email"])
    if record is not None and not record["verified"]:
        log.warning("no verification email sent to %s record %s: Satchel can't send mail", collection.name, record["id"])
    return Response(status_code=204)  # an unknown email gets the same answer, against enumeration


async def confirm_verification(request: Request) -> Response:
    """No token validates (Satchel issues none), so this always ends in the form's 400; so do the
    other confirm-* handlers."""
    collection = auth_collection(request)
    if collection.is_superusers:
        raise bad_request("All superusers are verified by default.")
    token = (await _bind(request, ("token",)))["token"]
    email = _unverified_claims(token).get("email")
    if email is None or email == "" or isinstance(email, (dict, list)):  # cast.ToString gives ""
        token_error: ErrorItem = field_error("validation_invalid_token_claims", "Missing email token claim.")
    else:
        token_error = _invalid_token()
    raise _invalid({"token": _required(token) or token_error})


async def request_password_reset(request: Request) -> Response:
    collection = auth_collection(request)
    if not collection.data["passwordAuth"]["enabled"]:
        raise bad_request("The collection is not configured to allow password authentication.")
    form = await _bind(request, ("email",))
    _validated({"email": _email(form["email"])})
    record = await _find_by_email(satchel(request), collection, form["email"])
    if record is not None:
        log.warning("no password reset email sent to %s record %s: Satchel can't send mail", collection.name, record["id"])
    return Response(status_code=204)


async def confirm_password_reset(request: Request) -> Response:
    collection = auth_collection(request)
    form = await _bind(request, ("token", "password", "passwordConfirm"), every_error_loading=True)
    password, confirm = form["password"], form["passwordConfirm"]
    min_length = (collection.field("password") or {}).get("min") or 1
    raise _invalid({
        "token": _required(form["token"]) or _invalid_token(),
        "password": _required(password) or _length(password, min_length, 255),
        "passwordConfirm": _required(confirm) or (None if confirm == password else field_error("validation_values_mismatch", "Values don't match.")),
    })


async def request_email_change(request: Request) -> Response:
    collection = path_collection(request)
    auth = await require_auth(request)
    if auth.collection.id != collection.id:
        raise forbidden(f"The request requires auth record from {auth.collection.name} collection.")
    if collection.is_superusers:
        raise bad_request("All superusers can change their emails directly.")
    new_email = (await _bind(request, ("newEmail",)))["newEmail"]
    error = _email(new_email)
    if error is None and new_email == auth.record["email"]:
        error = field_error("validation_not_in_invalid", "Must not be in list.")
    if error is None:
        other = await _find_by_email(satchel(request), collection, new_email)
        if other is not None and other["id"] != auth.id:
            error = field_error("validation_invalid_new_email", "Invalid new email address.")
    _validated({"newEmail": error})
    # The reference sends this mail before answering, so failing to send it is the client's answer.
    log.warning("no email change email sent for %s record %s: Satchel can't send mail", collection.name, auth.id)
    raise bad_request("Failed to request email change.")


async def confirm_email_change(request: Request) -> Response:
    collection = auth_collection(request)
    if collection.is_superusers:
        raise bad_request("All superusers can change their emails directly.")
    form = await _bind(request, ("token", "password"))
    token, password = form["token"], form["password"]
    new_email = _unverified_claims(token).get("newEmail")
    if not isinstance(new_email, str) or not new_email:
        token_error: ErrorItem = field_error("validation_invalid_token_payload", "Invalid token payload - newEmail must be set.")
    else:
        token_error = _invalid_token()
    no_record = field_error("validation_invalid_password", "Missing or invalid auth record password.")
    raise _invalid({
        "token": _required(token) or token_error,
        "password": _required(password) or _length(password, 1, 100) or no_record,
    })


def _disabled(method: str) -> Callable[[Request], Awaitable[Response]]:
    """A handler for an auth method Satchel never enables: the reference's answer when it's off."""

    async def handler(request: Request) -> Response:
        auth_collection(request)
        raise forbidden(f"The collection is not configured to allow {method} authentication.")

    return handler


ROUTES = [
    Route(f"/api/collections/{{collection}}/{path}", handler, methods=["POST"])
    for path, handler in {
        "request-verification": request_verification,
        "confirm-verification": confirm_verification,
        "request-password-reset": request_password_reset,
        "confirm-password-reset": confirm_password_reset,
        "request-email-change": request_email_change,
        "confirm-email-change": confirm_email_change,
        "request-otp": _disabled("OTP"),
        "auth-with-otp": _disabled("OTP"),
        "auth-with-oauth2": _disabled("OAuth2"),
    }.items()
]
