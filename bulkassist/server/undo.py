"""Undoing an import: its inserted records removed, the records it updated put back as they were.

What to undo is the import's change log (`changelog.py`, table `import_undo_log`): the updates the
commit logged, and the records it created, which the undo logs when it starts. An import
that wrote records (Committed, CommitFailed or Cancelled after some rows) can be undone by a user
allowed to import its domain, within the organisation's retention period (`undo_retention_days`,
30 by default, counted from the commit).

Safe against later changes: every write gives a record a new `updated_at`; the log keeps the one the
import gave it. A record whose last write is not the import's was changed since (a later import, or
an undo of one): it is a *Conflict*, listed and left as it is, unless the undo is forced (then it is
put back as it was before the import, and the later change is undone with it). A record a
later record links to (an assignment of a client the import created) is never removed: that would
leave the later record pointing nowhere; undo the later import first.

Crash-safe like the commit (`committer.py`): the undo is a job (`jobs.py`) that works in chunks; each
chunk is one transaction holding the restored records, each change's `outcome` and the progress
counters, so the changes still to undo are always "those without an outcome" and a job that runs again
(its worker died and the queue retried it) restores no record twice.

What else the import did, and what the undo does about it (the seeds decide):
- invoices Auto Create Invoices made for new assignments (seed 000) are voided, never deleted (an
  invoice is a financial document): the invoice stays, with the undo as its void reason. The invoice
  of an assignment kept as a conflict stays valid.
- workflow events Run Workflow on Import fired for new cases (seed 001: survey invitations, sanction
  notices) have reached people already and cannot be called back: the undo says how many there were.
- usage is not refunded: the licence counts the rows an organisation imports, and an undo does not
  make the work undone; the rows stay counted in today / this week / this month.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta
from typing import Any

import polars as pl
import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from bulkassist.errors import Conflict, UndoExpired
from bulkassist.server import outcomes
from bulkassist.server.changelog import inserted_records, log_inserted
from bulkassist.server.lifecycle import describe, locked, transition
from bulkassist.server.models import (
    Import,
    Invoice,
    Organisation,
    Record,
    UndoLogEntry,
    utcnow,
)
from bulkassist.status import UNDOABLE, ImportStatus, RowAction, UndoOutcome

log = logging.getLogger("bulkassist.server")
UNDO_STATUSES = frozenset({ImportStatus.REVERTING, ImportStatus.REVERTED, ImportStatus.PARTLY_REVERTED})
_IN_CHUNK = 900  # values per IN (...) query: under SQLite's variable limit
_GONE = "the record no longer exists; nothing to undo"
_LINKED = "later records link to it ({n}); undo the import that added them first, or remove them"


# ------------------------------------------------------------------ request side
def undo_deadline(session: Session, imp: Import) -> datetime | None:
    """The moment the import can no longer be undone (None: it never committed a row)."""
    if imp.committed_at is None:
        return None
    days = session.get_one(Organisation, imp.org_id).undo_retention_days
    return imp.committed_at + timedelta(days=days)


def _check_undoable(session: Session, imp: Import) -> None:
    if imp.status not in UNDOABLE:
        if imp.status == ImportStatus.REVERTED:
            raise Conflict(f"import {imp.id} is already undone (Reverted)")
        raise Conflict(f"import {imp.id} is {imp.status}; only an import that committed rows can be undone "
                       f"(Committed, CommitFailed, Cancelled after a commit, or PartlyReverted)")
    deadline = undo_deadline(session, imp)
    if deadline is not None and imp.committed_at is not None and utcnow() > deadline:
        days = (deadline - imp.committed_at).days
        raise UndoExpired(f"import {imp.id} committed on {imp.committed_at:%Y-%m-%d %H:%M} UTC, more than {days} "
                          f"days ago: your organisation's undo retention period has ended; an administrator can "
                          f"lengthen it (undo_retention_days), or correct the records with a new import")
    if not imp.inserted + imp.updated:
        raise Conflict(f"import {imp.id} wrote no record; there is nothing to undo")


def plan(session: Session, imp: Import) -> dict[str, Any]:
    """What an undo would do now (the confirmation): records to remove, to restore, conflicts, invoices."""
    _check_undoable(session, imp)
    # A change still to undo, or a conflict an undo again takes up once more; and the records the
    # import created, which the undo logs when it starts.
    last_write = sa.func.coalesce(Record.updated_at, Record.created_at)
    logged = (sa.select(UndoLogEntry.record_id, UndoLogEntry.action, UndoLogEntry.written_at, Record.id, last_write)
              .outerjoin(Record, Record.id == UndoLogEntry.record_id)
              .where(UndoLogEntry.import_id == imp.id, UndoLogEntry.outcome.is_(None) | (
                  UndoLogEntry.outcome == UndoOutcome.CONFLICT)))
    created = inserted_records(imp.id, imp.org_id).subquery()
    unlogged = sa.select(created.c.id, sa.literal(str(RowAction.INSERT)), created.c.created_at, Record.id,
                         last_write).join(Record, Record.id == created.c.id)
    changes = [*session.execute(logged).all(), *session.execute(unlogged).all()]
    frame = pl.DataFrame([tuple(c) for c in changes], orient="row", schema={
        "record_id": pl.Int64, "action": pl.String, "written_at": pl.Datetime("us"), "exists": pl.Int64,
        "last_write": pl.Datetime("us")})
    present = frame.filter(pl.col("exists").is_not_null())
    changed = present.filter(pl.col("last_write") != pl.col("written_at"))
    same = present.filter(pl.col("last_write") == pl.col("written_at"))
    inserted = same.filter(pl.col("action") == RowAction.INSERT)["record_id"].to_list()
    linked = _linked(session, imp, inserted)
    removed = [r for r in inserted if r not in linked]
    invoices = sum(session.scalar(sa.select(sa.func.count()).select_from(Invoice).where(
        Invoice.import_id == imp.id, Invoice.record_id.in_(part), Invoice.voided_at.is_(None))) or 0
        for part in _parts(removed))
    deadline = undo_deadline(session, imp)
    return {
        "id": imp.id,
        "remove": len(removed),
        "restore": same.filter(pl.col("action") == RowAction.UPDATE).height,
        "conflicts": changed.height,
        "linked": len(linked),
        "gone": frame.height - present.height,
        "invoices": invoices,
        "undo_until": deadline.isoformat(timespec="seconds") + "Z" if deadline else None,
        "effects": effects(imp, invoices_voided=None),
    }


def _pending(import_id: int) -> sa.Select:
    return sa.select(UndoLogEntry.record_id).where(UndoLogEntry.import_id == import_id,
                                                   UndoLogEntry.outcome.is_(None))


def start_undo(session: Session, imp: Import, *, force: bool) -> None:
    """Move the import to Reverting; the caller defers the undo job (`run_undo`) in this transaction.

    Undoing a PartlyReverted import again takes up its conflicts once more (forced or not).
    """
    _check_undoable(session, imp)
    log_inserted(session, imp.id, imp.org_id)
    session.execute(sa.update(UndoLogEntry).where(UndoLogEntry.import_id == imp.id,
                                                  UndoLogEntry.outcome == UndoOutcome.CONFLICT)
                    .values(outcome=None, message=""))
    counts = dict(session.execute(sa.select(UndoLogEntry.outcome.is_(None), sa.func.count()).where(
        UndoLogEntry.import_id == imp.id).group_by(UndoLogEntry.outcome.is_(None))).all())
    pending, done = counts.get(True, 0), counts.get(False, 0)
    transition(session, imp, ImportStatus.REVERTING, undo_force=force,
               undo_total=pending + done, undo_done=done, conflicts=0,
               message=f"undoing {pending} record change(s)" + (" (forced over later changes)" if force else ""))


# ------------------------------------------------------------------ the job
def run_undo(sessions: sessionmaker[Session], import_id: int, *, chunk_rows: int, pause: float = 0) -> None:
    """The undo job: undo the changes of import `import_id` that have no outcome yet, a chunk per
    transaction. Safe to run again."""
    try:
        first = True
        while True:
            if not first and pause:
                time.sleep(pause)
            first = False
            with sessions.begin() as session:
                imp = session.scalars(locked(import_id, session.get_bind().dialect.name)).one()
                if imp.status != ImportStatus.REVERTING:
                    return  # done (another run of the job finished it)
                ids = list(session.scalars(_pending(import_id).order_by(UndoLogEntry.record_id)
                                           .limit(min(chunk_rows, _IN_CHUNK))))
                if not ids:
                    _finish(session, imp)
                    return
                _undo_chunk(session, imp, ids)
    except Exception as exc:  # the job must leave a status behind, whatever happened
        log.exception("undo of import %s failed", import_id)
        with sessions.begin() as session:
            imp = session.scalars(locked(import_id, session.get_bind().dialect.name)).one()
            if imp.status == ImportStatus.REVERTING:
                transition(session, imp, ImportStatus.PARTLY_REVERTED, reverted_at=utcnow(),
                           message=f"the undo failed: {exc}; undo again to finish it (what is undone stays undone)")


def _undo_chunk(session: Session, imp: Import, ids: list[int]) -> None:
    """Undo the changes of `ids` (pending changes of `imp`): one transaction, one outcome each."""
    dialect = session.get_bind().dialect.name
    records = sa.select(Record.id, sa.func.coalesce(Record.updated_at, Record.created_at)).where(
        Record.id.in_(ids), Record.org_id == imp.org_id)
    if dialect == "postgresql":
        records = records.with_for_update()  # a concurrent import cannot change them under us
    last_writes = dict(session.execute(records).all())
    changes = session.execute(sa.select(UndoLogEntry.record_id, UndoLogEntry.action, UndoLogEntry.before,
                                        UndoLogEntry.before_key, UndoLogEntry.written_at).where(
        UndoLogEntry.import_id == imp.id, UndoLogEntry.record_id.in_(ids))).all()
    now = utcnow()
    outcome: dict[int, tuple[str, str]] = {}
    removes: list[int] = []
    restores: list[dict[str, Any]] = []
    for record_id, action, before, before_key, written_at in changes:
        if record_id not in last_writes:
            outcome[record_id] = (UndoOutcome.GONE, _GONE)
            continue
        last_write = last_writes[record_id]
        if last_write != written_at and not imp.undo_force:
            outcome[record_id] = (UndoOutcome.CONFLICT, f"changed since the import (last written "
                                  f"{last_write:%Y-%m-%d %H:%M:%S} UTC); left as it is; undo with force to "
                                  f"undo it anyway")
        elif action == RowAction.INSERT:
            removes.append(record_id)
        else:  # back to the record as it was before the import (forced: later changes are undone too)
            restores.append({"id": record_id, "data": before, "key": before_key, "updated_at": now})
            outcome[record_id] = (UndoOutcome.RESTORED, "")
    linked = _linked(session, imp, removes)
    for record_id, n in linked.items():
        outcome[record_id] = (UndoOutcome.CONFLICT, _LINKED.format(n=n))
    removes = [r for r in removes if r not in linked]
    for record_id in removes:
        outcome[record_id] = (UndoOutcome.REMOVED, "")
    for part in _parts(removes):
        session.execute(sa.delete(Record).where(Record.id.in_(part)))
        session.execute(sa.update(Invoice).where(Invoice.record_id.in_(part), Invoice.import_id == imp.id,
                                                 Invoice.voided_at.is_(None))
                        .values(voided_at=now, void_reason=f"voided by the undo of import {imp.id}: its "
                                                           f"assignment was removed"))
    if restores:
        session.execute(sa.update(Record), restores)
    log_table = UndoLogEntry.__table__
    session.execute(
        sa.update(log_table).where(log_table.c.import_id == imp.id, log_table.c.record_id == sa.bindparam("rid"))
        .values(outcome=sa.bindparam("out"), message=sa.bindparam("msg")),
        [{"rid": r, "out": o, "msg": m} for r, (o, m) in outcome.items()])
    tally = pl.Series([o for o, _ in outcome.values()], dtype=pl.String).value_counts()
    counts = dict(zip(tally[""].to_list(), tally["count"].to_list(), strict=True)) if tally.height else {}
    imp.undo_done += len(outcome)
    imp.removed += counts.get(UndoOutcome.REMOVED, 0)
    imp.restored += counts.get(UndoOutcome.RESTORED, 0)
    imp.conflicts += counts.get(UndoOutcome.CONFLICT, 0)


def _parts(ids: list[int]) -> list[list[int]]:
    return [ids[i:i + _IN_CHUNK] for i in range(0, len(ids), _IN_CHUNK)]


def _linked(session: Session, imp: Import, ids: list[int]) -> dict[int, int]:
    """Of `ids` (records the import inserted), those other records link to -> how many, not counting the
    import's own inserts that the undo removes too."""
    removed_too = sa.select(UndoLogEntry.record_id).where(
        UndoLogEntry.import_id == imp.id, UndoLogEntry.action == RowAction.INSERT,
        UndoLogEntry.outcome.is_(None) | (UndoLogEntry.outcome == UndoOutcome.REMOVED))
    not_logged_yet = sa.select(inserted_records(imp.id, imp.org_id).subquery().c.id)
    found: dict[int, int] = {}
    for part in _parts(ids):
        found.update({parent: n for parent, n in session.execute(sa.select(Record.parent_id, sa.func.count()).where(
            Record.org_id == imp.org_id, Record.parent_id.in_(part), Record.id.not_in(removed_too),
            Record.id.not_in(not_logged_yet)).group_by(Record.parent_id)) if parent is not None})
    return found


