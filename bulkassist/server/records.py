"""The records imports wrote, as people open them: one record, a domain's screen (a page of records),
an import's Records tab (seed 001), and the Registration & Certification export (seed 002).

Every read is scoped to the caller's organisation: another organisation's record does not exist for
the caller (404), whatever its ID.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

import polars as pl
import sqlalchemy as sa
from sqlalchemy.orm import Session

from bulkassist.errors import InvalidRequest, NotFound
from bulkassist.server.models import Import, Learner, QualificationInfo, Record
from bulkassist.server.results import results_frame
from bulkassist.spec import Domain

API_PREFIX = "/api/v1"
_IN_CHUNK = 900
DATE_FORMAT = "%d/%m/%Y"  # seed 002's dates

# Seed 002's export: the columns the organisation's learner profile fills (by ULN) ...
LEARNER_EXPORT: dict[str, str] = {
    "Title": "title", "First Name": "first_name", "Last Name": "last_name", "Full Name": "full_name",
    "Address Line 1": "address_line_1", "Address Line 2": "address_line_2", "Address Town/City": "town",
    "County": "county", "Post Code": "post_code", "Country": "country", "Date of Birth": "date_of_birth",
    "Gender": "gender", "Email address": "email", "Ethnicity": "ethnicity", "Start Date": "start_date",
    "Planned Achievement Date": "planned_achievement_date", "Primary Tutor": "primary_tutor",
    "Employer": "employer", "Programme Name": "programme", "QA Verified": "qa_verified",
}
# ... and those its qualification catalogue fills (by Qualification number).
QUALIFICATION_EXPORT: dict[str, str] = {"Qualification Name": "name", "Awarding Organisation": "awarding_organisation"}
_LEARNER_MATCH, _QUALIFICATION_MATCH = "ULN", "Qualification Number"


def record_link(domain: str, record_id: int) -> str:
    return f"{API_PREFIX}/records/{domain}/{record_id}"


def _stamp(value: Any) -> str | None:
    return value.isoformat(timespec="seconds") + "Z" if value is not None else None


def describe_record(record: Record) -> dict[str, Any]:
    return {"id": record.id, "domain": record.domain, "link": record_link(record.domain, record.id),
            "import_id": record.import_id, "parent_id": record.parent_id, "created_at": _stamp(record.created_at),
            "updated_at": _stamp(record.updated_at), "fields": record.data or {}}


def get_record(session: Session, org_id: int, dom: Domain, record_id: int) -> Record:
    record = session.scalars(sa.select(Record).where(Record.id == record_id, Record.org_id == org_id,
                                                     Record.domain == dom.name)).first()
    if record is None:
        raise NotFound(f"no {dom.title} record with ID {record_id} in your organisation")
    return record


def page_of_records(session: Session, org_id: int, dom: Domain, page: int, page_size: int) -> dict[str, Any]:
    """One page of the domain's records, oldest first (the order the export's `page` selects)."""
    query = sa.select(Record).where(Record.org_id == org_id, Record.domain == dom.name)
    total = session.scalar(sa.select(sa.func.count()).select_from(query.subquery())) or 0
    found = session.scalars(query.order_by(Record.id).offset((page - 1) * page_size).limit(page_size)).all()
    return {"items": [describe_record(r) for r in found], "total": total, "page": page, "page_size": page_size}


def import_records(session: Session, imp: Import) -> dict[str, Any]:
    """Seed 001's Records tab: per row of the file, what happened, the record it created or updated (with
    its link) and, for a row that failed or was skipped, the reason."""
    frame = results_frame(session, imp)
    ids = frame["Created/Updated ID"].cast(pl.Int64, strict=False)
    links = pl.select(pl.when(ids.is_not_null()).then(pl.format(f"{API_PREFIX}/records/{imp.domain}/{{}}", ids))
                      ).to_series()
    items = [{"row": row, "status": status, "action": action, "record_id": rid, "link": link, "error": error or None}
             for row, status, action, rid, link, error in zip(
                 frame["Row Number"].to_list(), frame["Status"].to_list(), frame["Action"].to_list(),
                 ids.to_list(), links.to_list(), frame["Error Messages"].to_list(), strict=True)]
    return {"import_id": imp.id, "domain": imp.domain, "items": items}


# ------------------------------------------------------------------ export
def export_frame(session: Session, org_id: int, dom: Domain, *, record_ids: list[int] | None = None,
                 page: int | None = None, page_size: int = 50) -> pl.DataFrame:
    """The domain's export (seed 002's 32 columns, in order) of the chosen records: `record_ids`, one
    `page` of the domain's screen, or (neither) all of them. Learner and qualification columns come from
    the organisation's learners (by ULN) and qualifications (by Qualification number)."""
    if not dom.export_columns:
        raise InvalidRequest(f"{dom.title} records have no export")
    query = sa.select(Record.id, Record.data).where(Record.org_id == org_id, Record.domain == dom.name)
    if record_ids:
        found = [r for part in _chunks(sorted(set(record_ids)))
                 for r in session.execute(query.where(Record.id.in_(part))).all()]
        missing = sorted(set(record_ids) - {r.id for r in found})
        if missing:
            raise NotFound(f"no {dom.title} record with ID {', '.join(map(str, missing[:20]))}; "
                           f"choose records from your organisation's list")
        found.sort(key=lambda r: r.id)
    elif page is not None:
        found = list(session.execute(query.order_by(Record.id).offset((page - 1) * page_size).limit(page_size)))
    else:
        found = list(session.execute(query.order_by(Record.id)))
    sources = [source for _, source in dom.export_columns if source]
    records = pl.DataFrame({"_id": [r.id for r in found],
                            **{s: [_text((r.data or {}).get(s)) for r in found] for s in dict.fromkeys(sources)}},
                           schema={"_id": pl.Int64, **dict.fromkeys(sources, pl.String)})
    headers = [h for h, _ in dom.export_columns]
    if _LEARNER_MATCH in records.columns:
        learners = _learners(session, org_id, records[_LEARNER_MATCH].drop_nulls().unique().to_list())
        records = records.join(learners, left_on=_LEARNER_MATCH, right_on="_uln", how="left")
    if _QUALIFICATION_MATCH in records.columns:
        quals = _qualifications(session, org_id, records[_QUALIFICATION_MATCH].drop_nulls().unique().to_list())
        records = records.join(quals, left_on=_QUALIFICATION_MATCH, right_on="_number", how="left")
    columns = []
    for header, source in dom.export_columns:
        if source:
            columns.append(pl.col(source).alias(header))
        elif header in records.columns:
            columns.append(pl.col(header))
        else:
            columns.append(pl.lit(None, pl.String).alias(header))
    return records.sort("_id").select(columns).select(headers)


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _chunks(values: list) -> Iterable[list]:
    for i in range(0, len(values), _IN_CHUNK):
        yield values[i:i + _IN_CHUNK]


