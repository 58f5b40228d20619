"""The sweeper: what a crash or a failed request leaves behind is found and removed, and logged.

- Upload temp files in `{dir}/.tmp` whose process is gone: at every process start, and in the
  periodic job (each process owns a locked folder there, see files/spool.py).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from ..files import spool

if TYPE_CHECKING:
    from .state import Satchel

log = logging.getLogger("satchel.sweeper")


def sweep_spool(sat: Satchel) -> int:
    """Remove the upload temp files of processes that are gone; returns the bytes freed."""
    removed = spool.sweep(sat.config.tmp_dir, sat.config.temp_grace)
    for path, size in removed:
        log.warning("removed upload temp %s (%d bytes) left by a process that is gone", path, size)
    return sum(size for _, size in removed)
