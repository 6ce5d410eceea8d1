"""Committing an import (and retrying a failed one): crash-safe and resumable, as a job (`jobs.py`).

Rows are written in chunks. Each chunk is one transaction holding the records,
the per-row outcomes (`outcomes.py`), the usage and the progress counters, so
after a crash a row is either fully written with its outcome or not at all.
Which rows remain is always "valid rows without an outcome", so a job that runs
again (its worker died and the queue retried it, or two runs overlap) never
writes a row twice: each chunk drops, under the import's lock, the rows another
run wrote since it listed them. A chunk's records and outcomes go to the database as one
statement per table, built over whole columns (`bulk.py`); the stored rows are read a
window (a Parquet row group) at a time, so memory is bounded by a window, not by the import.

`start_commit` runs in the request: it checks the import and the usage allowance
and moves the import to Committing; the route defers the commit job in the same
transaction. `run_commit` is the job.
"""

from __future__ import annotations

import io
import logging
import os
import time
import traceback
from collections.abc import Iterator
from typing import cast

import polars as pl
import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from bulkassist.errors import Conflict
from bulkassist.server import outcomes as row_outcomes
from bulkassist.server.domains import OUTCOME_SCHEMA, Context, behaviour_for, outcomes
from bulkassist.server.lifecycle import locked, require_mapped, transition
from bulkassist.server.models import Import, ImportReport, Organisation, RowResult, utcnow
from bulkassist.server.orgdata import builtin_domain
from bulkassist.server.usage import check_allowance, record_usage
from bulkassist.status import TRANSITIONS, VALID_ACTIONS, ImportStatus, RowAction, RowStatus

log = logging.getLogger("bulkassist.server")
# Rows per transaction: a chunk's fixed costs (lock, commit, usage, progress, and some fifty frame
# operations, each waking polars' threads: 0.1-0.2 s a chunk on a busy machine) amortised over 50,000 rows.
CHUNK_ROWS = int(os.environ.get("BULKASSIST_CHUNK_ROWS", "50000"))
# Seconds to wait between chunks: throttles a big commit on a busy SQLite, and lets the crash test
# kill a worker reliably in the middle of one.
CHUNK_PAUSE = float(os.environ.get("BULKASSIST_CHUNK_PAUSE", "0"))
# Stored rows a commit reads at a time: a row group of the report's Parquet blob (polars writes 512^2 rows).
_WINDOW = 512 ** 2


def start_commit(session: Session, imp: Import, key: str | None, *, retry: bool = False) -> bool:
    """Move the import to Committing (once per Idempotency-Key); whether this call moved it (and so the
    caller defers the commit job in this transaction)."""
    if key and imp.commit_key == key:
        return False  # the same request again: already started (or done)
    wanted = ImportStatus.COMMIT_FAILED if retry else ImportStatus.VALIDATED
    if imp.status != wanted:
        if retry:
            raise Conflict(f"import {imp.id} is {imp.status}; only an import that ended CommitFailed can be "
                           f"retried")
        if imp.status == ImportStatus.VALIDATION_FAILED:
            raise Conflict(f"import {imp.id} has no valid row to import; fix the errors first")
        raise Conflict(f"import {imp.id} is {imp.status}; it can be committed once, after validation")
    require_mapped(imp)
    # A first commit has written nothing yet: its rows are the validated Insert and Update rows, counted by
    # the validation, so the request does not read the stored rows (a blob the size of the import).
    pending = pending_count(session, imp, retry=True) if retry else imp.to_insert + imp.to_update
    # One commit start at a time per organisation: this write takes the organisation's row lock
    # (PostgreSQL) or the database write lock (SQLite) before usage is read. Rows that running
    # commits have reserved but not yet recorded count as used, so two commits cannot both pass.
    session.execute(sa.update(Organisation).where(Organisation.id == imp.org_id)
                    .values(id=Organisation.id))
    reserved = sa.select(sa.func.coalesce(sa.func.sum(Import.progress_total - Import.progress_done), 0)).where(
        Import.org_id == imp.org_id, Import.status == ImportStatus.COMMITTING, Import.id != imp.id).scalar_subquery()
    check_allowance(session, imp.org_id, pending, reserved=reserved)
    dom = builtin_domain(imp.domain)
    behaviour_for(dom).before_commit(Context(session, imp.org_id, imp.id, dom, imp.operation, imp.options or {}))
    transition(session, imp, ImportStatus.COMMITTING, commit_key=key, retry_only_failed=retry,
               cancel_requested=False, progress_done=0, progress_total=pending, message="")
    return True


def pending_rows(session: Session, imp: Import, *, retry: bool) -> tuple[bytes, pl.Expr]:
    """The stored normalized rows (a Parquet blob: the cells as uploaded and the issues are not read) and
    which of them are still to write: valid rows without an outcome (resume), or without a success (retry)."""
    blob = session.scalar(sa.select(ImportReport.normalized).where(ImportReport.import_id == imp.id))
    if blob is None:
        raise Conflict(f"import {imp.id} has no validated rows to commit; validate it first")
    done = _done_rows(session, imp, None, retry=retry)
    return blob, pl.col("action").is_in(VALID_ACTIONS) & ~pl.col("row").is_in(done.implode())


