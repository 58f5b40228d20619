"""The running instance: configuration, database, schema cache, settings and storage."""

from __future__ import annotations

import copy
import os
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import anyio.to_thread
import orjson
from sqlalchemy.engine import Connection

from ..config import Config
from ..db import store, versions
from ..db.engine import Database, Pool
from ..db.foreign import refuse_pocketbase_dir
from ..files.spool import Spool
from ..storage.base import Storage, StorageInitError
from ..storage.local import LocalStorage
from . import sweeper
from .bootstrap import bootstrap
from .collection_model import SUPERUSERS, Collection
from .crons import Crons, Job
from .logs import Logs, cleanup
from .rate_limits import DEFAULT_RULES, RateLimits
from .realtime.bus import Bus
from .schema import Schema

if TYPE_CHECKING:  # boto3 and Pillow cost tens of MB per worker: loaded on first use only
    from ..storage.s3 import S3Storage
    from ..thumbs.service import Thumbs
    from .record_cache import RecordCache

T = TypeVar("T")

SETTINGS_KEY = "settings"
RATE_COUNTS = "rate_limits.bin"  # in the data dir: the request counts of this instance's processes
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
    "rateLimits": {"rules": DEFAULT_RULES, "excludedIPs": [], "enabled": False},
    "trustedProxy": {"headers": [], "useLeftmostIP": False},
    "batch": {"enabled": False, "maxRequests": 50, "timeout": 3, "maxBodySize": 0},
    "logs": {"maxDataSize": 0, "maxDays": 5, "minLevel": 0, "logIP": True, "logAuthId": False},
}


