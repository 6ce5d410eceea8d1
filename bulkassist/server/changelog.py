"""What an import changed, logged so it can be undone (`undo.py` reads it back), without a Python loop.

An updated record is logged by the domain behaviour inside the commit's chunk transaction (and
savepoint), just before the update: one INSERT ... SELECT per chunk copies the record's fields and key
as they were into the log, inside the database, so the log and the update are committed together or
not at all, at the cost of one statement. A record the same import writes twice (the same Client ID
on two rows, or a row retried) keeps its first copy (the state before the import) and the latest
`written_at`.

An inserted record needs no second write at commit time: the record itself carries the import that
created it (`records.import_id`, in the same transaction). The undo copies those IDs into the log when
it starts (`log_inserted`), one INSERT ... SELECT, so the commit of new records costs what it did.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, aliased

from bulkassist.server.models import ImportChange, Record
from bulkassist.status import RowAction

_IN_CHUNK = 900  # values per IN (...) query: under SQLite's variable limit
_LOG = ImportChange.__table__


def _not_logged(import_id: int, record: type[Record]) -> sa.ColumnElement[bool]:
    """`record` is not in the import's log yet (NOT EXISTS: one primary-key probe per record)."""
    return ~sa.exists().where(_LOG.c.import_id == import_id, _LOG.c.record_id == record.id)


def log_updates(session: Session, import_id: int, org_id: int, record_ids: Iterable[int], at: datetime) -> None:
    """Before the import updates `record_ids` (at `at`): copy their stored fields and key into its log.

    One upsert per part: a record this import wrote before keeps its first copy (the state before the
    import) and gets the latest `written_at`.
    """
    ids = sorted(set(record_ids))
    stored = aliased(Record)  # never correlated with a `records` of a query this one is part of
    insert = postgresql.insert if session.bind.dialect.name == "postgresql" else sqlite.insert
    copy = insert(_LOG).from_select(
        ["import_id", "record_id", "action", "before", "before_key", "written_at", "message"],
        sa.select(sa.literal(import_id), stored.id, sa.literal(str(RowAction.UPDATE)), stored.data, stored.key,
                  sa.literal(at, sa.DateTime()), sa.literal(""))
        .where(stored.id.in_(sa.bindparam("ids", expanding=True)), stored.org_id == org_id))
    upsert = copy.on_conflict_do_update(index_elements=[_LOG.c.import_id, _LOG.c.record_id],
                                        set_={"written_at": copy.excluded.written_at})
    for i in range(0, len(ids), _IN_CHUNK):
        session.execute(upsert, {"ids": ids[i:i + _IN_CHUNK]})


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
