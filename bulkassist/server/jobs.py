"""The server's heavy work as jobs: validating an import, committing (and retrying) it, undoing it,
delivering webhooks.

A `Job` is a task name, its arguments and procrastinate's two locks:
- `lock`: jobs with the same lock run one after another. A commit, a retry and an undo lock their
  organisation (they write its records and count its usage): two of them never interleave. A
  validation locks its import (it writes the import's report only).
- `queueing_lock`: at most one job with it waits in the queue: a commit requested again queues one job.

Where the jobs run (`queue_for`):
- PostgreSQL: on procrastinate's queue, whose tables live in the server's database (migration 0012),
  run by `bulkassist worker` processes on any number of machines (`run_worker`). The API defers a job
  on its own database connection, in the transaction that moves the import to Validating, Committing
  or Reverting: the job exists exactly when the status says work is due. Workers beat every
  STALE_SECONDS / 3; the periodic `retry_stalled` task puts the jobs of a worker silent for
  STALE_SECONDS back in the queue (procrastinate's stalled-job detection), and another worker runs them.
- SQLite (the embedded server): the same functions in threads of the server process (`LocalQueue`),
  with the same locks. The process is the database's only user, so at start-up it runs again the jobs
  of imports a stopped process left Validating, Committing or Reverting.

Every job may run twice (a retried stalled job whose worker was only slow): a validation works on an
import still Validating, a commit writes the valid rows without an outcome, an undo the changes without an outcome, a delivery claims what it sends, so a
second run finds nothing left to do twice.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import procrastinate
import sqlalchemy as sa
from procrastinate.exceptions import AlreadyEnqueued
from procrastinate.manager import JobManager
from procrastinate.sync_psycopg_connector import SyncPsycopgConnector
from sqlalchemy.orm import Session, sessionmaker

from bulkassist.server import committer, events, lifecycle, undo
from bulkassist.server.allocator import return_freed_memory
from bulkassist.server.db import make_engine, migrate
from bulkassist.server.db import sessions as make_sessions
from bulkassist.server.models import Import
from bulkassist.status import ImportStatus

log = logging.getLogger("bulkassist.server")
# Seconds without a heartbeat after which a worker counts as dead and its jobs run again elsewhere.
STALE_SECONDS = float(os.environ.get("BULKASSIST_STALE_SECONDS", "30"))
VALIDATE, COMMIT, UNDO, DELIVER = "validate", "commit", "undo", "deliver"


@dataclass(frozen=True)
class Job:
    task: str
    args: dict[str, Any] = field(default_factory=dict)
    lock: str | None = None
    queueing_lock: str | None = None


def validate_job(imp: Import) -> Job:
    return Job(VALIDATE, {"import_id": imp.id}, lock=f"import:{imp.id}", queueing_lock=f"validate:{imp.id}")


def commit_job(imp: Import) -> Job:
    """The commit (or retry) of `imp`: one at a time per organisation, one waiting per import."""
    return Job(COMMIT, {"import_id": imp.id}, lock=f"org:{imp.org_id}", queueing_lock=f"commit:{imp.id}")


def undo_job(imp: Import) -> Job:
    return Job(UNDO, {"import_id": imp.id}, lock=f"org:{imp.org_id}", queueing_lock=f"undo:{imp.id}")


DELIVERY = Job(DELIVER, queueing_lock="webhooks")  # deliveries claim what they send: no lock needed


# ------------------------------------------------------------------ the work
def _validate(sessions: sessionmaker[Session], queue: Queue, import_id: int) -> None:
    lifecycle.run_validation(sessions, import_id)


def _commit(sessions: sessionmaker[Session], queue: Queue, import_id: int) -> None:
    committer.run_commit(sessions, import_id)
    with sessions.begin() as session:
        queue.defer(session, DELIVERY)  # the events the commit wrote (Run Workflow on Import) go out now


def _undo(sessions: sessionmaker[Session], queue: Queue, import_id: int) -> None:
    undo.run_undo(sessions, import_id, chunk_rows=committer.CHUNK_ROWS, pause=committer.CHUNK_PAUSE)


def _deliver(sessions: sessionmaker[Session], queue: Queue, timestamp: int | None = None) -> None:
    events.deliver_all(sessions)


WORK: dict[str, Callable[..., None]] = {VALIDATE: _validate, COMMIT: _commit, UNDO: _undo, DELIVER: _deliver}
RESUMED = {ImportStatus.VALIDATING: validate_job, ImportStatus.COMMITTING: commit_job,
           ImportStatus.REVERTING: undo_job}  # what the SQLite server runs again at start-up


class Queue:
    """Where jobs go: `defer(session, job)` queues `job` with the transaction of `session`."""

    def defer(self, session: Session, job: Job) -> None:
        raise NotImplementedError

    def start(self) -> None:
        """Start what runs jobs in this process (nothing on PostgreSQL: the workers do)."""

    def stop(self) -> None:
        pass


# ------------------------------------------------------------------ SQLite: in-process
class LocalQueue(Queue):
    """The embedded server's queue: each job in a thread of this process once the deferring transaction
    commits; jobs with one lock one after another; deliveries every POLL seconds."""

    def __init__(self, sessions: sessionmaker[Session]):
        self.sessions = sessions
        self._guard = threading.Lock()
        self._locks: defaultdict[str, threading.Lock] = defaultdict(threading.Lock)
        self._waiting: set[str] = set()  # queueing locks of jobs not started yet
        self._stop = threading.Event()

    def defer(self, session: Session, job: Job) -> None:
        sa.event.listen(session, "after_commit", lambda _: self._submit(job), once=True)

    def _submit(self, job: Job) -> None:
        with self._guard:
            if job.queueing_lock in self._waiting:
                return
            if job.queueing_lock:
                self._waiting.add(job.queueing_lock)
        threading.Thread(target=self._run, args=(job,), name=f"bulkassist-{job.task}", daemon=True).start()

    def _run(self, job: Job) -> None:
        lock = self._locks[job.lock] if job.lock else threading.Lock()
        with lock:
            with self._guard:
                self._waiting.discard(job.queueing_lock)
            try:
                WORK[job.task](self.sessions, self, **job.args)
            except Exception:  # a thread's failure is logged; the job left its import's status behind
                log.exception("job %s %s failed", job.task, job.args)

    def start(self) -> None:
        with self.sessions() as session:
            interrupted = session.scalars(sa.select(Import).where(Import.status.in_(list(RESUMED)))).all()
        for imp in interrupted:
            log.warning("running again the %s job of import %s (the server stopped during it)", imp.status, imp.id)
            self._submit(RESUMED[ImportStatus(imp.status)](imp))
        threading.Thread(target=self._deliver_forever, name="bulkassist-webhooks", daemon=True).start()

    def _deliver_forever(self) -> None:
        while not self._stop.wait(events.POLL):
            self._submit(DELIVERY)

    def stop(self) -> None:
        self._stop.set()


# ------------------------------------------------------------------ PostgreSQL: procrastinate
class ProcrastinateQueue(Queue):
    """Jobs on procrastinate's queue in the server's PostgreSQL database, run by `bulkassist worker`s."""

    def __init__(self, app: Any):
        self.app = app
        # Deferring on a given (synchronous) connection needs a synchronous connector: inside a worker the
        # app's connector is open asynchronously, and procrastinate would run its async query on our sync
        # connection ("'Cursor' object does not support the asynchronous context manager protocol"). This
        # one never opens a pool of its own: every query runs on the connection it is handed.
        self.on_connection = JobManager(SyncPsycopgConnector())

    def defer(self, session: Session, job: Job) -> None:
        # The job row is inserted on the session's own connection: it commits (or not) with the status.
        driver = session.connection().connection.driver_connection
        try:
            with session.begin_nested():  # a queueing-lock refusal rolls back only the insert
                deferrer = self.app.tasks[job.task].configure(lock=job.lock, queueing_lock=job.queueing_lock,
                                                              connection=driver)
                deferrer.job_manager = self.on_connection
                deferrer.defer(**job.args)
        except AlreadyEnqueued:
            log.info("job %s %s is queued already (%s)", job.task, job.args, job.queueing_lock)


def procrastinate_app(database_url: str, sessions: sessionmaker[Session] | None = None, **pool: Any) -> Any:
    """The procrastinate App of the server's database, its tasks bound to `sessions` (the worker's)."""
    conninfo = sa.make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
    app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=conninfo, **pool))
    queue = ProcrastinateQueue(app)
    for name, work in WORK.items():
        app.task(name=name)(_bound(work, sessions, queue))
    every = max(1, min(59, round(events.POLL)))
    app.periodic(cron=f"* * * * * */{every}", periodic_id="deliver",
                 queueing_lock=DELIVERY.queueing_lock)(app.tasks[DELIVER])
    check = max(1, min(59, round(STALE_SECONDS / 3)))

    @app.periodic(cron=f"* * * * * */{check}", periodic_id="retry_stalled")
    @app.task(name="retry_stalled", queueing_lock="retry_stalled")
    async def retry_stalled(timestamp: int) -> None:
        """Jobs whose worker stopped beating go back in the queue; another worker runs them."""
        for job in await app.job_manager.get_stalled_jobs(seconds_since_heartbeat=STALE_SECONDS):
            log.warning("job %s %s: its worker stopped; queued again", job.task_name, job.task_kwargs)
            await app.job_manager.retry_job(job)

    return app


def _bound(work: Callable[..., None], sessions: sessionmaker[Session] | None, queue: Queue) -> Callable[..., None]:
    def run(**args: Any) -> None:
        assert sessions is not None, "jobs run in `bulkassist worker` processes (run_worker)"
        work(sessions, queue, **args)

    return run


def queue_for(database_url: str, sessions: sessionmaker[Session]) -> Queue:
    """The server's queue: procrastinate's on PostgreSQL, this process's threads on SQLite."""
    if sessions.kw["bind"].dialect.name == "postgresql":
        return ProcrastinateQueue(procrastinate_app(database_url))
    return LocalQueue(sessions)


def run_worker(database_url: str, *, concurrency: int = 2) -> None:
    """A worker process: run the jobs of the server's PostgreSQL database until SIGTERM / Ctrl+C.

    Several can run, on any number of machines; each migrates the database first (idempotent)."""
    return_freed_memory()
    engine = make_engine(database_url)
    if engine.dialect.name != "postgresql":
        raise ValueError("bulkassist worker runs jobs of a PostgreSQL database; a SQLite server runs its "
                         "jobs itself (bulkassist serve)")
    migrate(engine)
    app = procrastinate_app(database_url, make_sessions(engine), min_size=1, max_size=concurrency + 3)
    app.run_worker(name=f"{socket.gethostname()}:{os.getpid()}", concurrency=concurrency,
                   update_heartbeat_interval=max(0.5, STALE_SECONDS / 3), stalled_worker_timeout=STALE_SECONDS,
                   delete_jobs="successful")
