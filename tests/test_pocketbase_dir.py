"""A PocketBase data directory is refused by every command, with one sentence, and left as it was."""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

import pytest
from pbref import SUPERUSER_EMAIL, SUPERUSER_PASSWORD, find_binary
from processes import SATCHEL, free_port


@pytest.fixture(scope="module")
def pb_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A pb_data made by the reference binary itself."""
    binary = find_binary()
    if binary is None:
        pytest.skip("no pocketbase binary")
    data_dir = tmp_path_factory.mktemp("pb") / "pb_data"
    subprocess.run(
        [binary, "superuser", "upsert", SUPERUSER_EMAIL, SUPERUSER_PASSWORD, "--dir", str(data_dir)],
        check=True, capture_output=True, timeout=30,
    )
    return data_dir


def _snapshot(folder: Path) -> dict[str, tuple[int, float, str]]:
    """Every file under `folder` with its size, modification time and content hash."""
    return {
        str(path.relative_to(folder)): (path.stat().st_size, path.stat().st_mtime, hashlib.sha256(path.read_bytes()).hexdigest())
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    } | {str(path.relative_to(folder)) + "/": (0, 0, "") for path in folder.rglob("*") if path.is_dir()}


@pytest.mark.parametrize(
    "command",
    [["serve", "--http", "127.0.0.1:{port}"], ["migrate"], ["superuser", "upsert", "a@example.com", "password-123"], ["superuser", "delete", "a@example.com"]],
    ids=["serve", "migrate", "superuser-upsert", "superuser-delete"],
)
def test_every_command_refuses_a_pocketbase_data_dir_and_changes_nothing(pb_data: Path, command: list[str]):
    before = _snapshot(pb_data)
    argv = [SATCHEL, *(part.format(port=free_port()) for part in command), "--dir", str(pb_data)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("SATCHEL_")}
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60, env=env)
    assert done.returncode == 1
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "is a PocketBase data directory" in lines[0]
    assert "satchel import-pocketbase" in lines[0]
    assert _snapshot(pb_data) == before


def test_a_satchel_data_dir_is_still_opened(tmp_path: Path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("SATCHEL_")}
    for _ in range(2):  # the second run finds Satchel's own data.db
        done = subprocess.run([SATCHEL, "migrate", "--dir", str(tmp_path / "sb")], capture_output=True, text=True, timeout=60, env=env)
        assert done.returncode == 0, done.stderr
