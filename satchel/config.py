"""One Settings object, read from the environment so that every server worker sees the same."""

from __future__ import annotations

import os
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Config:
    data_dir: str = "./sb_data"
    db_url: str = ""
    #: thumbs of images with more pixels than this are refused (decompression bombs)
    thumb_max_pixels: int = 100_000_000
    thumb_workers: int = field(default_factory=lambda: (os.cpu_count() or 1) + 2)
    thumb_max_wait: float = 60.0

    @property
    def database_url(self) -> str:
        return self.db_url or "sqlite:///" + os.path.join(os.path.abspath(self.data_dir), "data.db")

    @property
    def storage_dir(self) -> str:
        return os.path.join(self.data_dir, "storage")

    @property
    def tmp_dir(self) -> str:
        """Uploads spool here, on the data disk, not in a small /tmp."""
        return os.path.join(self.data_dir, ".tmp")

    @classmethod
    def from_env(cls) -> Config:
        env = os.environ
        defaults = cls()
        return cls(
            data_dir=env.get("SATCHEL_DIR", defaults.data_dir),
            db_url=env.get("SATCHEL_DB_URL", ""),
            thumb_max_pixels=int(env.get("SATCHEL_THUMB_MAX_PIXELS", defaults.thumb_max_pixels)),
            thumb_workers=int(env.get("SATCHEL_THUMB_WORKERS", defaults.thumb_workers)),
            thumb_max_wait=float(env.get("SATCHEL_THUMB_MAX_WAIT", defaults.thumb_max_wait)),
        )

    def to_env(self) -> dict[str, str]:
        return {
            "SATCHEL_DIR": self.data_dir,
            "SATCHEL_DB_URL": self.db_url,
            "SATCHEL_THUMB_MAX_PIXELS": str(self.thumb_max_pixels),
            "SATCHEL_THUMB_WORKERS": str(self.thumb_workers),
            "SATCHEL_THUMB_MAX_WAIT": str(self.thumb_max_wait),
        }
