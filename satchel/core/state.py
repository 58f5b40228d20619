"""The running instance: configuration, database, schema cache, settings and storage."""

from __future__ import annotations

import copy
import os
from typing import TYPE_CHECKING, Any

import anyio.to_thread
import orjson
from sqlalchemy.engine import Connection

from ..config import Config
from ..db import store, tables
from ..db.engine import Database
from ..storage.base import Storage, StorageInitError
from ..storage.local import LocalStorage
from . import schema
from .crons import Crons, Job
from .realtime.bus import Bus
from .collection_model import SUPERUSERS, Collection
from .collections import new_collection
from .fields.base import COMMON_DEFAULTS
from .schema import Schema

if TYPE_CHECKING:  # boto3 and Pillow cost tens of MB per worker: loaded on first use only
    from ..storage.s3 import S3Storage
    from ..thumbs.service import Thumbs

SETTINGS_KEY = "settings"
S3_DEFAULTS = {"enabled": False, "bucket": "", "region": "", "endpoint": "", "accessKey": "", "secret": "", "forcePathStyle": False}
DEFAULT_SETTINGS: dict[str, Any] = {
    "superuserIPs": [],
    "smtp": {"enabled": False, "port": 587, "host": "smtp.example.com", "username": "", "authMethod": "", "tls": False, "localName": ""},
    "backups": {"cron": "", "cronMaxKeep": 3, "s3": S3_DEFAULTS},
    "s3": S3_DEFAULTS,
    "meta": {
        "accentColor": "#1055c9", "appName": "Satchel", "appURL": "http://localhost:8090",
        "senderName": "Support", "senderAddress": "support@example.com", "hideControls": False,
    },
    "rateLimits": {"rules": [], "excludedIPs": [], "enabled": False},
    "trustedProxy": {"headers": [], "useLeftmostIP": False},
    "batch": {"enabled": False, "maxRequests": 50, "timeout": 3, "maxBodySize": 0},
    "logs": {"maxDataSize": 0, "maxDays": 5, "minLevel": 0, "logIP": True, "logAuthId": False},
}


class Satchel:
    def __init__(self, config: Config) -> None:
        self.config = config
        os.makedirs(config.tmp_dir, exist_ok=True)
        self.db = Database(config.database_url)
        self.schema = Schema()
        self.settings: dict[str, Any] = copy.deepcopy(DEFAULT_SETTINGS)
        self._settings_version = -2
        self._storage: Storage | None = None
        self._storage_key: Any = None
        self._thumbs: Thumbs | None = None
        self.crons = Crons(self)
        self.crons.add(Job("__pbDBOptimize__", "0 0 * * *", _optimize_database))
        self.bus = Bus(self.db)  # realtime messages, written with the changes they announce

    # start-up -----------------------------------------------------------------

    def init_sync(self) -> None:
        """Create the system tables and, on a fresh database, `_superusers` and `users`."""
        self.db.write_sync(_bootstrap)
        self.db.read_sync(self.load_sync)

    def load_sync(self, conn: Connection) -> None:
        self.schema.load_sync(conn)
        if self._settings_version != self.schema.version:
            raw = store.get_param(conn, SETTINGS_KEY)
            merged = copy.deepcopy(DEFAULT_SETTINGS)
            for key, value in (orjson.loads(raw) if raw else {}).items():
                merged[key] = {**merged.get(key, {}), **value} if isinstance(value, dict) else value
            self.settings = merged
            self._settings_version = self.schema.version

    async def refresh(self) -> None:
        """Pick up collection or settings changes made by any process (one indexed read when none)."""
        if int(await store.find_param(self.db, store.SCHEMA_VERSION) or 0) != self.schema.version:
            await self.db.read(self.load_sync)

    # settings and storage -------------------------------------------------------

    async def save_settings(self, settings: dict[str, Any]) -> None:
        def write(conn: Connection) -> None:
            store.set_param(conn, SETTINGS_KEY, orjson.dumps(settings).decode())
            store.bump_schema_version(conn)
            self.load_sync(conn)

        await self.db.write(write)

    def storage(self) -> Storage:
        """The storage the settings choose now (S3 or local); raises StorageInitError."""
        s3 = self.settings["s3"]
        key = tuple(sorted(s3.items())) if s3.get("enabled") else "local"
        if self._storage is None or self._storage_key != key:
            self._storage = s3_storage(s3) if s3.get("enabled") else LocalStorage(self.config.storage_dir)
            self._storage_key = key
        return self._storage

    def thumbs(self, storage: Storage) -> Thumbs:
        """The thumb maker for `storage`, kept while the storage is the same object."""
        if self._thumbs is None or self._thumbs.storage is not storage:
            from ..thumbs.service import Thumbs

            cfg = self.config
            self._thumbs = Thumbs(storage, cfg.thumb_workers, cfg.thumb_max_pixels, cfg.thumb_max_wait)
        return self._thumbs

    # collections ----------------------------------------------------------------

    def find_collection(self, id_or_name: str) -> Collection | None:
        return self.schema.find_collection(id_or_name)

    def superusers(self) -> Collection:
        found = self.schema.find_collection(SUPERUSERS)
        assert found is not None, "the database was not initialised"
        return found


async def _optimize_database(sat: Satchel) -> None:
    await anyio.to_thread.run_sync(sat.db.optimize_sync)


def s3_storage(s3: dict[str, Any]) -> S3Storage:
    from ..storage.s3 import S3Storage

    if not (s3.get("bucket") and s3.get("endpoint") and s3.get("region")):
        raise StorageInitError("S3 bucket, endpoint and region are required")
    return S3Storage(
        bucket=s3["bucket"], region=s3["region"], endpoint=s3["endpoint"],
        access_key=s3.get("accessKey", ""), secret=s3.get("secret", ""),
        force_path_style=bool(s3.get("forcePathStyle")),
    )


def _bootstrap(conn: Connection) -> None:
    tables.create_system_tables(conn)
    if store.load_collections(conn):
        return
    lookup = Schema()  # nothing exists yet
    superusers = new_collection({"name": SUPERUSERS, "type": "auth", "fields": _autodates(system=True)}, lookup)
    superusers.data.update({"system": True, "authToken": {**superusers.data["authToken"], "duration": 86400}})
    for field in superusers.fields:
        field["system"] = True
    users = new_collection(
        {
            "id": "_pb_users_auth_",
            "name": "users",
            "type": "auth",
            "listRule": "id = @request.auth.id",
            "viewRule": "id = @request.auth.id",
            "createRule": "",
            "updateRule": "id = @request.auth.id",
            "deleteRule": "id = @request.auth.id",
            "oauth2": {"mappedFields": {"id": "", "name": "name", "username": "", "avatarURL": "avatar"}},
            "fields": [
                {"name": "name", "type": "text", "max": 255},
                {
                    "name": "avatar", "type": "file", "maxSelect": 1,
                    "mimeTypes": ["image/jpeg", "image/png", "image/svg+xml", "image/gif", "image/webp"],
                },
                *_autodates(system=False),
            ],
        },
        lookup,
    )
    for collection in (superusers, users):
        schema.create_collection(conn, collection)


def _autodates(system: bool) -> list[dict[str, Any]]:
    return [
        {**COMMON_DEFAULTS, "name": "created", "type": "autodate", "onCreate": True, "onUpdate": False, "system": system},
        {**COMMON_DEFAULTS, "name": "updated", "type": "autodate", "onCreate": True, "onUpdate": True, "system": system},
    ]
