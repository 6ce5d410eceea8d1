"""What an organisation remembers between imports: saved column mappings and remembered value fixes.

Read by validation (`lifecycle`) and written by the mapping services (`mappings`); every query is
scoped to the caller's organisation, so one organisation never sees another's mappings or values.
"""

from __future__ import annotations

import hashlib
import json

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bulkassist.engine.headers import clean_header
from bulkassist.server.models import Import, RememberedValue, SavedMapping


def headers_key(headers: list[str]) -> str:
    """The same for the same headers in any order (a saved mapping applies to any column order)."""
    names = sorted({clean_header(h) for h in headers if clean_header(h)})
    return hashlib.sha256(json.dumps(names, ensure_ascii=False).encode("utf-8")).hexdigest()


def saved_for_headers(session: Session, org_id: int, domain: str, headers: list[str]) -> SavedMapping | None:
    return session.scalars(sa.select(SavedMapping).where(
        SavedMapping.org_id == org_id, SavedMapping.domain == domain,
        SavedMapping.headers_key == headers_key(headers))).first()


def apply_saved(session: Session, imp: Import) -> None:
    """Map an import without a mapping by the organisation's saved mapping for the same headers, if any."""
    if imp.mapping is not None or not imp.headers:
        return
    saved = saved_for_headers(session, imp.org_id, imp.domain, imp.headers)
    if saved is not None:
        imp.mapping = dict(saved.columns)
        imp.mapping_id = saved.id


def saved_mapping(session: Session, imp: Import) -> SavedMapping | None:
    """The saved mapping the import's mapping came from (None when it was deleted since)."""
    if imp.mapping_id is None:
        return None
    found = session.get(SavedMapping, imp.mapping_id)
    return found if found is not None and found.org_id == imp.org_id else None


def remembered_for(session: Session, org_id: int, domain: str) -> dict[str, dict[str, str]]:
    """{field: {value: new value}} the organisation remembered for a domain."""
    out: dict[str, dict[str, str]] = {}
    for field, value, new in session.execute(sa.select(
            RememberedValue.field, RememberedValue.value, RememberedValue.new_value).where(
            RememberedValue.org_id == org_id, RememberedValue.domain == domain)):
        out.setdefault(field, {})[value] = new
    return out
