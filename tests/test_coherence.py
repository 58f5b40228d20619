"""Every process sees every committed collection and settings change, whatever the interleaving.

In-process tests pin the pieces (the atomic version, the listener, its fallback); the cluster
test runs two real `satchel serve` instances on one database and fires changes at both at once.
"""

from __future__ import annotations

import contextlib

import anyio
import pytest
import sqlalchemy as sa
from checks import at_once, wait_for

from satchel.config import Config
from satchel.core import schema_changes
from satchel.core.state import Satchel
from satchel.db import versions

ROOT = {"identity": "root@example.com", "password": "root-password-1"}


def _other_instance(config: Config) -> Satchel:
    """A second Satchel on the same database: its own engine, write lock and caches."""
    other = Satchel(config)
    other.init_sync()
    return other


# --- the version -------------------------------------------------------------------------------


def test_concurrent_bumps_from_two_instances_never_share_a_number(sat, config):
    other = _other_instance(config)
    start = sat.db.read_sync(versions.read)
    got = at_once([lambda db=db: db.write_sync(versions.bump) for db in (sat.db, other.db) * 15])
    other.db.dispose()
    assert sorted(got) == list(range(start + 1, start + 31))
    assert sat.db.read_sync(versions.read) == start + 30


def test_a_change_made_by_another_instance_is_seen_on_the_next_request(client, admin, config):
    other = _other_instance(config)
    anyio.run(other.change_schema, schema_changes.create, {"name": "elsewhere", "listRule": ""})
    anyio.run(other.change_settings, lambda stored: {**stored, "meta": {**stored["meta"], "appName": "Other"}})
    other.db.dispose()
    wait_for(lambda: client.get("/api/collections/elsewhere/records").status_code == 200)
    wait_for(lambda: client.get("/api/settings", headers=admin).json()["meta"]["appName"] == "Other")


# --- SQLite: the change counter ---------------------------------------------------------------


@pytest.fixture
def sqlite_sat(sat):
    if not sat.db.is_sqlite:
        pytest.skip("the change counter is SQLite's")
    return sat


def test_sqlite_a_change_by_another_process_is_seen_on_the_very_next_request(sqlite_sat, client, config):
    assert client.get("/api/collections/elsewhere/records").status_code == 404
    other = _other_instance(config)
    anyio.run(other.change_schema, schema_changes.create, {"name": "elsewhere", "listRule": ""})
    other.dispose()
    assert client.get("/api/collections/elsewhere/records").status_code == 200  # no waiting


def test_sqlite_the_row_is_read_only_when_the_counter_moved(sqlite_sat, config):
    feed = versions.VersionFeed(sqlite_sat.db)
    reads: list[str] = []
    sqlite_sat.db.inline_sqlite().set_trace_callback(lambda sql: reads.append(sql) if "_params" in sql else None)
    start = anyio.run(feed.latest)
    for _ in range(50):
        assert anyio.run(feed.latest) == start
    assert len(reads) == 1
    other = _other_instance(config)
    bumped = other.db.write_sync(versions.bump)
    other.dispose()
    assert anyio.run(feed.latest) == bumped == start + 1
    assert len(reads) == 2
    feed.close()


def test_sqlite_a_bump_that_never_moved_the_counter_is_seen_within_a_poll(sqlite_sat):
    """A writer that died between its commit and the counter: the row is read again a second later."""
    feed = versions.VersionFeed(sqlite_sat.db)
    start = anyio.run(feed.latest)
    with sqlite_sat.db.engine.begin() as conn:  # the row moved without the hook
        conn.exec_driver_sql(f"UPDATE _params SET value = '{start + 1}' WHERE id = '{versions.KEY}'")
    assert anyio.run(feed.latest) == start  # the counter stood still
    wait_for(lambda: anyio.run(feed.latest) == start + 1)
    feed.close()


# --- PostgreSQL: the listener ------------------------------------------------------------------


@pytest.fixture
def pg_sat(sat, client):
    if sat.db.is_sqlite:
        pytest.skip("the listener is PostgreSQL's")
    wait_for(lambda: sat.versions.listening)
    return sat


def _listener_pid(sat: Satchel) -> int | None:
    """The backend of this app's listener, found by the application name it sets (its channel)."""

    def find(conn: sa.Connection) -> int | None:
        channel = conn.exec_driver_sql(versions.CHANNEL_SQL).scalar()
        return conn.execute(sa.text("SELECT pid FROM pg_stat_activity WHERE application_name = :c"), {"c": channel}).scalar()

    return sat.db.read_sync(find)


def test_while_the_listener_listens_requests_ask_the_database_nothing(pg_sat, client, admin, config):
    statements: list[str] = []
    sa.event.listen(pg_sat.db.engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    for _ in range(20):
        assert client.get("/api/health").status_code == 200
    assert statements == []
    other = _other_instance(config)
    anyio.run(other.change_schema, schema_changes.create, {"name": "heard", "listRule": ""})
    version = other.db.read_sync(versions.read)
    other.db.dispose()
    wait_for(lambda: pg_sat.versions.heard == version)
    assert client.get("/api/collections/heard/records").status_code == 200


def test_a_lost_listener_comes_back_and_hears_again(pg_sat, client, config):
    first = _listener_pid(pg_sat)
    assert first is not None
    pg_sat.db.read_sync(lambda conn: conn.execute(sa.text("SELECT pg_terminate_backend(:p)"), {"p": first}))
    wait_for(lambda: (_listener_pid(pg_sat) or first) != first and pg_sat.versions.listening)
    other = _other_instance(config)
    bumped = other.db.write_sync(versions.bump)
    other.db.dispose()
    wait_for(lambda: pg_sat.versions.heard == bumped)


def test_without_a_listener_the_version_is_polled(sat, config):
    if sat.db.is_sqlite:
        pytest.skip("SQLite reads the row when its change counter moves")
    feed = versions.VersionFeed(sat.db)  # never started: as while a listener is down
    bumped = sat.db.write_sync(versions.bump)
    wait_for(lambda: anyio.run(feed.latest) == bumped)


# --- the connection budget ---------------------------------------------------------------------


@pytest.mark.parametrize("listener", [True, False], ids=["listening", "polling"])
def test_a_request_that_gets_no_connection_in_time_is_a_503_not_a_hang(db_url, tmp_path, listener):
    if not db_url:
        pytest.skip("the pool settings are PostgreSQL's")
    from starlette.testclient import TestClient

    from satchel.app import create_app

    config = Config(data_dir=str(tmp_path / "sb_data"), db_url=db_url, db_pool_size=1, db_pool_overflow=0, db_pool_timeout=0.2)
    app = create_app(config)
    sat = app.state.satchel
    # Listening, the records query meets the busy pool; without the listener (no lifespan), the
    # version poll before routing does.
    with TestClient(app) if listener else contextlib.nullcontext(TestClient(app)) as client:
        if listener:
            wait_for(lambda: sat.versions.listening)
        held = sat.db.engine.connect()  # the pool's only connection
        busy = client.get("/api/collections/users/records")
        held.close()
        assert busy.status_code == 503
        assert busy.json() == {"data": {}, "message": "The database is busy, please try again later.", "status": 503}
        assert client.get("/api/collections/users/records").status_code == 200
    sat.db.dispose()
