"""One Config object: defaults here, the environment over them, command-line flags over that.

Every server process builds its Config from the environment (`Config.from_env`), so `serve`
writes the final values back into the environment (`to_env`) before it starts any worker.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


def _env(name: str, **kwargs: Any) -> Any:
    """A dataclass field read from the environment variable `name`."""
    return field(metadata={"env": name}, **kwargs)


@dataclass(frozen=True)
class Config:
    data_dir: str = _env("SATCHEL_DIR", default="./sb_data")
    db_url: str = _env("SATCHEL_DB_URL", default="")
    #: thumbs of images with more pixels than this are refused (decompression bombs)
    thumb_max_pixels: int = _env("SATCHEL_THUMB_MAX_PIXELS", default=100_000_000)
    thumb_workers: int = _env("SATCHEL_THUMB_WORKERS", default_factory=lambda: (os.cpu_count() or 1) + 2)
    thumb_max_wait: float = _env("SATCHEL_THUMB_MAX_WAIT", default=60.0)
    #: MiB of decoded images a process's thumb jobs may hold at once; bigger images queue
    thumb_memory_mib: int = _env("SATCHEL_THUMB_MEMORY", default=1024)
    #: a temp or partial file that no live process owns (an upload cut short by a crash) is
    #: removed once idle this many seconds, an unfinished S3 multipart upload this long after its start
    temp_grace: float = _env("SATCHEL_TEMP_GRACE", default=3600.0)
    #: a stored file that no record names is removed once it is this many seconds old; longer
    #: than any upload, since files are written before the row that names them is committed
    orphan_grace: float = _env("SATCHEL_ORPHAN_GRACE", default=86400.0)
    #: MiB of S3 objects an instance keeps copies of in `{dir}/cache/s3` (0: none); objects
    #: larger than `s3_cache_max_object` MiB are always read from S3
    s3_cache_mib: float = _env("SATCHEL_S3_CACHE", default=1024.0)
    s3_cache_max_object_mib: float = _env("SATCHEL_S3_CACHE_MAX_OBJECT", default=16.0)
    #: PostgreSQL connections each process keeps, may add under load, and waits for (seconds)
    db_pool_size: int = _env("SATCHEL_DB_POOL_SIZE", default=5)
    db_pool_overflow: int = _env("SATCHEL_DB_POOL_OVERFLOW", default=0)
    db_pool_timeout: float = _env("SATCHEL_DB_POOL_TIMEOUT", default=10.0)
    #: PostgreSQL connections each process keeps for point reads on its event loop
    db_loop_pool_size: int = _env("SATCHEL_DB_LOOP_POOL_SIZE", default=2)
    #: PostgreSQL: seconds a process may keep a record's file names for downloads, at most (0: never);
    #: changes reach it sooner, as they commit (core/record_cache.py)
    record_cache_seconds: float = _env("SATCHEL_RECORD_CACHE_SECONDS", default=1.0)
    #: debug, info (the access log shows), warning or error
    log_level: str = _env("SATCHEL_LOG_LEVEL", default="info")
    #: text (readable lines) or json (one object per line, for log collectors)
    log_format: str = _env("SATCHEL_LOG_FORMAT", default="text")

    @property
    def database_url(self) -> str:
        return self.db_url or "sqlite:///" + os.path.join(os.path.abspath(self.data_dir), "data.db")

    @property
    def storage_dir(self) -> str:
        return os.path.join(self.data_dir, "storage")

    @property
    def s3_cache_dir(self) -> str:
        return os.path.join(self.data_dir, "cache", "s3")

    @property
    def tmp_dir(self) -> str:
        """Uploads spool here, on the data disk, not in a small /tmp."""
        return os.path.join(self.data_dir, ".tmp")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **flags: Any) -> Config:
        """Defaults, overridden by `env` (os.environ by default), overridden by flags that are not None."""
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        for f in dataclasses.fields(cls):
            if flags.get(f.name) is not None:
                values[f.name] = flags[f.name]
            elif env.get(f.metadata["env"], "") != "":
                values[f.name] = _parse(f, env[f.metadata["env"]])
        return cls(**values)

    def to_env(self) -> dict[str, str]:
        return {f.metadata["env"]: str(getattr(self, f.name)) for f in dataclasses.fields(self)}


def _parse(f: dataclasses.Field, text: str) -> Any:
    """The environment's text as the field's type; a bad value names the variable."""
    kind = {"int": int, "float": float, "str": str}[str(f.type)]
    try:
        return kind(text.strip() if kind is not str else text)
    except ValueError:
        raise ValueError(f"{f.metadata['env']}={text!r} is not a valid {kind.__name__}") from None
