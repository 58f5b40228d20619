"""Fixtures: a real Satchel app on a fresh database (SQLite, and PostgreSQL when configured)."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator
from urllib.parse import quote

import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient

from satchel.app import create_app
from satchel.config import Config
from satchel.core import superusers

POSTGRES_URL = os.environ.get("SATCHEL_TEST_POSTGRES_URL", "")
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
    application.state.satchel.db.dispose()


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