def _finish(session: Session, imp: Import) -> None:
    status = ImportStatus.PARTLY_REVERTED if imp.conflicts else ImportStatus.REVERTED
    kept = (f"; {imp.conflicts} record(s) changed since or linked to later records were left as they are "
            f"(see the undo results)") if imp.conflicts else ""
    transition(session, imp, status, reverted_at=utcnow(),
               message=f"undone: {imp.removed} record(s) removed, {imp.restored} restored{kept}")


# ------------------------------------------------------------------ reading
def effects(imp: Import, *, invoices_voided: int | None) -> dict[str, Any]:
    """What the undo does about what the import set off besides records (the seeds decide; see above)."""
    options = imp.options or {}
    events = imp.inserted if options.get("run_workflow") else 0
    out: dict[str, Any] = {
        "usage": {"refunded": 0, "rows": imp.inserted + imp.updated,
                  "note": "usage is not refunded: the licence counts the rows imported, and they stay counted"},
        "workflow": {"events": events, "recalled": 0,
                     "note": (f"{events} workflow event(s) of Run Workflow on Import already ran (invitations, "
                              f"notices) and cannot be called back" if events else
                              "the import ran no workflow")},
    }
    if options.get("auto_create_invoices"):
        out["invoices"] = {"voided": invoices_voided,
                           "note": "invoices of removed assignments are voided (kept, with the undo as reason), "
                                   "never deleted; an assignment kept as a conflict keeps its invoice"}
    return out


