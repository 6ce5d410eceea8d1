"""Kill -9 a real server (and on PostgreSQL its job worker) in the middle of a commit: the next server (and
worker: procrastinate's stalled-job check) resumes it, every row exactly once."""

from __future__ import annotations

import time
import uuid

import polars as pl
import pytest
import sqlalchemy as sa

from bulkassist.client import Client
from bulkassist.server.launch import start_server_process
from tests.test_server_lifecycle import CLIENT_HEADER

ROWS = 3000
# Outcomes an import's rows have: one row each in row_results, or counted in a chunk's insert_outcomes blob.
OUTCOMES = ("SELECT (SELECT count(*) FROM row_results WHERE import_id = :i)"
            " + (SELECT coalesce(sum(rows), 0) FROM insert_outcomes WHERE import_id = :i)")


def client_rows(surname: str) -> pl.DataFrame:
    """ROWS new clients (First Name F0, F1, ...) with one surname, as text cells under CLIENT_HEADER."""
    return pl.DataFrame([["", f"F{i}", surname, "", "", ""] for i in range(ROWS)], schema=CLIENT_HEADER,
                        orient="row")
CRASH_ENV = {"BULKASSIST_STALE_SECONDS": "2", "BULKASSIST_CHUNK_ROWS": "100", "BULKASSIST_CHUNK_PAUSE": "0.05"}


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'crash.sqlite'}"
    return request.getfixturevalue("pg_database_url")


@pytest.mark.slow
def test_killed_commit_resumes_and_writes_every_row_exactly_once(database_url, tmp_path):
    first = start_server_process(database_url, data_dir=tmp_path / "a", env=CRASH_ENV)
    tokens = first.tokens
    surname = "Crash" + uuid.uuid4().hex[:6]
    try:
        client = Client(first.url, tokens["importer"])
        rows = client_rows(surname)
        imp = client.create_import("client", "add", file_name="crash.csv")
        imp.upload(CLIENT_HEADER, rows)
        imp.validate()
        imp.commit(wait=False)
        deadline = time.monotonic() + 60
        while True:
            done = imp.status()["progress"]["done"]
            if ROWS // 5 <= done:
                break
            assert time.monotonic() < deadline, "the commit did not progress"
            time.sleep(0.02)
        first.kill()
    finally:
        first.kill()
    assert 0 < done < ROWS, "the server must die in the middle of the commit"

    second = start_server_process(database_url, data_dir=tmp_path / "b", demo=False, env=CRASH_ENV)
    try:
        client = Client(second.url, tokens["importer"])
        imp = client.get_import(imp.id)
        final = imp.wait(timeout=120)
        assert final["status"] == "Committed", final
        assert final["committed"]["inserted"] == ROWS
        results = imp.results()
        assert results.height == ROWS and set(results["Status"]) == {"Success"}
        assert results["Created/Updated ID"].n_unique() == ROWS
    finally:
        second.stop()

    engine = sa.create_engine(database_url)
    with engine.connect() as conn:
        written = conn.execute(sa.text("SELECT count(*), count(DISTINCT id) FROM records WHERE import_id = :i"),
                               {"i": imp.id}).one()
        outcomes = conn.execute(sa.text(OUTCOMES), {"i": imp.id}).scalar()
        usage = conn.execute(sa.text("SELECT sum(rows) FROM usage_events WHERE import_id = :i"),
                             {"i": imp.id}).scalar()
    engine.dispose()
    assert tuple(written) == (ROWS, ROWS)
    assert outcomes == ROWS and usage == ROWS


@pytest.mark.slow
def test_cancel_during_a_commit_keeps_what_was_committed(tmp_path):
    server = start_server_process(data_dir=tmp_path, env=CRASH_ENV)
    try:
        client = Client(server.url, server.tokens["importer"])
        imp = client.create_import("client", "add", file_name="cancel.csv")
        imp.upload(CLIENT_HEADER, client_rows("Cancel"))
        imp.validate()
        imp.commit(wait=False)
        while imp.status()["progress"]["done"] == 0:
            time.sleep(0.02)
        imp.cancel()
        final = imp.wait(timeout=60)
        results = imp.results()
    finally:
        server.stop()
    assert final["status"] == "Cancelled"
    done = final["committed"]["inserted"]
    assert 0 < done < ROWS
    assert results.filter(results["Status"] == "Success").height == done
    assert results.filter(results["Status"] == "Cancelled").height == ROWS - done
