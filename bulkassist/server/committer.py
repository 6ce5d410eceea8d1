"""Committing imports (and undoing them, `undo.py`) in the background: crash-safe, resumable, shared by
stateless workers.

Rows are written in chunks. Each chunk is one transaction holding the records,
the per-row outcomes (`row_results`), the usage and the progress counters, so
after a crash a row is either fully written with its outcome or not at all.
Which rows remain is always "valid rows without an outcome", so resuming
never writes a row twice. A chunk's records and outcomes go to the database as one
statement per table, built over whole columns (`bulk.py`); the stored rows are read a
window (a Parquet row group) at a time, so memory is bounded by a window, not by the import.

Workers claim an import with a conditional UPDATE (status and heartbeat
unchanged since they looked), which works the same on SQLite and on
PostgreSQL and lets several processes share one database. A worker that dies
stops beating; any other worker (or the same server restarted) claims the
import once its heartbeat is older than `stale_after` seconds and resumes.
"""

from __future__ import annotations

import io
import logging
import os
import socket
import threading
import time
import traceback
import uuid
from collections.abc import Iterator
from datetime import timedelta

import polars as pl
import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from bulkassist.errors import Conflict
from bulkassist.server.bulk import insert_frame
from bulkassist.server.db import rows_changed
from bulkassist.server.domains import OUTCOME_SCHEMA, Context, behaviour_for, outcomes
from bulkassist.server.lifecycle import locked, require_mapped, transition
from bulkassist.server.models import Import, ImportReport, Organisation, RowResult, utcnow
from bulkassist.server.orgdata import builtin_domain
from bulkassist.server.undo import run_undo, start_undo
from bulkassist.server.usage import check_allowance, record_usage
from bulkassist.status import TRANSITIONS, VALID_ACTIONS, ImportStatus, RowAction, RowStatus

log = logging.getLogger("bulkassist.server")
# Rows per transaction: a chunk's fixed costs (lock, commit, usage, progress) amortised over 20,000 rows.
CHUNK_ROWS = int(os.environ.get("BULKASSIST_CHUNK_ROWS", "20000"))
# Seconds to wait between chunks: throttles a big commit on a busy SQLite, and lets the crash test
# kill a server reliably in the middle of one.
CHUNK_PAUSE = float(os.environ.get("BULKASSIST_CHUNK_PAUSE", "0"))
# Stored rows a commit reads at a time: a row group of the report's Parquet blob (polars writes 512^2 rows).
_WINDOW = 512 ** 2
_BACKGROUND = (ImportStatus.COMMITTING, ImportStatus.REVERTING)  # the statuses a worker runs (and adopts)


