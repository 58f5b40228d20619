"""The upload spool: each process's folder in `.tmp` survives every sweep while it lives, and goes when it dies."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from satchel.files import spool
from satchel.files.spool import Spool

CHILD = """
import sys, time
from satchel.files.spool import Spool
folder = Spool(sys.argv[1]).folder()
with open(folder + "/upload", "wb") as f:
    f.write(b"x" * 1000)
print(folder, flush=True)
time.sleep(600)
"""


def test_a_live_process_folder_survives_a_sweep_with_no_grace(tmp_path: Path):
    mine = Spool(str(tmp_path))
    (Path(mine.folder()) / "upload").write_bytes(b"in flight")
    assert spool.sweep(str(tmp_path), grace=0, now=time.time() + 10) == []
    assert (Path(mine.folder()) / "upload").read_bytes() == b"in flight"


def test_the_folder_of_a_killed_process_is_swept_at_once(tmp_path: Path):
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    folder = child.stdout.readline().strip()
    assert spool.sweep(str(tmp_path), grace=3600) == []  # alive: kept
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    child.stdout.close()
    removed = spool.sweep(str(tmp_path), grace=3600)
    assert removed == [(folder, 1000)]
    assert os.listdir(tmp_path) == []


def test_stray_entries_are_removed_once_older_than_the_grace(tmp_path: Path):
    (tmp_path / "satchel-upload-old").write_bytes(b"12345")
    (tmp_path / "a-folder").mkdir()
    (tmp_path / "a-folder" / "part").write_bytes(b"123")
    now = time.time()
    assert spool.sweep(str(tmp_path), grace=60, now=now) == []
    removed = spool.sweep(str(tmp_path), grace=60, now=now + 61)
    assert sorted(removed) == [(str(tmp_path / "a-folder"), 3), (str(tmp_path / "satchel-upload-old"), 5)]
    assert os.listdir(tmp_path) == []


def test_a_folder_made_while_sweepers_run_is_always_kept_and_locked(tmp_path: Path):
    """A sweeper may take a new folder's lock before its maker does; the maker then makes another."""
    stop = threading.Event()

    def sweep_hard() -> None:
        while not stop.is_set():
            spool.sweep(str(tmp_path), grace=0, now=time.time() + 10)

    sweepers = [threading.Thread(target=sweep_hard) for _ in range(2)]
    for thread in sweepers:
        thread.start()
    try:
        made = [Spool(str(tmp_path)) for _ in range(200)]
        folders = [s.folder() for s in made]
    finally:
        stop.set()
        for thread in sweepers:
            thread.join()
    assert all(os.path.isfile(os.path.join(f, spool.LOCK_NAME)) for f in folders)
    assert spool.sweep(str(tmp_path), grace=0, now=time.time() + 10) == []


def test_closing_removes_the_folder(tmp_path: Path):
    mine = Spool(str(tmp_path))
    folder = mine.folder()
    mine.close()
    assert not os.path.exists(folder)
