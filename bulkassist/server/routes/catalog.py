"""What an importer reads before importing: who am I, domains and specs, select lists, suggestions,
templates, courses, usage."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Annotated, Literal

import fastapi
import polars as pl
import sqlalchemy as sa
from fastapi import APIRouter, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import Field

from bulkassist.domains import BUILTIN
from bulkassist.engine.selectlists import lists_payload
from bulkassist.errors import InvalidRequest, NotFound
from bulkassist.io.templates import write_template
from bulkassist.io.xlsx import MEDIA_TYPE
from bulkassist.server.domains import RecordStore
from bulkassist.server.domains.courses import course_rows, prefilled_domains
from bulkassist.server.models import Course
from bulkassist.server.orgdata import domain_for, enabled_domains, etag_of, lists_for
from bulkassist.server.records import export_frame
from bulkassist.server.results import as_csv, as_xlsx
from bulkassist.server.routes.deps import CallerDep, SessionDep
from bulkassist.server.schemas import (
    NO_NUL,
    Courses,
    DailyUsage,
    DomainInfo,
    DomainLists,
    DomainSpec,
    Me,
    SelectOption,
    Suggestions,
    Usage,
    error_responses,
    file_responses,
)
from bulkassist.server.usage import daily_usage, usage_for
from bulkassist.spec import Domain

router = APIRouter(tags=["catalog"], responses=error_responses(400, 401, 403, 404, 422))
# At most 500 IDs: more do not fit in a URL servers accept (uvicorn refuses ~80 KB request lines).
RecordIds = Annotated[list[Annotated[int, Field(ge=1, le=2**63 - 1)]] | None,
                      Query(max_length=500, description="records to export, at most 500 (default: all)")]
ListName = Annotated[str, fastapi.Path(pattern=NO_NUL, description="a select list of the organisation")]
MEDIA = {"xlsx": MEDIA_TYPE, "csv": "text/csv"}


@router.get("/me", response_model=Me)
def me(caller: CallerDep) -> dict:
    """The token's user, organisation, licence and permissions."""
    return caller.to_dict()


@router.get("/domains", response_model=list[DomainInfo])
def domains(caller: CallerDep, session: SessionDep) -> list[dict]:
    """Every domain: enabled for the organisation? importable by this user?"""
    enabled = enabled_domains(session, caller.org_id)
    return [{"name": d.name, "title": d.title, "operations": list(d.operations), "description": d.description,
             "enabled": enabled[d.name], "importable": enabled[d.name] and caller.licensed and
             caller.can_import(d.name)} for d in BUILTIN.values()]


@router.get("/domains/{name}", response_model=DomainSpec)
def domain_spec(name: str, caller: CallerDep, session: SessionDep) -> dict:
    """The domain's spec (`Domain.to_dict`): what the server will enforce."""
    return domain_for(session, caller.org_id, name).to_dict()


def _cached_json(request: Request, payload: object) -> Response:
    etag = etag_of(payload)
    headers = {"ETag": etag, "Cache-Control": "private, max-age=0, must-revalidate"}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return Response(json.dumps(payload), media_type="application/json", headers=headers)


@router.get("/domains/{name}/lists", responses={200: {"model": DomainLists},
                                               304: {"description": "unchanged since the ETag sent"}})
def domain_lists(name: str, request: Request, caller: CallerDep, session: SessionDep) -> Response:
    """The organisation's select lists used by the domain `{list: [{value, label}]}`, with an ETag."""
    dom = domain_for(session, caller.org_id, name)
    return _cached_json(request, lists_payload(lists_for(session, caller.org_id, dom.select_lists)))


@router.get("/lists/{list_name}", responses={200: {"model": list[SelectOption]},
                                            304: {"description": "unchanged since the ETag sent"}})
def one_list(list_name: ListName, request: Request, caller: CallerDep, session: SessionDep) -> Response:
    """One select list `[{value, label}]`, with an ETag."""
    options = _options(session, caller.org_id, list_name)
    return _cached_json(request, [{"value": v, "label": lbl} for v, lbl in options])


def _options(session, org_id: int, list_name: str) -> list[tuple[str, str]]:
    options = lists_for(session, org_id, [list_name]).options(list_name)
    if not options:
        raise NotFound(f"no select list named {list_name!r} in your organisation")
    return options


@router.get("/lists/{list_name}/suggest", response_model=Suggestions)
async def suggest(list_name: ListName, request: Request, caller: CallerDep,
                  q: str = Query(..., max_length=400, description="the value as typed"),
                  limit: int = Query(5, ge=1, le=50)) -> dict:
    """Ranked candidates for a typed value, matched on values and labels (score 0-100): the validation
    engine's suggestions, from an index of the list kept in memory until the list changes."""
    # Called at each keystroke: the list's version and the ranking in one worker thread, and the answer
    # checked on the event loop (an async route's), not SessionDep's enter and exit, the route and the
    # answer's check in four: each hop between the loop and a thread costs the loop ~0.3 ms and a
    # wake-up that waits under load. (The token is checked first, by CallerDep, as on every route.)
    def answer() -> dict:
        with request.app.state.sessions() as session:
            matcher = request.app.state.list_index.matcher(session, caller.org_id, list_name)
        return {"query": q, "list": list_name, "candidates": [
            {"value": c.value, "label": c.label, "score": round(c.score, 1)} for c in matcher.rank(q, limit=limit)]}

    return await run_in_threadpool(answer)


