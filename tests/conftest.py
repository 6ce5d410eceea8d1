"""Shared fixtures: real import servers (uvicorn subprocesses) on SQLite and on PostgreSQL.

- `sqlite_server`: session-scoped `RunningServer` on a temporary SQLite file, with the demo data.
- `pg_server`: the same on PostgreSQL (postgresql+psycopg://postgres@127.0.0.1:5432/test), in a fresh
  schema dropped afterwards; marked `postgres`.
- `server`: parametrized over both, for the life-cycle tests.
- `client` / `client_for(role)`: `bulkassist.Client`s on `server` for the demo users
  (admin, importer, viewer, other_org, unlicensed, limited).
- `pg_database_url`: a fresh, empty PostgreSQL schema (for tests that start their own servers);
  `pg_module_database_url` one per test module.
- `dashboard_url`: Voila serving the dashboard of `sqlite_server`, for the browser tests; `browser`: Debian's
  Chromium through Playwright, one per test module.

On PostgreSQL each server comes with a `bulkassist worker` process that runs its jobs. Servers use a short
stalled-worker timeout (BULKASSIST_STALE_SECONDS=3) so a killed worker's job runs again quickly on another,
and short webhook polls and backoff so retries show in seconds.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

PG_URL = os.environ.get("BULKASSIST_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
# Webhook deliveries: a pass every 0.2 s, retries after 0.3 s, 0.6 s, 1.2 s ... (tests/test_server_events.py)
SERVER_ENV = {"BULKASSIST_STALE_SECONDS": "3", "BULKASSIST_WEBHOOK_POLL": "0.2", "BULKASSIST_WEBHOOK_BACKOFF": "0.3"}


def _pg_available() -> bool:
    try:
        import psycopg

        with psycopg.connect(PG_URL.replace("+psycopg", ""), connect_timeout=3):
            return True
    except Exception:
        return False


def fresh_pg_schema() -> tuple[str, str]:
    """(database URL whose search_path is a new empty schema, schema name)."""
    import psycopg

    schema = f"ba_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_URL.replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in PG_URL else "?"
    return f"{PG_URL}{sep}options=-csearch_path%3D{schema}", schema


def drop_pg_schema(schema: str) -> None:
    import psycopg

    with psycopg.connect(PG_URL.replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def _fresh_database() -> Iterator[str]:
    if not _pg_available():
        pytest.skip(f"PostgreSQL is not reachable at {PG_URL}")
    url, schema = fresh_pg_schema()
    yield url
    drop_pg_schema(schema)


@pytest.fixture
def pg_database_url() -> Iterator[str]:
    yield from _fresh_database()


@pytest.fixture(scope="module")
def pg_module_database_url() -> Iterator[str]:
    """`pg_database_url` shared by the tests of a module (servers they share, started once)."""
    yield from _fresh_database()


@pytest.fixture(scope="session")
def sqlite_server(tmp_path_factory):
    from bulkassist.server.launch import start_server_process

    server = start_server_process(data_dir=tmp_path_factory.mktemp("sqlite-server"), env=SERVER_ENV)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def pg_server(tmp_path_factory):
    from bulkassist.server.launch import start_server_process

    if not _pg_available():
        pytest.skip(f"PostgreSQL is not reachable at {PG_URL}")
    url, schema = fresh_pg_schema()
    server = start_server_process(url, data_dir=tmp_path_factory.mktemp("pg-server"), env=SERVER_ENV)
    yield server
    server.stop()
    drop_pg_schema(schema)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def server(request):
    """A running server on each database in turn."""
    return request.getfixturevalue("sqlite_server" if request.param == "sqlite" else "pg_server")


@pytest.fixture
def client_for(server):
    """`client_for("importer")`: a `bulkassist.Client` of that demo user on `server`."""
    from bulkassist.client import Client

    def make(role: str = "importer", **kwargs) -> Client:
        return Client(server.url, server.tokens[role], **kwargs)

    return make


@pytest.fixture
def client(client_for):
    return client_for("importer")


@pytest.fixture(scope="session")
def dashboard_url(sqlite_server) -> Iterator[str]:
    """Voila serving the dashboard of `sqlite_server`, shared by the browser test modules: each page signs in as
    its own user, so one Voila serves them all (each start is a Voila process, a kernel and a cold first page)."""
    from bulkassist.dashboard import start_voila

    with start_voila(sqlite_server.url, timeout=120) as voila:  # a cold kernel on a busy 2-core machine
        yield voila.url


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Debian's Chromium driven by Playwright, one per test module (a session-wide one would keep Playwright's
    event loop running while the worker's other tests run)."""
    from playwright.sync_api import sync_playwright

    from bulkassist.dashboard.browser import launch_chromium

    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        yield chromium
        chromium.close()
