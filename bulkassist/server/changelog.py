"""What an import changed, logged at commit time so it can be undone (`undo.py` reads it back).

An updated record is logged by the domain behaviour inside the commit's chunk transaction (and
savepoint), in bulk with the record itself: the values of the fields the import overwrote and its key
before, committed together with the update or not at all. A record the same import writes twice (the
same Client ID on two rows, or a row retried) keeps its first `before` (the state before the import)
and the latest `written_at`.

An inserted record needs no second write at commit time: the record itself carries the import that
created it (`records.import_id`, in the same transaction). The undo copies those IDs into the log when
it starts (`log_inserted`), one INSERT ... SELECT, so the commit of new records costs what it did.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from bulkassist.server.bulk import insert_rows
from bulkassist.server.models import ImportChange, Record
from bulkassist.status import RowAction

_COLUMNS = ("import_id", "record_id", "action", "before", "before_key", "written_at")
_IN_CHUNK = 900  # values per IN (...) query: under SQLite's variable limit


def inserted_records(import_id: int, org_id: int) -> sa.Select:
    """(record ID, written at) of the records the import created that are not in its log yet."""
    logged = sa.select(ImportChange.record_id).where(ImportChange.import_id == import_id)
    created = aliased(Record)  # never correlated with a `records` of a query this one is part of
    return sa.select(created.id, created.created_at).where(
        created.import_id == import_id, created.org_id == org_id, created.id.not_in(logged))


def log_inserted(session: Session, import_id: int, org_id: int) -> None:
    """Copy the IDs of the records the import created into its log (again: only those not logged yet)."""
    found = inserted_records(import_id, org_id).subquery()
    session.execute(sa.insert(ImportChange).from_select(
        ["import_id", "record_id", "action", "written_at", "message"],
        sa.select(sa.literal(import_id), found.c.id, sa.literal(str(RowAction.INSERT)), found.c.created_at,
                  sa.literal(""))))


def log_updates(session: Session, import_id: int, record_ids: Sequence[int], befores: Sequence[dict[str, Any]],
                keys: Sequence[str | None], at: datetime) -> None:
    """The records an import updated: per record, the overwritten fields' old values and the old key."""
    first: dict[int, tuple[dict[str, Any], str | None]] = {}
    for record_id, before, key in zip(record_ids, befores, keys, strict=True):
        first.setdefault(record_id, (before, key))
    again = _logged(session, import_id, list(first))
    if again:
        session.execute(sa.update(ImportChange).where(
            ImportChange.import_id == import_id, ImportChange.record_id.in_(again)).values(written_at=at))
    insert_rows(session, ImportChange.__table__, _COLUMNS, [
        (import_id, i, RowAction.UPDATE, before, key, at) for i, (before, key) in first.items() if i not in again])


def _logged(session: Session, import_id: int, record_ids: list[int]) -> set[int]:
    found: set[int] = set()
    for i in range(0, len(record_ids), _IN_CHUNK):
        found.update(session.scalars(sa.select(ImportChange.record_id).where(
            ImportChange.import_id == import_id, ImportChange.record_id.in_(record_ids[i:i + _IN_CHUNK]))))
    return found