class Committer:
    """Runs commits in threads of this process and adopts commits whose worker stopped beating."""

    def __init__(self, sessions: sessionmaker[Session], *, stale_after: float | None = None,
                 poll: float | None = None):
        self.sessions = sessions
        self.worker = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.stale_after = stale_after if stale_after is not None else float(
            os.environ.get("BULKASSIST_STALE_SECONDS", "30"))
        self.poll = poll if poll is not None else min(5.0, max(0.5, self.stale_after / 3))
        self._running: dict[int, threading.Thread] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._reaper: threading.Thread | None = None

    # -------------------------------------------------------------- control
    def start(self) -> None:
        self._reaper = threading.Thread(target=self._reap_forever, name="bulkassist-reaper", daemon=True)
        self._reaper.start()

    def stop(self) -> None:
        self._stop.set()

    def launch(self, import_id: int) -> None:
        with self._lock:
            running = self._running.get(import_id)
            if running is not None and running.is_alive():
                return
            thread = threading.Thread(target=self.run, args=(import_id,), name=f"commit-{import_id}",
                                      daemon=True)
            self._running[import_id] = thread
            thread.start()

    def _reap_forever(self) -> None:
        while not self._stop.wait(self.poll):
            try:
                self.adopt_stale()
            except SQLAlchemyError:
                log.exception("looking for stale commits failed")

    def adopt_stale(self) -> list[int]:
        """Claim and resume commits whose worker has not beaten for `stale_after` seconds."""
        limit = utcnow() - timedelta(seconds=self.stale_after)
        adopted = []
        with self.sessions.begin() as session:
            stale = session.execute(sa.select(Import.id, Import.status, Import.heartbeat_at).where(
                Import.status.in_(_BACKGROUND), Import.heartbeat_at < limit)).all()
            for import_id, status, beat in stale:
                claimed = rows_changed(session,
                    sa.update(Import).where(Import.id == import_id, Import.status == status,
                                            Import.heartbeat_at == beat)
                    .values(worker=self.worker, heartbeat_at=utcnow()))
                if claimed:
                    adopted.append(import_id)
                    log.warning("resuming import %s, %s (its worker stopped)", import_id, status)
        for import_id in adopted:
            self.launch(import_id)
        return adopted

    # -------------------------------------------------------------- request side
    def start_commit(self, session: Session, imp: Import, key: str | None, *,
                     retry: bool = False) -> None:
        """Move the import to Committing (once per Idempotency-Key) and start writing in the background."""
        if key and imp.commit_key == key:
            return  # the same request again: already started (or done)
        wanted = ImportStatus.COMMIT_FAILED if retry else ImportStatus.VALIDATED
        if imp.status != wanted:
            if retry:
                raise Conflict(f"import {imp.id} is {imp.status}; only an import that ended CommitFailed can be "
                               f"retried")
            if imp.status == ImportStatus.VALIDATION_FAILED:
                raise Conflict(f"import {imp.id} has no valid row to import; fix the errors first")
            raise Conflict(f"import {imp.id} is {imp.status}; it can be committed once, after validation")
        require_mapped(imp)
        pending = self.pending_count(session, imp, retry=retry)
        # One commit start at a time per organisation: this write takes the organisation's row lock
        # (PostgreSQL) or the database write lock (SQLite) before usage is read. Rows that running
        # commits have reserved but not yet recorded count as used, so two commits cannot both pass.
        session.execute(sa.update(Organisation).where(Organisation.id == imp.org_id)
                        .values(id=Organisation.id))
        reserved = session.scalar(sa.select(sa.func.coalesce(sa.func.sum(
            Import.progress_total - Import.progress_done), 0)).where(
            Import.org_id == imp.org_id, Import.status == ImportStatus.COMMITTING, Import.id != imp.id)) or 0
        check_allowance(session, imp.org_id, pending, reserved=int(reserved))
        dom = builtin_domain(imp.domain)
        behaviour_for(dom).before_commit(Context(session, imp.org_id, imp.id, dom, imp.operation, imp.options or {}))
        transition(session, imp, ImportStatus.COMMITTING, commit_key=key, worker=self.worker, heartbeat_at=utcnow(),
                   retry_only_failed=retry, cancel_requested=False, progress_done=0, progress_total=pending,
                   message="")

    def pending_rows(self, session: Session, imp: Import, *, retry: bool) -> tuple[bytes, pl.Expr]:
        """The stored normalized rows (a Parquet blob: the cells as uploaded and the issues are not read) and
        which of them are still to write: valid rows without an outcome (resume), or without a success (retry)."""
        blob = session.scalar(sa.select(ImportReport.normalized).where(ImportReport.import_id == imp.id))
        if blob is None:
            raise Conflict(f"import {imp.id} has no validated rows to commit; validate it first")
        done = self._done_rows(session, imp, None, retry=retry)
        return blob, pl.col("action").is_in(VALID_ACTIONS) & ~pl.col("row").is_in(done.implode())

    def pending_count(self, session: Session, imp: Import, *, retry: bool) -> int:
        """How many rows are still to write (reading only the rows' numbers and actions)."""
        blob, wanted = self.pending_rows(session, imp, retry=retry)
        return pl.scan_parquet(io.BytesIO(blob)).select("row", "action").filter(wanted).select(pl.len()).collect().item()

    @staticmethod
    def _windows(blob: bytes, wanted: pl.Expr) -> Iterator[pl.DataFrame]:
        """The rows still to write, `_WINDOW` stored rows at a time: a commit holds a window of the import in
        memory, not the import."""
        stored = pl.scan_parquet(io.BytesIO(blob))
        for start in range(0, stored.select(pl.len()).collect().item(), _WINDOW):
            yield stored.slice(start, _WINDOW).filter(wanted).collect()

    @staticmethod
    def _done_rows(session: Session, imp: Import, rows: pl.Series | None, *, retry: bool) -> pl.Series:
        """Rows (from the first to the last of `rows`, or all) that already have an outcome a resume / retry
        must not redo. A range, not an IN list of a chunk's rows: one index range scan, no statement as
        long as the chunk to compile."""
        done_status = [RowStatus.SUCCESS, RowStatus.SKIPPED]
        if not retry:
            done_status.append(RowStatus.FAILED)
        query = sa.select(RowResult.row).where(RowResult.import_id == imp.id, RowResult.status.in_(done_status))
        if rows is not None:
            query = query.where(RowResult.row.between(rows.min(), rows.max()))
        return pl.Series("row", session.scalars(query).all(), pl.Int64)

    def start_undo(self, session: Session, imp: Import, *, force: bool) -> None:
        """Move the import to Reverting, claimed by this process's worker (`launch` then runs it)."""
        start_undo(session, imp, force=force, worker=self.worker)

    # -------------------------------------------------------------- worker side
    def run(self, import_id: int) -> None:
        with self.sessions() as session:
            status = session.scalar(sa.select(Import.status).where(Import.id == import_id))
        if status == ImportStatus.REVERTING:
            run_undo(self.sessions, self.worker, import_id, chunk_rows=CHUNK_ROWS, pause=CHUNK_PAUSE)
            return
        try:
            self._run(import_id)
        except Exception as exc:  # the worker must leave a status behind, whatever happened
            log.error("commit of import %s failed:\n%s", import_id, traceback.format_exc())
            self._finish(import_id, ImportStatus.COMMIT_FAILED, f"the import process failed: {exc}; retry to finish it")

    def _run(self, import_id: int) -> None:
        with self.sessions() as session:
            imp = session.get(Import, import_id)
            if imp is None or imp.status != ImportStatus.COMMITTING or imp.worker != self.worker:
                return
            retry = imp.retry_only_failed
            blob, wanted = self.pending_rows(session, imp, retry=retry)
            remaining = imp.progress_total - imp.progress_done
            dom = builtin_domain(imp.domain)
        behaviour = behaviour_for(dom)
        # About twenty progress steps per import, never more than CHUNK_ROWS rows per transaction.
        size = min(CHUNK_ROWS, max(50, -(-remaining // 20)))
        chunks = (chunk for window in self._windows(blob, wanted) for chunk in window.iter_slices(size))
        for number, chunk in enumerate(chunks):
            if number and CHUNK_PAUSE:
                time.sleep(CHUNK_PAUSE)
            with self.sessions.begin() as session:
                imp = session.scalars(_locked(session, import_id)).one()
                if imp.status != ImportStatus.COMMITTING or imp.worker != self.worker:
                    return  # another worker took over
                if imp.cancel_requested:
                    break
                # Under the import's lock: drop rows another worker wrote since we listed them.
                done = self._done_rows(session, imp, chunk["row"], retry=retry)
                chunk = chunk.filter(~pl.col("row").is_in(done.implode()))
                if chunk.height == 0:
                    continue
                ctx = Context(session, imp.org_id, imp.id, dom, imp.operation, imp.options or {})
                result = self._write(session, behaviour, ctx, chunk)
                if retry:
                    session.execute(sa.delete(RowResult).where(
                        RowResult.import_id == import_id, RowResult.row.in_(result["row"].to_list())))
                now = utcnow()
                insert_frame(session, RowResult.__table__, result.select(*OUTCOME_SCHEMA).with_columns(
                    pl.col("message").fill_null(""), import_id=pl.lit(import_id, pl.Int64),
                    at=pl.lit(now, pl.Datetime("us"))))
                ok = result.filter(pl.col("status") == RowStatus.SUCCESS)
                record_usage(session, imp.org_id, imp.id, ok.height)
                imp.progress_done += chunk.height
                imp.inserted += ok.filter(pl.col("action") == RowAction.INSERT).height
                imp.updated += ok.filter(pl.col("action") == RowAction.UPDATE).height
                imp.failed = imp.failed + result.filter(pl.col("status") == RowStatus.FAILED).height
                imp.heartbeat_at = now
        self._finish(import_id, None, "")

    def _write(self, session: Session, behaviour, ctx: Context, chunk: pl.DataFrame) -> pl.DataFrame:
        """Write a chunk in a savepoint; if the database refuses it, row by row so one bad row fails alone."""
        # Bulk paths (COPY) talk to the driver directly, so its own errors count as the database's too.
        dbapi = session.get_bind().dialect.dbapi
        refused = (SQLAlchemyError, dbapi.Error) if dbapi is not None else (SQLAlchemyError,)
        try:
            with session.begin_nested():
                return behaviour.write(ctx, chunk)
        except refused:
            log.warning("chunk of import %s refused by the database; writing row by row", ctx.import_id)
        parts = []
        for i in range(chunk.height):
            row = chunk.slice(i, 1)
            try:
                with session.begin_nested():
                    parts.append(behaviour.write(ctx, row))
            except refused as exc:
                reason = str(getattr(exc, "orig", exc)).splitlines()[0]
                parts.append(outcomes(row["row"].to_list(), RowStatus.FAILED, row["action"].to_list(),
                                      message=f"the database refused the row: {reason}"))
        return pl.concat(parts) if parts else pl.DataFrame(schema=OUTCOME_SCHEMA)

    def _finish(self, import_id: int, status: ImportStatus | None, message: str) -> None:
        """Set the final status (Committed / CommitFailed / Cancelled) and run the domain's after-commit."""
        with self.sessions.begin() as session:
            imp = session.scalars(_locked(session, import_id)).one()
            if imp.status != ImportStatus.COMMITTING:
                return
            if status is None:
                failed = session.scalar(sa.select(sa.func.count()).select_from(RowResult).where(
                    RowResult.import_id == import_id, RowResult.status == RowStatus.FAILED)) or 0
                imp.failed = failed
                if imp.cancel_requested and self.pending_count(session, imp, retry=False):
                    status = ImportStatus.CANCELLED
                    message = "cancelled during the commit; rows committed before stay"
                elif failed:
                    status = ImportStatus.COMMIT_FAILED
                    message = f"{failed} row(s) could not be written; see the errors file, fix them and retry"
                else:
                    status = ImportStatus.COMMITTED
            transition(session, imp, status, message=message, committed_at=utcnow(), worker=None)
            dom = builtin_domain(imp.domain)
            behaviour_for(dom).after_commit(
                Context(session, imp.org_id, imp.id, dom, imp.operation, imp.options or {}), status)


def _locked(session: Session, import_id: int) -> sa.Select:
    return locked(import_id, session.get_bind().dialect.name)


def cancel(session: Session, imp: Import) -> None:
    """Cancel now, or (during a commit) ask the worker to stop after the chunk it is writing."""
    if imp.status == ImportStatus.COMMITTING:
        session.execute(sa.update(Import).where(Import.id == imp.id, Import.status == ImportStatus.COMMITTING)
                        .values(cancel_requested=True))
        return
    if ImportStatus.CANCELLED not in TRANSITIONS[imp.status]:
        raise Conflict(f"import {imp.id} is already {imp.status}")
    after = "after a failed commit" if imp.status == ImportStatus.COMMIT_FAILED else "before the commit"
    transition(session, imp, ImportStatus.CANCELLED, message=f"cancelled {after}")
