"""`/api/settings`: the S3 storage block (secret write-only) and its connection test."""

from __future__ import annotations

import copy
from typing import Any
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response

from ..core.collection_shape import fits
from ..core.cron_schedule import InvalidCron, parse
from ..core.rate_limits import RULE_KEYS, rule_of, settings_errors
from ..core.state import s3_storage
from ..errors import ApiError, bad_request, field_error, sentenize
from ..storage.base import StorageError
from .body import read_body
from .context import JSONResponse, require_superuser, satchel
from .picker import picked_json

S3_REQUIRED = ("accessKey", "bucket", "endpoint", "region", "secret")


def public_settings(settings: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(settings)
    for block in (out["s3"], out["backups"]["s3"]):
        block.pop("secret", None)
    return out


def s3_errors(block: dict[str, Any]) -> dict[str, Any]:
    if not block.get("enabled"):
        return {}
    errors = {key: field_error("validation_required", "Cannot be blank.") for key in S3_REQUIRED if not block.get(key)}
    endpoint = block.get("endpoint")
    if endpoint and "endpoint" not in errors and not urlsplit(str(endpoint)).netloc:
        errors["endpoint"] = field_error("validation_is_url", "Must be a valid URL.")
    return errors


def batch_errors(block: dict[str, Any]) -> dict[str, Any]:
    """The batch limits: none negative, and a request count and timeout while enabled."""
    errors = {}
    for key in ("maxBodySize", "maxRequests", "timeout"):
        value = block.get(key) or 0
        if value < 0:
            errors[key] = field_error("validation_min_greater_equal_than_required", "Must be no less than 0.", {"threshold": 0})
        elif not value and block.get("enabled") and key != "maxBodySize":
            errors[key] = field_error("validation_required", "Cannot be blank.")
    return errors


def backups_errors(block: dict[str, Any]) -> dict[str, Any]:
    """The auto-backup schedule (PocketBase's cron grammar), how many to keep, and the S3 block."""
    errors = {}
    if block["cron"]:
        try:
            parse(block["cron"])
        except InvalidCron as exc:
            errors["cron"] = field_error("validation_invalid_cron", sentenize(str(exc)))
    keep = block["cronMaxKeep"]
    if block["cron"] and not keep:
        errors["cronMaxKeep"] = field_error("validation_required", "Cannot be blank.")
    elif keep and keep < 1:  # zero is "not set", which only a schedule requires
        errors["cronMaxKeep"] = field_error("validation_min_greater_equal_than_required", "Must be no less than 1.", {"threshold": 1})
    if problems := s3_errors(block["s3"]):
        errors["s3"] = problems
    return errors


def logs_errors(block: dict[str, Any]) -> dict[str, Any]:
    return {
        key: field_error("validation_min_greater_equal_than_required", "Must be no less than 0.", {"threshold": 0})
        for key in ("maxDays", "maxDataSize") if block[key] < 0
    }


def _merge(current: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """`patch` over `current`, as Go's encoding/json/v2 decodes into the settings struct: an
    object merges into the value there, null makes it zero, any other value replaces it."""
    out = copy.deepcopy(current)
    for key, value in patch.items():
        if key not in out:
            continue
        if value is None:
            out[key] = _zero(out[key])
        elif isinstance(value, dict) and isinstance(out[key], dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _zero(value: Any) -> Any:
    """Go's zero value of a setting shaped like `value`."""
    if isinstance(value, dict):
        return {key: _zero(item) for key, item in value.items()}
    return type(value)()


async def view_settings(request: Request) -> JSONResponse:
    await require_superuser(request)
    return picked_json(request, public_settings(satchel(request).settings))


def patched(stored: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """The settings `patch` makes of the stored ones, or the reference's 400."""
    template = {**stored, "rateLimits": {**stored["rateLimits"], "rules": [RULE_KEYS]}}
    if not fits(patch, template):  # the reference decodes into typed structs: a wrong JSON type is its 400
        raise bad_request("An error occurred while loading the submitted data.")
    settings = _merge(stored, patch)
    settings["rateLimits"]["rules"] = [rule_of(rule) for rule in settings["rateLimits"]["rules"]]
    errors = {}
    if problems := settings_errors(settings["rateLimits"]):
        errors["rateLimits"] = problems
    if problems := batch_errors(settings["batch"]):
        errors["batch"] = problems
    if problems := s3_errors(settings["s3"]):
        errors["s3"] = problems
    if problems := backups_errors(settings["backups"]):
        errors["backups"] = problems
    if problems := logs_errors(settings["logs"]):
        errors["logs"] = problems
    if errors:
        raise ApiError(400, "An error occurred while saving the new settings.", dict(sorted(errors.items())))
    return settings


async def update_settings(request: Request) -> JSONResponse:
    await require_superuser(request)
    sat = satchel(request)
    with await read_body(request) as body:
        patch = body.values
    settings = await sat.change_settings(lambda stored: patched(stored, patch))
    sat.rate_limits.restart()  # as the reference does on every save
    # as the reference does on every save: drop the logs the new settings would not have kept
    await sat.logs.delete_old(settings["logs"]["maxDays"], settings["logs"]["minLevel"])
    return picked_json(request, public_settings(settings))


async def test_s3(request: Request) -> Response:
    await require_superuser(request)
    sat = satchel(request)
    with await read_body(request) as body:
        target = body.values.get("filesystem")
    if not target:
        raise ApiError(400, "Failed to test the S3 filesystem.", {"filesystem": field_error("validation_required", "Cannot be blank.")})
    if target not in ("storage", "backups"):
        raise ApiError(400, "Failed to test the S3 filesystem.", {"filesystem": field_error("validation_in_invalid", "Must be a valid value.")})
    block = sat.settings["s3"] if target == "storage" else sat.settings["backups"]["s3"]
    if not block.get("enabled"):
        raise ApiError(400, "Failed to test the S3 filesystem. Raw error: \nS3 storage filesystem is not enabled.")
    try:
        await s3_storage(block).test_connection()
    except StorageError as exc:
        raise ApiError(400, f"Failed to test the S3 filesystem. Raw error: \n{exc}") from None
    return Response(status_code=204)