@router.get("/courses", response_model=Courses)
def courses(caller: CallerDep, session: SessionDep,
            search: str = Query("", max_length=40, pattern=NO_NUL, description="the start of a Course Code")) -> dict:
    """Courses by Course Code: answers from the second character typed (fewer gives no results)."""
    text = search.strip()
    if len(text) < 2:
        return {"courses": [], "message": "type at least the first two characters of the Course Code"}
    found = session.execute(
        sa.select(Course.code, Course.title).where(Course.org_id == caller.org_id,
                                                   sa.func.upper(Course.code).startswith(text.upper(), autoescape=True))
        .order_by(Course.code).limit(50)).all()
    return {"courses": [{"code": c, "title": t} for c, t in found], "message": ""}


@router.get("/domains/{name}/template", response_class=Response,
            responses=file_responses())
def template(name: str, caller: CallerDep, session: SessionDep,
             format: Literal["xlsx", "csv"] = "xlsx",
             course_code: str | None = Query(None, max_length=40, pattern=NO_NUL)) -> Response:
    """A blank template, or (course_code) one pre-filled with the course's assignments / their clients.

    Templates are part of the licensed Bulk Data Import feature."""
    caller.require_licence()
    dom = domain_for(session, caller.org_id, name)
    rows = _course_rows(session, caller.org_id, dom, course_code) if course_code else None
    lists = lists_for(session, caller.org_id, dom.select_lists)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"{dom.name}.{format}"
        write_template(dom, path, lists=lists, fmt=format, rows=rows)
        content = path.read_bytes()
    suffix = f"_{course_code}" if course_code else ""
    return Response(content, media_type=MEDIA[format],
                    headers={"Content-Disposition": f'attachment; filename="{dom.name}{suffix}.{format}"'})


@router.get("/domains/{name}/export", response_class=Response,
            responses=file_responses())
def export(name: str, caller: CallerDep, session: SessionDep,
           format: Literal["csv", "xlsx"] = "csv",
           record_id: RecordIds = None,
           page: int | None = Query(None, ge=1, le=100_000, description="export this page of the records list "
                                                                        "(GET /records/{name}) instead"),
           page_size: int = Query(50, ge=1, le=500)) -> Response:
    """The domain's export file (Registration & Certification, seed 002): the chosen records
    (`record_id`), one page of the records list (`page`), or (neither) all of them.

    Exporting needs the seed's Data Export permission for the domain; records of other organisations do
    not exist for the caller. Learner columns come from the organisation's learners (by ULN).
    """
    dom = domain_for(session, caller.org_id, name)
    caller.require_export(dom.name)
    if not dom.export_columns:
        raise InvalidRequest(f"{dom.title} records have no export; export exists for "
                             f"{', '.join(d.title for d in BUILTIN.values() if d.export_columns)}")
    if record_id and page is not None:
        raise InvalidRequest("choose records by record_id or by page, not both")
    frame = export_frame(session, caller.org_id, dom, record_ids=record_id or None, page=page, page_size=page_size)
    content = as_csv(frame) if format == "csv" else as_xlsx(frame, sheet="Export")
    return Response(content, media_type=MEDIA[format],
                    headers={"Content-Disposition": f'attachment; filename="{dom.name}_export.{format}"'})


def _course_rows(session, org_id: int, dom: Domain, code: str) -> pl.DataFrame | None:
    """The course's enrolments (client_assignment) or their parents (client), as template rows."""
    course = session.scalars(sa.select(Course).where(Course.org_id == org_id,
                                                     sa.func.upper(Course.code) == code.strip().upper())).first()
    if course is None:
        raise NotFound(f"no course with Course Code {code!r}; search with at least two characters of the code")
    rows = course_rows(RecordStore(session, org_id), dom, course.code)
    if rows is None:
        raise InvalidRequest(f"pre-filled templates exist for {' and '.join(d.title for d in prefilled_domains())}")
    return pl.DataFrame(rows, schema=dict.fromkeys(dom.field_names, pl.String)) if rows else None


@router.get("/usage", response_model=Usage)
def usage(caller: CallerDep, session: SessionDep) -> dict:
    """Rows imported today / this week / this month, and the organisation's limits (null: none)."""
    return usage_for(session, caller.org_id)


@router.get("/usage/daily", response_model=DailyUsage)
def usage_per_day(caller: CallerDep, session: SessionDep,
                  days: Annotated[int, Query(ge=1, le=366, description="how many days, today included")] = 30
                  ) -> dict:
    """Rows imported per UTC day over the last `days` days (today last), with the organisation's limits; for
    users who import and administrators."""
    return daily_usage(session, caller, days)
