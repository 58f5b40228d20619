"""An auth collection's options, checked with the reference's ranges, codes and order.

The reference validates its options struct first (each option's first failing rule); only when
all of it holds does it check that MFA has two auth methods besides and that every identity
field has a unique index. Numbers follow its `Required, Min, Max`: 0 is blank.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from ..db.indexes import has_unique_index
from ..errors import field_error
from .auth_defaults import TOKEN_OPTIONS
from .collection_model import Collection

Errors = dict[str, Any]

TEMPLATES = ("verificationTemplate", "resetPasswordTemplate", "confirmEmailChangeTemplate")
TOKEN_MAX = 94670856  # about three years, in seconds
# The reference's providers (tools/auth), by the names its collection options accept.
PROVIDERS = frozenset({
    "apple", "bitbucket", "box", "discord", "facebook", "gitea", "gitee", "github", "gitlab", "google", "instagram2",
    "kakao", "lark", "linear", "livechat", "mailcow", "microsoft", "monday", "notion", "oidc", "oidc2", "oidc3",
    "patreon", "planningcenter", "spotify", "strava", "trakt", "twitch", "twitter", "vk", "wakatime", "yandex",
})
_URL_SCHEME = re.compile(r"^(ftp|tcp|udp|wss?|https?)$", re.IGNORECASE)
_HOST = re.compile(r"^(localhost|[\w-]+(\.[\w-]+)+|\[[0-9a-f:.]+\])$", re.IGNORECASE)


def _blank() -> Errors:
    return field_error("validation_required", "Cannot be blank.")


def _number(value: Any, low: int, high: int | None = None) -> Errors | None:
    """Go's `Required, Min(low), Max(high)` on an integer."""
    if not value:
        return _blank()
    if value < low:
        return field_error("validation_min_greater_equal_than_required", f"Must be no less than {low}.", {"threshold": low})
    if high is not None and value > high:
        return field_error("validation_max_less_equal_than_required", f"Must be no greater than {high}.", {"threshold": high})
    return None


def _collect(checks: dict[str, Errors | None]) -> Errors:
    return {key: error for key, error in checks.items() if error}


def _template(template: dict[str, Any]) -> Errors | None:
    return _collect({"subject": None if template.get("subject") else _blank(), "body": None if template.get("body") else _blank()}) or None


def _token(config: dict[str, Any]) -> Errors | None:
    secret = config.get("secret") or ""
    if not secret:
        secret_error: Errors | None = _blank()
    elif not 30 <= len(secret) <= 255:
        secret_error = field_error("validation_length_out_of_range", "The length must be between 30 and 255.", {"max": 255, "min": 30})
    else:
        secret_error = None
    return _collect({"secret": secret_error, "duration": _number(config.get("duration"), 10, TOKEN_MAX)}) or None


def is_url(value: str) -> bool:
    """Roughly govalidator's IsURL, as ozzo's is.URL uses it: an optional known scheme, a host name."""
    if len(value) <= 3 or value.startswith(".") or any(c.isspace() for c in value):
        return False
    try:
        parts = urlsplit(value if "://" in value else f"http://{value}")
        host = parts.hostname or ""
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError:
        return False
    return bool(_URL_SCHEME.match(parts.scheme)) and bool(_HOST.match(host if not host.count(":") else f"[{host}]"))


def _provider(provider: dict[str, Any]) -> Errors | None:
    name = provider.get("name") or ""
    return _collect({
        "name": _blank() if not name else None if name in PROVIDERS else field_error(
            "validation_missing_provider", f"Invalid or missing provider with name {name}.", {"name": name}),
        "clientId": None if provider.get("clientId") else _blank(),
        "clientSecret": None if provider.get("clientSecret") else _blank(),
        **{key: field_error("validation_is_url", "Must be a valid URL.") if provider.get(key) and not is_url(provider[key]) else None
           for key in ("authURL", "tokenURL", "userInfoURL")},
    }) or None


def _oauth2(config: dict[str, Any]) -> Errors | None:
    if not config.get("enabled"):
        return None
    providers = [p for p in config.get("providers") or [] if isinstance(p, dict)]
    seen: set[str] = set()
    for index, provider in enumerate(providers):
        name = provider.get("name") or ""
        if name and name in seen:
            return {"providers": {str(index): {"name": field_error(
                "validation_duplicated_provider", f"The provider {name} is already registered.", {"name": name})}}}
        seen.add(name)
    problems = _collect({str(i): _provider(p) for i, p in enumerate(providers)})
    return {"providers": problems} if problems else None


def _timed(config: dict[str, Any], **extra: Errors | None) -> Errors | None:
    """MFA and OTP: a duration of 10 s to a day, checked only while enabled."""
    enabled = config.get("enabled")
    return _collect({"duration": _number(config.get("duration"), 10, 86400) if enabled else None, **extra}) or None


def option_errors(data: dict[str, Any]) -> Errors:
    """The options' own errors (their rules are compiled with the collection's other rules)."""
    otp = data["otp"]
    checks: dict[str, Errors | None] = {
        "manageRule": field_error("validation_nil_or_not_empty_required", "Cannot be blank.") if data.get("manageRule") == "" else None,
        "authAlert": _collect({"emailTemplate": _template(data["authAlert"].get("emailTemplate") or {})}) or None,
        "passwordAuth": {"identityFields": _blank()}
        if data["passwordAuth"].get("enabled") and not data["passwordAuth"].get("identityFields") else None,
        "oauth2": _oauth2(data["oauth2"]),
        "otp": _timed(otp, length=_number(otp.get("length"), 4) if otp.get("enabled") else None,
                      emailTemplate=_template(otp.get("emailTemplate") or {})),
        "mfa": _timed(data["mfa"]),
        **{kind: _token(data[kind]) for kind in TOKEN_OPTIONS},
        **{name: _template(data[name] or {}) for name in TEMPLATES},
    }
    return _collect(checks)


def method_errors(collection: Collection, rule_error: Callable[[str], Errors | None]) -> Errors:
    """What the reference checks once the options hold: MFA's auth methods and rule, identity fields."""
    data = collection.data
    if data["mfa"].get("enabled"):
        methods = sum(bool(data[key].get("enabled")) for key in ("passwordAuth", "oauth2", "otp"))
        if methods < 2:
            return {"mfa": {"enabled": field_error("validation_mfa_not_enough_auths", "MFA requires at least 2 auth methods to be enabled.")}}
        if data["mfa"].get("rule") and (problem := rule_error(data["mfa"]["rule"])):
            return {"mfa": {"rule": problem}}
    if data["passwordAuth"].get("enabled"):
        for name in dict.fromkeys(data["passwordAuth"].get("identityFields") or []):
            if collection.field(name) is None:
                error = field_error("validation_missing_field", f"Invalid or missing field {name}.", {"fieldName": name})
            elif not has_unique_index(collection.data.get("indexes") or [], name):
                error = field_error("validation_missing_unique_constraint", f"The field {name} doesn't have a UNIQUE constraint.", {"fieldName": name})
            else:
                continue
            return {"passwordAuth": {"identityFields": error}}
    return {}
