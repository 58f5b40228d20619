"""The shared request counts: fixed windows, one table for every process of an instance."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
from checks import wait_for
from processes import SATCHEL, listening_sockets

from satchel.files import rate_counts
from satchel.files.rate_counts import WindowCounts

CONSUME = "import sys; from satchel.files.rate_counts import WindowCounts; print(WindowCounts(sys.argv[1]).consume('k', 3, 60, 1000))"


def test_a_window_allows_its_limit_then_refuses_until_the_next_window(tmp_path: Path) -> None:
    counts = WindowCounts(str(tmp_path / "counts"))
    assert [counts.consume("k", 3, 10, 1000) for _ in range(4)] == [True, True, True, False]
    assert counts.consume("k", 3, 10, 1009) is False
    assert [counts.consume("k", 3, 10, 1010) for _ in range(4)] == [True, True, True, False]
    assert counts.consume("other", 3, 10, 1010) is True


def test_processes_sharing_the_file_share_the_counts(tmp_path: Path) -> None:
    path = str(tmp_path / "counts")
    counts = WindowCounts(path)
    assert counts.consume("k", 3, 60, 1000) and counts.consume("k", 3, 60, 1000)
    run = [sys.executable, "-c", CONSUME, path]
    assert [subprocess.run(run, capture_output=True, text=True, check=True).stdout for _ in range(2)] == ["True\n", "False\n"]
    assert counts.consume("k", 3, 60, 1000) is False


def test_restart_forgets_every_count(tmp_path: Path) -> None:
    counts = WindowCounts(str(tmp_path / "counts"))
    assert counts.consume("k", 1, 60, 1000) and not counts.consume("k", 1, 60, 1000)
    WindowCounts(counts.path).restart()  # another process's restart
    assert counts.consume("k", 1, 60, 1000) and not counts.consume("k", 1, 60, 1000)


def test_a_full_set_gives_up_the_count_whose_window_ends_first(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(rate_counts, "SETS", 1)
    monkeypatch.setattr(rate_counts, "SIZE", rate_counts.HEADER.size + rate_counts.SET.size)
    counts = WindowCounts(str(tmp_path / "counts"))
    for way in range(rate_counts.WAYS):
        assert counts.consume(f"k{way}", 1, 100 + way, 1000)
    assert counts.consume("new", 1, 60, 1000)  # takes k0's slot: its window ends first
    assert counts.consume("k0", 1, 100, 1000) is True  # k0's count was forgotten (new's in turn)
    assert counts.consume("k7", 1, 107, 1000) is False  # the others kept theirs


def test_two_serving_processes_of_one_instance_share_the_counts(tmp_path: Path, satchel_server) -> None:
    data = str(tmp_path / "data")
    subprocess.run([SATCHEL, "superuser", "upsert", "rl@example.com", "rl-password-123", "--dir", data], check=True, capture_output=True)
    url = satchel_server("--dir", data, "--workers", "2")
    port = int(url.rsplit(":", 1)[1])
    wait_for(lambda: listening_sockets(port) == 2, 30)
    token = httpx.post(f"{url}/api/collections/_superusers/auth-with-password",
                       json={"identity": "rl@example.com", "password": "rl-password-123"}).json()["token"]
    rules = {"enabled": True, "rules": [{"label": "/api/health", "maxRequests": 10, "duration": 3600}]}
    assert httpx.patch(f"{url}/api/settings", headers={"Authorization": token}, json={"rateLimits": rules}).status_code == 200
    # each request on a new connection: the kernel spreads them over both processes
    statuses = sorted(httpx.get(f"{url}/api/health").status_code for _ in range(24))
    assert statuses == [200] * 10 + [429] * 14
