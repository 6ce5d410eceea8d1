"""What an import changed, logged so it can be undone (`undo.py` reads it back), without a Python loop.

An updated record is logged by the domain behaviour inside the commit's chunk transaction (and
savepoint), just before the update: one INSERT ... SELECT per chunk copies the records' fields and
keys as they were into the log, inside the database, so the log and the update are committed together or
not at all, at the cost of one statement. A record the same import writes twice (the same Client ID
on two rows, or a row retried) keeps its first copy (the state before the import) and the latest
`written_at`.

An inserted record needs no second write at commit time: the record itself carries the import that
created it (`records.import_id`, in the same transaction). The undo copies those IDs into the log when
it starts (`log_inserted`), one INSERT ... SELECT, so the commit of new records costs what it did.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from bulkassist.server.models import Record, UndoLogEntry
from bulkassist.status import RowAction

_LOG = UndoLogEntry.__table__


def _not_logged(import_id: int, record: type[Record]) -> sa.ColumnElement[bool]:
    """`record` is not in the import's log yet (NOT EXISTS: one primary-key probe per record)."""
    return ~sa.exists().where(_LOG.c.import_id == import_id, _LOG.c.record_id == record.id)


# The IDs travel as one parameter (a JSON array on SQLite, an array on PostgreSQL), not one parameter
# each: binding thousands of parameters cost more than the copy itself.
_IDS = {"sqlite": "IN (SELECT value FROM json_each(:ids))", "postgresql": "= ANY(CAST(:ids AS BIGINT[]))"}
_COPY = sa.text(
    "INSERT INTO import_undo_log (import_id, record_id, action, before, before_key, written_at, message) "
    "SELECT :import_id, id, :action, data, key, :at, '' FROM records WHERE org_id = :org_id AND id {ids} "
    "ON CONFLICT (import_id, record_id) DO UPDATE SET written_at = excluded.written_at")


def log_updates(session: Session, import_id: int, org_id: int, record_ids: Iterable[int], at: datetime) -> None:
    """Before the import updates `record_ids` (at `at`): copy their stored fields and key into its log.

    One upsert: a record this import wrote before keeps its first copy (the state before the import)
    and gets the latest `written_at`.
    """
    dialect = session.get_bind().dialect.name
    ids = sorted(set(record_ids))
    copy = sa.text(_COPY.text.format(ids=_IDS[dialect])).bindparams(sa.bindparam("at", type_=sa.DateTime()))
    session.execute(copy, {"import_id": import_id, "action": str(RowAction.UPDATE), "at": at, "org_id": org_id,
                           "ids": json.dumps(ids) if dialect == "sqlite" else ids})


def inserted_records(import_id: int, org_id: int) -> sa.Select:
    """(record ID, written at) of the records the import created that are not in its log yet."""
    created = aliased(Record)  # never correlated with a `records` of a query this one is part of
    return sa.select(created.id, created.created_at).where(
        created.import_id == import_id, created.org_id == org_id, _not_logged(import_id, created))


def log_inserted(session: Session, import_id: int, org_id: int) -> None:
    """Copy the IDs of the records the import created into its log (again: only those not logged yet)."""
    found = inserted_records(import_id, org_id).subquery()
    session.execute(sa.insert(_LOG).from_select(
        ["import_id", "record_id", "action", "written_at", "message"],
        sa.select(sa.literal(import_id), found.c.id, sa.literal(str(RowAction.INSERT)), found.c.created_at,
                  sa.literal(""))))