def pending_count(session: Session, imp: Import, *, retry: bool) -> int:
    """How many rows are still to write (reading only the rows' numbers and actions)."""
    blob, wanted = pending_rows(session, imp, retry=retry)
    return pl.scan_parquet(io.BytesIO(blob)).select("row", "action").filter(wanted).select(pl.len()).collect().item()


def _windows(blob: bytes, wanted: pl.Expr) -> Iterator[pl.DataFrame]:
    """The rows still to write, `_WINDOW` stored rows at a time: a commit holds a window of the import in
    memory, not the import."""
    stored = pl.scan_parquet(io.BytesIO(blob))
    for start in range(0, stored.select(pl.len()).collect().item(), _WINDOW):
        yield stored.slice(start, _WINDOW).filter(wanted).collect()


def _done_rows(session: Session, imp: Import, rows: pl.Series | None, *, retry: bool) -> pl.Series:
    """Rows (from the first to the last of `rows`, or all) that already have an outcome a resume / retry
    must not redo. A range, not an IN list of a chunk's rows: one index range scan, no statement as
    long as the chunk to compile."""
    done_status = [RowStatus.SUCCESS, RowStatus.SKIPPED]
    if not retry:
        done_status.append(RowStatus.FAILED)
    found = (row_outcomes.read(session, imp.id) if rows is None
             else row_outcomes.read(session, imp.id, cast(int, rows.min()), cast(int, rows.max())))
    return found.filter(pl.col("status").is_in(done_status))["row"]


# ------------------------------------------------------------------ the job
def run_commit(sessions: sessionmaker[Session], import_id: int) -> None:
    """The commit job: write the rows still to write, then the final status. Safe to run again."""
    try:
        _run(sessions, import_id)
    except Exception as exc:  # the job must leave a status behind, whatever happened
        log.error("commit of import %s failed:\n%s", import_id, traceback.format_exc())
        _finish(sessions, import_id, ImportStatus.COMMIT_FAILED,
                f"the import process failed: {exc}; retry to finish it")


def _run(sessions: sessionmaker[Session], import_id: int) -> None:
    with sessions() as session:
        imp = session.get(Import, import_id)
        if imp is None or imp.status != ImportStatus.COMMITTING:
            return  # done already (the job ran before), or cancelled before it started
        retry = imp.retry_only_failed
        blob, wanted = pending_rows(session, imp, retry=retry)
        remaining = imp.progress_total - imp.progress_done
        dom = builtin_domain(imp.domain)
    behaviour = behaviour_for(dom)
    # About twenty progress steps per import, never more than CHUNK_ROWS rows per transaction.
    size = min(CHUNK_ROWS, max(50, -(-remaining // 20)))
    chunks = (chunk for window in _windows(blob, wanted) for chunk in window.iter_slices(size))
    for number, chunk in enumerate(chunks):
        if number and CHUNK_PAUSE:
            time.sleep(CHUNK_PAUSE)
        with sessions.begin() as session:
            imp = session.scalars(_locked(session, import_id)).one()
            if imp.status != ImportStatus.COMMITTING:
                return  # another run of the job finished it
            if imp.cancel_requested:
                break
            # Under the import's lock: drop rows another run of the job wrote since we listed them.
            done = _done_rows(session, imp, chunk["row"], retry=retry)
            chunk = chunk.filter(~pl.col("row").is_in(done.implode()))
            if chunk.height == 0:
                continue
            ctx = Context(session, imp.org_id, imp.id, dom, imp.operation, imp.options or {})
            result = _write(session, behaviour, ctx, chunk)
            if retry:
                session.execute(sa.delete(RowResult).where(
                    RowResult.import_id == import_id, RowResult.row.in_(result["row"].to_list())))
            row_outcomes.write(session, import_id, result, utcnow())
            ok = result.filter(pl.col("status") == RowStatus.SUCCESS)
            record_usage(session, imp.org_id, imp.id, ok.height)
            imp.progress_done += chunk.height
            imp.inserted += ok.filter(pl.col("action") == RowAction.INSERT).height
            imp.updated += ok.filter(pl.col("action") == RowAction.UPDATE).height
            imp.failed = imp.failed + result.filter(pl.col("status") == RowStatus.FAILED).height
    _finish(sessions, import_id, None, "")


def _write(session: Session, behaviour, ctx: Context, chunk: pl.DataFrame) -> pl.DataFrame:
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


def _finish(sessions: sessionmaker[Session], import_id: int, status: ImportStatus | None, message: str) -> None:
    """Set the final status (Committed / CommitFailed / Cancelled) and run the domain's after-commit."""
    with sessions.begin() as session:
        imp = session.scalars(_locked(session, import_id)).one()
        if imp.status != ImportStatus.COMMITTING:
            return
        if status is None:
            failed = session.scalar(sa.select(sa.func.count()).select_from(RowResult).where(
                RowResult.import_id == import_id, RowResult.status == RowStatus.FAILED)) or 0
            imp.failed = failed
            if imp.cancel_requested and pending_count(session, imp, retry=False):
                status = ImportStatus.CANCELLED
                message = "cancelled during the commit; rows committed before stay"
            elif failed:
                status = ImportStatus.COMMIT_FAILED
                message = f"{failed} row(s) could not be written; see the errors file, fix them and retry"
            else:
                status = ImportStatus.COMMITTED
        transition(session, imp, status, message=message, committed_at=utcnow())
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