def undo_info(session: Session, imp: Import) -> dict[str, Any] | None:
    """The undo's progress and results, on the import (None before any undo)."""
    if imp.status not in UNDO_STATUSES:
        return None
    voided = None
    if (imp.options or {}).get("auto_create_invoices"):
        voided = session.scalar(sa.select(sa.func.count()).select_from(Invoice).where(
            Invoice.import_id == imp.id, Invoice.voided_at.is_not(None))) or 0
    return {"done": imp.undo_done, "total": imp.undo_total, "removed": imp.removed, "restored": imp.restored,
            "conflicts": imp.conflicts, "force": imp.undo_force,
            "reverted_at": imp.reverted_at.isoformat(timespec="seconds") + "Z" if imp.reverted_at else None,
            "effects": effects(imp, invoices_voided=voided)}


def described(session: Session, imp: Import) -> dict[str, Any]:
    """`lifecycle.describe` plus the undo: its progress and results, and until when the import can be undone."""
    deadline = undo_deadline(session, imp) if imp.status in UNDOABLE else None
    return {**describe(session, imp), "undo": undo_info(session, imp),
            "undo_until": deadline.isoformat(timespec="seconds") + "Z" if deadline else None}


def undo_results(session: Session, imp: Import) -> pl.DataFrame:
    """The undo's results file: per record the import wrote, its row, the action, the undo's outcome."""
    if imp.status not in UNDO_STATUSES:
        raise Conflict(f"import {imp.id} is {imp.status}; it has not been undone, so there are no undo results")
    changes = pl.DataFrame([tuple(r) for r in session.execute(
        sa.select(UndoLogEntry.record_id, UndoLogEntry.action, UndoLogEntry.outcome, UndoLogEntry.message)
        .where(UndoLogEntry.import_id == imp.id)).all()], orient="row",
        schema={"record_id": pl.Int64, "action": pl.String, "outcome": pl.String, "message": pl.String})
    rows = (outcomes.read(session, imp.id).filter(pl.col("record_id").is_not_null())
            .group_by("record_id").agg(pl.col("row").min(), pl.col("invoice_id").max()))
    frame = changes.join(rows, on="record_id", how="left").sort("row", "record_id", nulls_last=True)
    return frame.select(
        pl.col("record_id").alias("Record ID"),
        pl.col("row").alias("Row Number"),
        pl.col("action").alias("Action"),
        pl.col("outcome").fill_null(UndoOutcome.PENDING).alias("Outcome"),
        pl.col("invoice_id").cast(pl.String).alias("Invoice ID"),
        pl.col("message").alias("Message"),
    )
