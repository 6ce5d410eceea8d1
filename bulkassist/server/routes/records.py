"""Records over HTTP: one record, a domain's records list (the Registration & Certification screen),
and an import's Records tab (seed 001)."""

from __future__ import annotations

from fastapi import APIRouter, Path, Query

from bulkassist.server import records
from bulkassist.server.lifecycle import get_import
from bulkassist.server.orgdata import domain_for
from bulkassist.server.routes.deps import CallerDep, SessionDep
from bulkassist.server.schemas import NO_NUL, ImportRecords, RecordInfo, RecordPage, error_responses

router = APIRouter(tags=["records"], responses=error_responses(400, 401, 403, 404, 422))
DomainName = Path(..., max_length=64, pattern=NO_NUL, description="the record's domain, e.g. case")


@router.get("/records/{domain}", response_model=RecordPage)
def list_records(caller: CallerDep, session: SessionDep, domain: str = DomainName,
                 page: int = Query(1, ge=1, le=100_000), page_size: int = Query(50, ge=1, le=500)) -> dict:
    """The domain's records, oldest first, one page at a time (seed 002's Registration & Certification
    screen: needs the permission to manage the domain's records)."""
    dom = domain_for(session, caller.org_id, domain)
    caller.require_records(dom.name)
    return records.page_of_records(session, caller.org_id, dom, page, page_size)


@router.get("/records/{domain}/{record_id}", response_model=RecordInfo)
def one_record(caller: CallerDep, session: SessionDep, domain: str = DomainName,
               record_id: int = Path(..., ge=1, le=2**63 - 1)) -> dict:
    """One record of your organisation (its fields as stored); needs the permission to manage or to
    import the domain's records. Another organisation's record is not found."""
    dom = domain_for(session, caller.org_id, domain)
    if not caller.can_open_record(dom.name):
        caller.require_records(dom.name)
    return records.describe_record(records.get_record(session, caller.org_id, dom, record_id))


@router.get("/imports/{import_id}/records", response_model=ImportRecords, tags=["imports"],
            responses=error_responses(409))  # an import not validated yet (e.g. cancelled before its review)
def import_records(caller: CallerDep, session: SessionDep,
                   import_id: int = Path(..., ge=1, le=2**31 - 1, description="the Import ID")) -> dict:
    """Seed 001's Records tab: each row's status and action, the record it created or updated (with a
    link to open it) and the error reason of each row that failed."""
    return records.import_records(session, get_import(session, caller, import_id))
