"""Jobs on procrastinate's queue (PostgreSQL): API processes defer them, `bulkassist worker` processes run them.

Two API processes and two workers share one PostgreSQL schema; commits of several organisations run
at once; a worker killed with SIGKILL in the middle of a commit leaves a stalled job that the other
worker's periodic check puts back in the queue, and every valid row is written exactly once; a commit
requested again queues one job.
"""

from __future__ import annotations

import os
import signal
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import polars as pl
import pytest
import requests
import sqlalchemy as sa

from bulkassist.client import Client
from bulkassist.server.db import make_engine, sessions
from bulkassist.server.jobs import commit_job, queue_for
from bulkassist.server.launch import start_server_process, start_worker_process, stop_process
from bulkassist.server.models import Import
from tests.test_server_lifecycle import CLIENT_HEADER

pytestmark = [pytest.mark.postgres, pytest.mark.slow]
# Workers beat every second and count as dead after 3 s; commits write 100 rows a chunk, 0.05 s apart.
JOB_ENV = {"BULKASSIST_STALE_SECONDS": "3", "BULKASSIST_CHUNK_ROWS": "100", "BULKASSIST_CHUNK_PAUSE": "0.05"}


def client_rows(count: int, surname: str) -> pl.DataFrame:
    return pl.DataFrame([["", f"F{i}", surname, "", "", ""] for i in range(count)], schema=CLIENT_HEADER,
                        orient="row")


def validated(client: Client, count: int, surname: str):
    imp = client.create_import("client", "add", file_name=f"{surname}.csv")
    imp.upload(CLIENT_HEADER, client_rows(count, surname))
    imp.validate()
    return imp


def written(database_url: str, import_id: int) -> tuple[int, int, int, int]:
    """(records, distinct records, row outcomes, usage rows) of an import, counted in the database."""
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as conn:
            records = conn.execute(sa.text("SELECT count(*), count(DISTINCT id) FROM records WHERE import_id = :i"),
                                   {"i": import_id}).one()
            outcomes = conn.execute(sa.text("SELECT count(*) FROM row_results WHERE import_id = :i"),
                                    {"i": import_id}).scalar()
            usage = conn.execute(sa.text("SELECT coalesce(sum(rows), 0) FROM usage_events WHERE import_id = :i"),
                                 {"i": import_id}).scalar()
    finally:
        engine.dispose()
    return records[0], records[1], outcomes, usage


@pytest.fixture
def deployment(pg_database_url, tmp_path):
    """Two API processes (no worker of their own) and two `bulkassist worker`s on one PostgreSQL schema."""
    first = start_server_process(pg_database_url, data_dir=tmp_path / "api1", env=JOB_ENV, job_workers=0)
    second = start_server_process(pg_database_url, data_dir=tmp_path / "api2", env=JOB_ENV, job_workers=0,
                                  demo=False)
    workers = [start_worker_process(pg_database_url, tmp_path / f"worker{n}.log", env=JOB_ENV, log_level="info")
               for n in (1, 2)]
    try:
        yield first, second, workers
    finally:
        for process in workers:
            stop_process(process)
        second.stop()
        first.stop()


def test_two_apis_and_two_workers_commit_imports_of_several_organisations(deployment, pg_database_url):
    first, second, _ = deployment
    tokens = first.tokens
    users = [(api, user) for api in (first, second) for user in ("importer", "other_org")] * 2
    imports = [(validated(Client(api.url, tokens[user]), 400, f"Many{n}{uuid.uuid4().hex[:4]}"), user)
               for n, (api, user) in enumerate(users)]
    for imp, _ in imports:
        imp.commit(wait=False)
    finals = [imp.wait(timeout=120) for imp, _ in imports]
    assert [f["status"] for f in finals] == ["Committed"] * 8
    assert [f["committed"]["inserted"] for f in finals] == [400] * 8
    for imp, _ in imports:
        assert written(pg_database_url, imp.id) == (400, 400, 400, 400)
    # Each organisation sees its own imports only, whichever API process answers.
    seen = {item["id"] for item in Client(second.url, tokens["other_org"]).imports(page_size=100)["items"]}
    theirs = {imp.id for imp, user in imports if user == "other_org"}
    assert len(theirs) == 4 and seen & {imp.id for imp, _ in imports} == theirs


def _worker_running_commit(workers, logs, import_id: int, deadline: float):
    """The worker that started the commit job of `import_id` (each worker logs the jobs it starts)."""
    while time.monotonic() < deadline:
        for process, log in zip(workers, logs, strict=True):
            text = log.read_text() if log.exists() else ""
            if "Starting job commit[" in text and f"(import_id={import_id})" in text:
                return process, log
        time.sleep(0.05)
    raise AssertionError(f"no worker started the commit job of import {import_id}")


