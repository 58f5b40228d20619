"""Fixtures: a real Satchel app on a fresh database (SQLite, and PostgreSQL when configured)."""

from __future__ import annotations

import asyncio
import functools
import os
import uuid
from collections.abc import Iterator
from urllib.parse import quote

import bcrypt
import pytest
import sqlalchemy as sa
from pbref import Reference, find_binary, running_reference
from starlette.testclient import TestClient

from satchel.app import create_app
from satchel.config import Config
from satchel.core import superusers
from satchel.db.engine import Database, Pool

POSTGRES_URL = os.environ.get("SATCHEL_TEST_POSTGRES_URL", "")


def _bcrypt_once_per_password() -> None:
    """bcrypt at PocketBase's cost takes ~65 ms a call, and the suite's in-process apps make
    thousands of calls with a handful of passwords (two per superuser login fixture: a fifth of
    the suite's time). Here each (password, cost) is hashed once per test process, its salt
    reused after that, and each (password, hash) check is computed once: every check is still
    bcrypt's own answer. Servers started as processes are untouched."""
    hashpw, checkpw = bcrypt.hashpw, bcrypt.checkpw
    hashes: dict[tuple[bytes, bytes], bytes] = {}

    def hashed(password: bytes, salt: bytes) -> bytes:
        key = (password, salt[:7])  # b"$2b$10$": the cost, not the random part
        if key not in hashes:
            hashes[key] = hashpw(password, salt)
        return hashes[key]

    bcrypt.hashpw, bcrypt.checkpw = hashed, functools.cache(checkpw)


_bcrypt_once_per_password()
ADMIN_EMAIL = "admin@example.com"
ADMIN_PASSWORD = "admin-password-1"


def _postgres_schema_url() -> Iterator[str]:
    """A fresh PostgreSQL schema per test, reached through search_path."""
    name = "t_" + uuid.uuid4().hex[:12]
    admin = sa.create_engine(POSTGRES_URL.replace("postgresql://", "postgresql+psycopg://", 1))
    with admin.begin() as conn:
        conn.execute(sa.text(f"CREATE SCHEMA {name}"))
    sep = "&" if "?" in POSTGRES_URL else "?"
    yield f"{POSTGRES_URL}{sep}options={quote(f'-csearch_path={name}')}"
    with admin.begin() as conn:
        conn.execute(sa.text(f"DROP SCHEMA {name} CASCADE"))
    admin.dispose()


def open_database(url: str) -> Database:
    """A Database of its own on `url` (another instance's pool), with the default connection budget."""
    defaults = Config()
    return Database(url, Pool(defaults.db_pool_size, defaults.db_pool_overflow, defaults.db_pool_timeout, defaults.db_loop_pool_size))


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest) -> Iterator[str]:
    if request.param == "sqlite":
        yield ""
        return
    if not POSTGRES_URL:
        pytest.skip("SATCHEL_TEST_POSTGRES_URL is not set, so the PostgreSQL run is skipped")
    yield from _postgres_schema_url()


@pytest.fixture
def config(tmp_path, db_url: str) -> Config:
    return Config(data_dir=str(tmp_path / "sb_data"), db_url=db_url, thumb_workers=2)


@pytest.fixture
def app(config: Config):
    application = create_app(config)
    yield application
    application.state.satchel.dispose()


@pytest.fixture
def client(app) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def sat(app):
    return app.state.satchel


@pytest.fixture
def admin_token(client: TestClient, sat) -> str:
    asyncio.run(superusers.upsert(sat, ADMIN_EMAIL, ADMIN_PASSWORD))
    response = client.post(
        "/api/collections/_superusers/auth-with-password",
        json={"identity": ADMIN_EMAIL, "password": ADMIN_PASSWORD},
    )
    assert response.status_code == 200, response.text
    return response.json()["token"]


@pytest.fixture
def admin(admin_token: str) -> dict[str, str]:
    """Headers that make a request as the superuser."""
    return {"Authorization": admin_token}


# --- files ---------------------------------------------------------------------------------------

pytest_plugins = ["s3server", "processes", "filter_listers"]


@pytest.fixture(scope="module")
def reference() -> Iterator[Reference]:
    """One reference PocketBase for a module's differential tests (a module may define its own)."""
    if find_binary() is None:
        pytest.skip("the pocketbase binary is not installed")
    with running_reference() as ref:
        yield ref


def image_bytes(width: int, height: int, fmt: str = "PNG", color=(200, 30, 30), mode: str = "RGB") -> bytes:
    """A real encoded image, made on the spot (no binary fixtures in the repo)."""
    import io

    from PIL import Image

    buffer = io.BytesIO()
    image = Image.new(mode, (width, height), color)
    for x in range(0, width, 7):  # some structure, so resampling has something to do
        for y in range(0, height, 5):
            image.putpixel((x, y), (10, 200, 90) if mode == "RGB" else (10, 200, 90, 255))
    image.save(buffer, fmt)
    return buffer.getvalue()


@pytest.fixture(params=["memory", "local", "s3", "s3-cached"])
def storage(request: pytest.FixtureRequest, tmp_path):
    """Each storage backend on its own, for the storage-level tests (S3 also behind the disk cache)."""
    from satchel.storage.cache import CachedStorage
    from satchel.storage.local import LocalStorage
    from satchel.storage.memory import MemoryStorage

    if request.param == "memory":
        return MemoryStorage()
    if request.param == "local":
        return LocalStorage(str(tmp_path / "storage"))
    if request.param == "s3-cached":
        return CachedStorage(request.getfixturevalue("s3_storage"), str(tmp_path / "cache"), "test", 1 << 30, 1 << 20)
    return request.getfixturevalue("s3_storage")


@pytest.fixture(params=["local", "s3"])
def storage_kind(request: pytest.FixtureRequest, client, admin, sat) -> str:
    """Run a files test on local disk and again on S3 (moto's server), switched through the settings API."""
    if request.param == "s3":
        from s3server import ACCESS_KEY, REGION, SECRET, make_bucket

        endpoint = request.getfixturevalue("moto_endpoint")
        response = client.patch("/api/settings", headers=admin, json={"s3": {
            "enabled": True, "bucket": make_bucket(endpoint), "region": REGION, "endpoint": endpoint,
            "accessKey": ACCESS_KEY, "secret": SECRET, "forcePathStyle": True,
        }})
        assert response.status_code == 200, response.text
    return request.param


@pytest.fixture
def stored(sat, storage_kind):
    """Read what the active storage holds: stored(key) -> (bytes, content type) or None."""
    import anyio

    async def read(key: str):
        storage = sat.storage()
        info = await storage.stat(key)
        if info is None:
            return None
        chunks = [chunk async for chunk in storage.iter_range(key, 0, info.size)]
        return b"".join(chunks), info.content_type

    return lambda key: anyio.run(read, key)