def _day(value: date | None) -> str | None:
    return value.strftime(DATE_FORMAT) if value else None


def _learners(session: Session, org_id: int, ulns: list[str]) -> pl.DataFrame:
    """The learner export columns, by ULN (`_uln`)."""
    schema = {"_uln": pl.String, **dict.fromkeys(LEARNER_EXPORT, pl.String)}
    rows = [learner for part in _chunks(sorted(ulns)) for learner in session.scalars(
        sa.select(Learner).where(Learner.org_id == org_id, Learner.uln.in_(part)))]
    data: dict[str, list] = {"_uln": [r.uln for r in rows]}
    for header, attr in LEARNER_EXPORT.items():
        if attr == "full_name":
            data[header] = [" ".join(p for p in (r.first_name, r.last_name) if p) or None for r in rows]
        elif attr == "qa_verified":
            data[header] = ["Yes" if r.qa_verified else "No" for r in rows]
        elif attr in ("date_of_birth", "start_date", "planned_achievement_date"):
            data[header] = [_day(getattr(r, attr)) for r in rows]
        else:
            data[header] = [getattr(r, attr) or None for r in rows]
    return pl.DataFrame(data, schema=schema)


def _qualifications(session: Session, org_id: int, numbers: list[str]) -> pl.DataFrame:
    rows = [q for part in _chunks(sorted(numbers)) for q in session.scalars(
        sa.select(QualificationInfo).where(QualificationInfo.org_id == org_id, QualificationInfo.number.in_(part)))]
    return pl.DataFrame({"_number": [q.number for q in rows],
                         **{h: [getattr(q, a) or None for q in rows] for h, a in QUALIFICATION_EXPORT.items()}},
                        schema={"_number": pl.String, **dict.fromkeys(QUALIFICATION_EXPORT, pl.String)})