def test_a_worker_killed_in_a_commit_leaves_a_job_another_worker_finishes(deployment, pg_database_url, tmp_path):
    first, _, workers = deployment
    rows = 3000
    client = Client(first.url, first.tokens["importer"])
    imp = validated(client, rows, "Killed" + uuid.uuid4().hex[:6])
    imp.commit(wait=False)
    logs = [tmp_path / f"worker{n}.log" for n in (1, 2)]
    killed, _ = _worker_running_commit(workers, logs, imp.id, time.monotonic() + 60)
    deadline = time.monotonic() + 60
    while (done := imp.status()["progress"]["done"]) < rows // 5:
        assert time.monotonic() < deadline, "the commit did not progress"
        time.sleep(0.02)
    os.kill(killed.pid, signal.SIGKILL)
    killed.wait(10)
    assert 0 < done < rows, "the worker must die in the middle of the commit"

    final = imp.wait(timeout=120)
    assert final["status"] == "Committed", final
    assert final["committed"]["inserted"] == rows
    assert written(pg_database_url, imp.id) == (rows, rows, rows, rows)  # every valid row exactly once
    results = imp.results()
    assert results.height == rows and set(results["Status"]) == {"Success"}
    survivor = next(log for process, log in zip(workers, logs, strict=True) if process is not killed).read_text()
    assert f"job commit {{'import_id': {imp.id}}}: its worker stopped; queued again" in survivor, survivor[-3000:]
    assert f"(import_id={imp.id})" in survivor  # and it ran the job to the end


def test_a_repeated_commit_request_queues_one_job(pg_database_url, tmp_path):
    api = start_server_process(pg_database_url, data_dir=tmp_path / "api", env=JOB_ENV, job_workers=0)
    worker = start_worker_process(pg_database_url, tmp_path / "validator.log", env=JOB_ENV)
    try:
        client = Client(api.url, api.tokens["importer"])
        imp = validated(client, 50, "Again" + uuid.uuid4().hex[:6])
        stop_process(worker)  # no worker now: the commit jobs wait in the queue, where they can be counted
        headers = {"Authorization": f"Bearer {api.tokens['importer']}"}
        url = f"{api.url}/api/v1/imports/{imp.id}/commit"

        def commit(key: str | None) -> int:
            extra = {"Idempotency-Key": key} if key else {}
            return requests.post(url, headers={**headers, **extra}, timeout=30).status_code

        with ThreadPoolExecutor(6) as pool:
            same_key = list(pool.map(commit, ["k1"] * 6))
        assert same_key == [202] * 6
        assert commit(None) == 409  # a second commit without the key: refused, nothing queued

        engine = make_engine(pg_database_url)
        maker = sessions(engine)
        # The queue's own guard: deferring the import's commit job again while one waits queues nothing.
        queue = queue_for(pg_database_url, maker)
        with maker.begin() as session:
            row = session.get(Import, imp.id)
            org_id = row.org_id
            queue.defer(session, commit_job(row))
        with engine.connect() as conn:
            jobs = conn.execute(sa.text(
                "SELECT status, lock, queueing_lock FROM procrastinate_jobs WHERE task_name = 'commit' "
                "AND (args->>'import_id')::int = :i"), {"i": imp.id}).all()
        engine.dispose()
        assert [tuple(j) for j in jobs] == [("todo", f"org:{org_id}", f"commit:{imp.id}")]

        worker = start_worker_process(pg_database_url, tmp_path / "worker.log", env=JOB_ENV)
        final = imp.wait(timeout=60)
        assert final["status"] == "Committed" and final["committed"]["inserted"] == 50
        assert written(pg_database_url, imp.id) == (50, 50, 50, 50)
    finally:
        stop_process(worker)
        api.stop()


def test_validation_is_a_job_whose_status_the_client_sees(pg_database_url, tmp_path):
    api = start_server_process(pg_database_url, data_dir=tmp_path / "api", env=JOB_ENV, job_workers=0)
    worker = None
    try:
        client = Client(api.url, api.tokens["importer"])
        imp = client.create_import("client", "add", file_name="later.csv")
        imp.upload(CLIENT_HEADER, client_rows(200, "Later" + uuid.uuid4().hex[:6]))
        answer = requests.post(f"{api.url}/api/v1/imports/{imp.id}/validate", timeout=30,
                               headers={"Authorization": f"Bearer {api.tokens['importer']}"})
        assert answer.status_code == 202 and answer.json()["status"] == "Validating"
        # No worker yet: the job waits in the queue and the import says so to every client that looks.
        assert client.get_import(imp.id).status()["status"] == "Validating"
        engine = make_engine(pg_database_url)
        with engine.connect() as conn:
            jobs = conn.execute(sa.text(
                "SELECT status, lock FROM procrastinate_jobs WHERE task_name = 'validate' "
                "AND (args->>'import_id')::int = :i"), {"i": imp.id}).all()
        engine.dispose()
        assert [tuple(j) for j in jobs] == [("todo", f"import:{imp.id}")]

        worker = start_worker_process(pg_database_url, tmp_path / "worker.log", env=JOB_ENV)
        summary = client.get_import(imp.id).validate(timeout=60)  # polls while the worker validates
        assert summary["total"] == 200 and summary["valid"] == 200
        assert client.get_import(imp.id).status()["status"] == "Validated"
    finally:
        if worker is not None:
            stop_process(worker)
        api.stop()