class Satchel:
    def __init__(self, config: Config) -> None:
        self.config = config
        refuse_pocketbase_dir(config.data_dir)  # before anything is created there
        os.makedirs(config.data_dir, exist_ok=True)  # SQLite's file goes there
        self.spool = Spool(config.tmp_dir)
        self.db = Database(config.database_url, Pool(config.db_pool_size, config.db_pool_overflow, config.db_pool_timeout, config.db_loop_pool_size))
        self.versions = versions.VersionFeed(self.db)
        self.schema = Schema()
        self.settings: dict[str, Any] = copy.deepcopy(DEFAULT_SETTINGS)
        self._loading = threading.Lock()
        self._storage: Storage | None = None
        self._storage_key: Any = None
        self._thumbs: Thumbs | None = None
        self.active_backup = ""  # the key of the backup this process is making or restoring
        self.crons = Crons(self)
        self.crons.add(Job("__pbDBOptimize__", "0 0 * * *", _optimize_database))
        self.crons.add(Job(sweeper.JOB_ID, sweeper.SCHEDULE, sweeper.sweep))
        self.logs = Logs(config, self.db)
        self.crons.add(Job("__pbLogsCleanup__", "0 */6 * * *", cleanup))
        self.bus = Bus(self.db)  # realtime messages, written with the changes they announce
        self.record_cache: RecordCache | None = None
        if not self.db.is_sqlite and config.record_cache_seconds > 0:  # SQLite's own read costs less
            from .record_cache import RecordCache  # here: SQLite servers never load it

            self.record_cache = RecordCache(config.record_cache_seconds)
            self.versions.follower = self.record_cache
            self.bus.committed = self.record_cache.committed
        self.rate_limits = RateLimits(os.path.join(config.data_dir, RATE_COUNTS))

    # start-up -----------------------------------------------------------------

    def init_sync(self) -> None:
        """Create the system tables and collections (core/bootstrap.py) and the logs table;
        remove upload temp files that processes gone before this one left behind."""
        sweeper.sweep_spool(self)
        self.db.write_sync(bootstrap)
        self.db.snapshot_sync(self.load_sync)
        self.logs.init_sync()

    def load_sync(self, conn: Connection) -> None:
        """Collections and settings as stored, if the version moved (call in one snapshot).

        The new Schema replaces the old one whole, so a request never sees half of one; the
        version only moves forward, so a slow reload never puts back what a quicker one replaced.
        """
        with self._loading:
            version = versions.read(conn)
            if version > self.schema.version:
                settings = stored_settings(conn)
                self.schema = Schema.load_sync(conn, version)
                self.settings = settings
                self.crons.settings_loaded(settings)

    def dispose(self) -> None:
        """Close the connections of the main database and of the logs."""
        self.db.dispose()
        self.logs.dispose()
        self.versions.close()
        self.rate_limits.close()

    async def refresh(self) -> None:
        """Pick up collection or settings changes made by any process (on PostgreSQL, no query
        while the listener hears the changes; on SQLite, one read of shared memory)."""
        if await self.versions.latest() > self.schema.version:
            await self.reload()

    async def reload(self) -> None:
        await self.db.snapshot(self.load_sync)

    async def change_schema(self, change: Callable[..., T], *args: Any) -> T:
        """Run `change(conn, stored_schema, *args)` under the cluster-wide schema lock, then load
        the result here: on commit it is every other process's news as well."""

        def write(conn: Connection) -> T:
            versions.bump(conn)  # first: the lock, and the stored schema read below is the latest
            return change(conn, Schema.load_sync(conn, -1), *args)

        result = await self.db.write(write)
        await self.reload()
        return result

    def within(self, db: Database) -> Satchel:
        """This instance seen through `db` (a Transaction): everything else is shared."""
        view = copy.copy(self)
        view.db = db
        return view

    # settings and storage -------------------------------------------------------

    async def change_settings(self, change: Callable[[dict[str, Any]], dict[str, Any]]) -> dict[str, Any]:
        """Store and return `change(stored settings)`: made from the row as stored, under the schema lock."""

        def write(conn: Connection) -> dict[str, Any]:
            versions.bump(conn)
            settings = change(stored_settings(conn))
            store.set_param(conn, SETTINGS_KEY, orjson.dumps(settings).decode())
            return settings

        settings = await self.db.write(write)
        await self.reload()
        return settings

    def storage(self) -> Storage:
        """The storage the settings choose now (S3 or local); raises StorageInitError."""
        s3 = self.settings["s3"]
        key = tuple(sorted(s3.items())) if s3.get("enabled") else "local"
        if self._storage is None or self._storage_key != key:
            self._storage = self._cached(s3_storage(s3)) if s3.get("enabled") else LocalStorage(self.config.storage_dir)
            self._storage_key = key
        return self._storage

    def _cached(self, s3: S3Storage) -> Storage:
        """S3 with copies of its small objects on this instance's disk, unless switched off."""
        cfg = self.config
        if cfg.s3_cache_mib <= 0:
            return s3
        from ..storage.cache import CachedStorage, namespace

        return CachedStorage(
            s3, cfg.s3_cache_dir, namespace(s3.endpoint_url, s3.bucket),
            max_bytes=int(cfg.s3_cache_mib * (1 << 20)), max_object=int(cfg.s3_cache_max_object_mib * (1 << 20)),
        )

    def thumbs(self, storage: Storage) -> Thumbs:
        """The thumb maker for `storage`, kept while the storage is the same object."""
        if self._thumbs is None or self._thumbs.storage is not storage:
            from ..thumbs.service import Thumbs

            cfg = self.config
            self._thumbs = Thumbs(
                storage, cfg.thumb_workers, cfg.thumb_max_pixels, cfg.thumb_max_wait,
                hold=self.db.locks.hold, memory=cfg.thumb_memory_mib << 20, tmp_dir=self.spool.folder,
            )
        return self._thumbs

    # collections ----------------------------------------------------------------

    def find_collection(self, id_or_name: str) -> Collection | None:
        return self.schema.find_collection(id_or_name)

    def superusers(self) -> Collection:
        found = self.schema.find_collection(SUPERUSERS)
        assert found is not None, "the database was not initialised"
        return found


def stored_settings(conn: Connection) -> dict[str, Any]:
    """The settings row over the defaults (a block stored whole keeps defaults for keys it lacks)."""
    raw = store.get_param(conn, SETTINGS_KEY)
    merged = copy.deepcopy(DEFAULT_SETTINGS)
    for key, value in (orjson.loads(raw) if raw else {}).items():
        merged[key] = {**merged.get(key, {}), **value} if isinstance(value, dict) else value
    return merged


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
