"""`/api/backups`: list, create, upload, download, delete and restore backups (superusers only).

Statuses and error bodies follow PocketBase 0.40.6. Beyond it, an upload must be a sound
Satchel archive (checked member by member), and a restore has finished when it answers.
"""

from __future__ import annotations

import logging
import os
from datetime import UTC, datetime
from typing import Any

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import Response

from ..core import backups
from ..core.auth import auth_from_token
from ..core.backup_archive import InvalidArchive, check_archive
from ..core.fields.date import format_datetime
from ..errors import ApiError, bad_request, field_error, not_found
from ..files.mime import mime_allowed, sniff_file
from ..files.names import normalize_filename
from .body import read_body
from .context import JSONResponse, require_superuser, satchel
from .files import query_param
from .object_response import ObjectResponse, object_response

log = logging.getLogger(__name__)

BUSY = "Try again later - another backup/restore process has already been started."
INVALID_DATA = "An error occurred while validating the submitted data."
NO_LIMIT = 1 << 62  # the reference lifts its body limit for uploads


def _invalid(field: str, code: str, message: str, params: dict[str, Any] | None = None) -> ApiError:
    return bad_request(INVALID_DATA, {field: field_error(code, message, params)})


def _refuse_if_busy(request: Request) -> None:
    if satchel(request).active_backup:
        raise bad_request(BUSY)


async def list_backups(request: Request) -> JSONResponse:
    await require_superuser(request)
    found = await backups.list_backups(satchel(request))
    return JSONResponse([
        {"modified": format_datetime(datetime.fromtimestamp(obj.modified, UTC)), "key": obj.key, "size": obj.size}
        for obj in found
    ])


async def _create_name(request: Request) -> str:
    """The optional `name`, checked as the reference checks it (length, format, unused)."""
    try:
        async with await read_body(request, tmp_dir=satchel(request).spool.folder()) as body:
            name = body.values.get("name", "")
    except ApiError as exc:
        if exc.status != 400:
            raise
        name = None
    if not isinstance(name, str):
        raise bad_request("An error occurred while loading the submitted data.")
    if not name:
        return ""
    if len(name) > 150:
        raise _invalid("name", "validation_length_out_of_range", "The length must be between 1 and 150.", {"max": 150, "min": 1})
    if not backups.NAME.match(name):
        raise _invalid("name", "validation_match_invalid", "Must be in a valid format.")
    if await backups.exists(satchel(request), name):
        raise _invalid("name", "validation_backup_name_exists", "The backup file name is invalid or already exists.")
    return name


async def create_backup(request: Request) -> Response:
    await require_superuser(request)
    _refuse_if_busy(request)
    name = await _create_name(request)
    try:
        await backups.create_backup(satchel(request), name)
    except backups.BackupBusy:
        raise bad_request(BUSY) from None
    except Exception as exc:  # the reference answers any failure with this 400
        log.exception("backup %r failed", name)
        raise bad_request("Failed to create backup.") from exc
    return Response(status_code=204)


async def upload_backup(request: Request) -> Response:
    await require_superuser(request)
    sat = satchel(request)
    async with await read_body(request, NO_LIMIT, tmp_dir=sat.spool.folder()) as body:
        uploads = body.files.get("file") or []
        if not uploads:
            raise _invalid("file", "validation_required", "Cannot be blank.")
        upload = uploads[0]
        mime = sniff_file(upload.path)
        if not mime_allowed(mime, [backups.ZIP]):
            name = normalize_filename(upload.filename, mime)
            raise _invalid("file", "validation_invalid_mime_type", f'"{name}" mime type must be one of: {backups.ZIP}.')
        try:
            await anyio.to_thread.run_sync(check_archive, upload.path)
        except InvalidArchive as exc:
            raise _invalid("file", "validation_invalid_backup", f"Not a Satchel backup: {exc}.") from None
        if not backups.valid_key(upload.filename) or await backups.exists(sat, upload.filename):
            raise _invalid("file", "validation_backup_name_exists", "Backup file with the specified name already exists.")
        await backups.backups_storage(sat).put_file(upload.filename, upload.path, backups.ZIP)
    return Response(status_code=204)


async def download_backup(request: Request) -> ObjectResponse:
    """Only a superuser's file token in `?token=` opens a backup (a browser link sends no header)."""
    sat = satchel(request)
    token = query_param(request, "token")
    auth = await auth_from_token(sat, token, "file") if token else None
    if auth is None or not auth.is_superuser:
        raise ApiError(403, "Insufficient permissions to access the resource.")
    key = request.path_params["key"]
    storage = backups.backups_storage(sat)
    info = await storage.stat(key) if backups.valid_key(key) else None
    if info is None:
        raise not_found()
    return object_response(request.method, request.scope["headers"], storage, key, info, key, True)


async def delete_backup(request: Request) -> Response:
    await require_superuser(request)
    sat = satchel(request)
    key = request.path_params["key"]
    if key == sat.active_backup:
        raise bad_request("The backup is currently being used and cannot be deleted.")
    if not await backups.exists(sat, key):
        path = os.path.join(os.path.abspath(sat.config.data_dir), "backups", key)
        raise bad_request(
            f"Invalid or already deleted backup file. Raw error: \n[key: {key}] remove {path}: no such file or directory\nresource not found."
        )
    await backups.backups_storage(sat).delete(key)
    return Response(status_code=204)


async def restore_backup(request: Request) -> Response:
    await require_superuser(request)
    _refuse_if_busy(request)
    sat = satchel(request)
    key = request.path_params["key"]
    if not await backups.exists(sat, key):
        raise bad_request("Missing or invalid backup file.")
    try:
        await backups.restore_backup(sat, key)
    except backups.BackupBusy:
        raise bad_request(BUSY) from None
    except InvalidArchive as exc:
        raise bad_request("Missing or invalid backup file.") from exc
    return Response(status_code=204)
