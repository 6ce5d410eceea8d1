"""What an import changed, logged at commit time so it can be undone (`undo.py` reads it back).

Written by the domain behaviours inside the commit's chunk transaction (and savepoint), in bulk with
the records themselves: a chunk's records and their log lines are committed together or not at all.
An inserted record is logged by its ID; an updated one with the values of the fields the import
overwrote and its key before. A record the same import writes twice (the same Client ID on two rows,
or a row retried) keeps its first `before` (the state before the import) and the latest `written_at`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bulkassist.server.bulk import insert_rows
from bulkassist.server.models import ImportChange
from bulkassist.status import RowAction

_COLUMNS = ("import_id", "record_id", "action", "before", "before_key", "written_at")
_IN_CHUNK = 900  # values per IN (...) query: under SQLite's variable limit


def log_inserts(session: Session, import_id: int, record_ids: Sequence[int], at: datetime) -> None:
    """The records an import inserted (new IDs: never logged before)."""
    insert_rows(session, ImportChange.__table__, _COLUMNS,
                [(import_id, i, RowAction.INSERT, None, None, at) for i in record_ids])


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
