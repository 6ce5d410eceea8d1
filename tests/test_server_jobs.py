"""Jobs on procrastinate's queue (PostgreSQL): API processes defer them, `bulkassist worker` processes run them.

Two API processes and two workers share one PostgreSQL schema; eight commits of four organisations run
at once, two of the organisations with a daily usage limit that a ninth import of each would exceed; a worker killed with SIGKILL in the middle of a commit leaves a stalled job that the other
worker's periodic check puts back in the queue, and every valid row is written exactly once; a commit
requested again queues one job.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import pytest
import requests
import sqlalchemy as sa

from bulkassist.client import Client
from bulkassist.errors import UsageLimitExceeded
from bulkassist.server import admin
from bulkassist.server.db import make_engine, sessions
from bulkassist.server.jobs import commit_job, queue_for
from bulkassist.server.launch import (
    RunningServer,
    start_server_process,
    start_worker_process,
    stop_process,
)
from bulkassist.server.models import Import
from tests.test_server_crash import OUTCOMES
from tests.test_server_lifecycle import CLIENT_HEADER

pytestmark = [pytest.mark.postgres, pytest.mark.slow,
              pytest.mark.xdist_group("server_jobs")]  # the deployment starts once, on one xdist worker
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
            outcomes = conn.execute(sa.text(OUTCOMES), {"i": import_id}).scalar()
            usage = conn.execute(sa.text("SELECT coalesce(sum(rows), 0) FROM usage_events WHERE import_id = :i"),
                                 {"i": import_id}).scalar()
    finally:
        engine.dispose()
    return records[0], records[1], outcomes, usage


@dataclass
class Deployment:
    database_url: str
    apis: tuple[RunningServer, RunningServer]
    workers: list[subprocess.Popen]
    logs: list[Path]


@pytest.fixture(scope="module")
def deployment(pg_module_database_url, tmp_path_factory) -> Iterator[Deployment]:
    """Two API processes (no worker of their own) and two `bulkassist worker`s on one PostgreSQL schema,
    shared by the tests of this module (starting them is most of a test's time)."""
    url, folder = pg_module_database_url, tmp_path_factory.mktemp("deployment")
    first = start_server_process(url, data_dir=folder / "api1", env=JOB_ENV, job_workers=0)
    second = start_server_process(url, data_dir=folder / "api2", env=JOB_ENV, job_workers=0, demo=False)
    logs = [folder / f"worker{n}.log" for n in (1, 2)]
    workers = [start_worker_process(url, log, env=JOB_ENV, log_level="info") for log in logs]
    try:
        yield Deployment(url, (first, second), workers, logs)
    finally:
        for process in workers:
            stop_process(process)
        second.stop()
        first.stop()


def organisation_with_importer(database_url: str, name: str, limit_day: int) -> str:
    """A new organisation with a daily usage limit and one user who imports clients; the user's token."""
    engine = make_engine(database_url)
    try:
        with sessions(engine).begin() as session:
            org = admin.create_org(session, name, limit_day=limit_day)
            admin.create_group(session, org, "Importers", import_domains=["client"])
            return admin.create_token(session, admin.create_user(session, org, "importer", groups=["Importers"]))
    finally:
        engine.dispose()


def usage_by_organisation(database_url: str) -> dict[str, tuple[int, int | None]]:
    """Organisation name -> (rows counted in its usage, its daily limit)."""
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as conn:
            found = conn.execute(sa.text(
                "SELECT o.name, coalesce(sum(u.rows), 0), o.limit_day FROM organisations o "
                "LEFT JOIN usage_events u ON u.org_id = o.id GROUP BY o.name, o.limit_day")).all()
    finally:
        engine.dispose()
    return {name: (int(used), limit) for name, used, limit in found}


ROWS, LIMIT = 400, 800  # rows per import; the daily limit of the two new organisations: two imports


def test_two_apis_and_two_workers_commit_eight_imports_of_four_organisations(deployment):
    first, second = deployment.apis
    pg_database_url = deployment.database_url
    tokens = {"Demo Organisation": first.tokens["importer"], "Other Organisation": first.tokens["other_org"],
              **{name: organisation_with_importer(pg_database_url, name, LIMIT) for name in ("Team C", "Team D")}}
    limited = ["Team C", "Team D"]
    # Two imports per organisation, one through each API process; the limited organisations one more each.
    imports = [(org, validated(Client(api.url, token), ROWS, f"Many{n}{uuid.uuid4().hex[:4]}"))
               for org, token in tokens.items() for n, api in enumerate((first, second))]
    imports += [(org, validated(Client(second.url, tokens[org]), ROWS, f"Over{uuid.uuid4().hex[:4]}"))
                for org in limited]

    def start(imp) -> bool:
        try:
            imp.commit(wait=False)
            return True
        except UsageLimitExceeded:
            return False

    with ThreadPoolExecutor(len(imports)) as pool:  # every commit requested at once
        started = list(pool.map(start, [imp for _, imp in imports]))
    running = [(org, imp) for (org, imp), ok in zip(imports, started, strict=True) if ok]
    refused = [(org, imp) for (org, imp), ok in zip(imports, started, strict=True) if not ok]
    # Each limited organisation: two of its three commits fit its limit, the third is refused, whichever.
    assert sorted(org for org, _ in refused) == limited
    assert sorted({org for org, _ in running}) == sorted(tokens) and len(running) == 8

    finals = [imp.wait(timeout=120) for _, imp in running]
    assert [f["status"] for f in finals] == ["Committed"] * 8
    assert [f["committed"]["inserted"] for f in finals] == [ROWS] * 8
    for _, imp in running:  # every row accounted for: one record, one outcome, one row of usage each
        assert written(pg_database_url, imp.id) == (ROWS, ROWS, ROWS, ROWS)
    for _, imp in refused:
        assert imp.status()["status"] == "Validated" and written(pg_database_url, imp.id) == (0, 0, 0, 0)
    usage = usage_by_organisation(pg_database_url)
    assert {org: usage[org] for org in tokens} == {"Demo Organisation": (2 * ROWS, None),
                                                   "Other Organisation": (2 * ROWS, None),
                                                   "Team C": (LIMIT, LIMIT), "Team D": (LIMIT, LIMIT)}
    # Each organisation sees its own imports only, whichever API process answers.
    for org, token in tokens.items():
        for api in (first, second):
            seen = {item["id"] for item in Client(api.url, token).imports(page_size=100)["items"]}
            assert seen == {imp.id for o, imp in imports if o == org}
    # Every commit job ended well, the webhook delivery it queues included (failed jobs stay in the table).
    assert failed_jobs(pg_database_url) == [], [log.read_text()[-3000:] for log in deployment.logs]


def failed_jobs(database_url: str) -> list[tuple[str, str]]:
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as conn:
            return [tuple(row) for row in conn.execute(sa.text(
                "SELECT task_name, args::text FROM procrastinate_jobs WHERE status = 'failed'")).all()]
    finally:
        engine.dispose()


def _worker_running_commit(workers, logs, import_id: int, deadline: float):
    """The worker that started the commit job of `import_id` (each worker logs the jobs it starts)."""
    while time.monotonic() < deadline:
        for process, log in zip(workers, logs, strict=True):
            text = log.read_text() if log.exists() else ""
            if re.search(rf"Starting job commit\[\d+\]\(import_id={import_id}\)", text):  # not its validation
                return process, log
        time.sleep(0.05)
    raise AssertionError(f"no worker started the commit job of import {import_id}")


def test_a_worker_killed_in_a_commit_leaves_a_job_another_worker_finishes(deployment):
    first, _ = deployment.apis
    pg_database_url, workers, logs = deployment.database_url, deployment.workers, deployment.logs
    rows = 3000
    client = Client(first.url, first.tokens["importer"])
    imp = validated(client, rows, "Killed" + uuid.uuid4().hex[:6])
    imp.commit(wait=False)
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
