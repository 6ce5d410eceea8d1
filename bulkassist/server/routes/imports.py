"""Import jobs: create, upload batches, validate, review, edit a row, confirm, commit, cancel, retry,
results and errors files, history."""

from __future__ import annotations

import json
from typing import Any, Literal

import sqlalchemy as sa
from fastapi import APIRouter, Header, Path, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from bulkassist.errors import InvalidRequest, PayloadTooLarge
from bulkassist.server import lifecycle, results
from bulkassist.server.committer import cancel as cancel_import
from bulkassist.server.lifecycle import MAX_BATCH_BYTES, describe, get_import
from bulkassist.server.models import Import, User
from bulkassist.server.routes.deps import CallerDep, SessionDep
from bulkassist.status import ImportStatus

router = APIRouter(tags=["imports"])
ImportId = Path(..., ge=1, le=2**31 - 1, description="the Import ID")
KeyHeader = Header(None, alias="Idempotency-Key", max_length=100,
                   description="the same key again returns the first answer instead of acting twice")


class NewImport(BaseModel):
    domain: str = Field(..., max_length=64, description="client, client_assignment, ...")
    operation: str = Field(..., max_length=16, description="add, update or add_update")
    options: dict[str, Any] = Field(default_factory=dict, description="e.g. {\"auto_create_invoices\": true}")
    file_name: str = Field("upload.csv", max_length=400)
    sheet: str | None = Field(None, max_length=200)


class Batch(BaseModel):
    """Rows of the file, in file order; `first_row` is the 0-based position of the first one."""

    batch_id: str = Field(..., min_length=1, max_length=200)
    first_row: int = Field(0, ge=0)
    headers: list[str]
    rows: list[list[str | int | float | None]]
    date_cells: dict[str, list[int]] = Field(default_factory=dict, description="column index -> rows that were date cells")
    number_cells: dict[str, list[int]] = Field(default_factory=dict, description="column index -> rows that were number cells")


class RowEdit(BaseModel):
    values: dict[str, str | int | float | None] = Field(..., description="{header: new value}")


@router.post("/imports", status_code=201)
def create(body: NewImport, caller: CallerDep, session: SessionDep, idempotency_key: str | None = KeyHeader
           ) -> dict:
    """Start an import (seed step 1): domain, operation, options, file name."""
    imp = lifecycle.create_import(session, caller, domain=body.domain, operation=body.operation,
                                  options=body.options, file_name=body.file_name, sheet=body.sheet,
                                  create_key=idempotency_key)
    return describe(session, imp)


@router.get("/imports")
def history(caller: CallerDep, session: SessionDep,
            domain: str | None = Query(None, max_length=64), status: str | None = Query(None, max_length=32),
            user: str | None = Query(None, max_length=200), page: int = Query(1, ge=1, le=100_000),
            page_size: int = Query(50, ge=1, le=500)) -> dict:
    """Import History: Import ID, Domain, Status, Operation, File Name, Total, Valid, Errors, User, Date."""
    query = sa.select(Import).where(Import.org_id == caller.org_id)
    if domain:
        query = query.where(Import.domain == domain)
    if status:
        query = query.where(Import.status == status)
    if user:
        query = query.join(User, User.id == Import.user_id).where(User.name == user)
    total = session.scalar(sa.select(sa.func.count()).select_from(query.subquery()))
    items = session.scalars(query.order_by(Import.id.desc()).offset((page - 1) * page_size).limit(page_size)).all()
    return {"items": [describe(session, i) for i in items], "total": total, "page": page, "page_size": page_size}


@router.get("/imports/{import_id}")
def status(caller: CallerDep, session: SessionDep, import_id: int = ImportId) -> dict:
    """Status, counts and commit progress."""
    return describe(session, get_import(session, caller, import_id))


@router.post("/imports/{import_id}/batches",
             openapi_extra={"requestBody": {"required": True, "content": {"application/json": {
                 "schema": Batch.model_json_schema(ref_template="#/components/schemas/{model}")}}}},
             responses={413: {"description": "the batch is over 10 MB"}})
async def upload(request: Request, caller: CallerDep, import_id: int = ImportId) -> dict:
    """Upload a batch of rows (at most 10 MB); a batch id sent twice is stored once."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BATCH_BYTES:
        raise PayloadTooLarge(f"batch of {int(declared) / 1e6:.1f} MB is over the 10 MB limit; split the rows "
                              f"into smaller batches")
    raw = await request.body()
    if len(raw) > MAX_BATCH_BYTES:
        raise PayloadTooLarge("the batch is over the 10 MB limit; send smaller batches")
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidRequest(f"the batch is not valid JSON ({exc})") from None
    if not isinstance(body, dict):
        raise InvalidRequest("the batch must be a JSON object with batch_id, first_row, headers and rows")

    def store() -> dict:
        with request.app.state.sessions.begin() as session:
            imp = get_import(session, caller, import_id, for_update=True)
            caller.require_import(imp.domain)
            return lifecycle.add_batch(session, imp, body, raw)

    return await run_in_threadpool(store)


@router.post("/imports/{import_id}/validate")
def validate(caller: CallerDep, session: SessionDep, import_id: int = ImportId) -> dict:
    """Validate every uploaded row on the server (authoritative); then review."""
    imp = get_import(session, caller, import_id, for_update=True)
    caller.require_import(imp.domain)
    lifecycle.validate_import(session, caller, imp)
    return describe(session, imp)


@router.get("/imports/{import_id}/review")
def review(caller: CallerDep, session: SessionDep, import_id: int = ImportId,
           issues_limit: int | None = Query(None, ge=0, le=10_000_000)) -> dict:
    """Total / Valid / Error / Skipped, Insert or Update per row, and every issue."""
    return lifecycle.review(session, get_import(session, caller, import_id), issues_limit)


@router.patch("/imports/{import_id}/rows/{row}")
def edit_row(body: RowEdit, caller: CallerDep, session: SessionDep, import_id: int = ImportId,
             row: int = Path(..., ge=2, le=10**9)) -> dict:
    """Change cells of a spreadsheet row; the row is revalidated at once."""
    imp = get_import(session, caller, import_id, for_update=True)
    caller.require_import(imp.domain)
    return lifecycle.edit_row(session, caller, imp, row, body.values)


@router.get("/imports/{import_id}/confirmation")
def confirmation(caller: CallerDep, session: SessionDep, import_id: int = ImportId) -> dict:
    """File Name, Rows to Import, Total Rows, Errors Skipped, Import Usage (today / week / month + limits)."""
    return lifecycle.confirmation(session, get_import(session, caller, import_id))


def _start(request: Request, caller, import_id: int, key: str | None, retry: bool) -> dict:
    committer = request.app.state.committer
    with request.app.state.sessions.begin() as session:
        imp = get_import(session, caller, import_id, for_update=True)
        committer.start_commit(session, caller, imp, key, retry=retry)
    with request.app.state.sessions() as session:
        imp = get_import(session, caller, import_id)
        if imp.status == ImportStatus.COMMITTING and imp.worker == committer.worker:
            committer.launch(imp.id)
        return describe(session, imp)


@router.post("/imports/{import_id}/commit", status_code=202,
             responses={429: {"description": "the commit would exceed a usage limit; nothing is written"}})
def commit(request: Request, caller: CallerDep, import_id: int = ImportId, idempotency_key: str | None = KeyHeader
           ) -> dict:
    """Confirm & Import: write the valid rows in the background; poll the import for progress."""
    return _start(request, caller, import_id, idempotency_key, retry=False)


@router.post("/imports/{import_id}/retry", status_code=202)
def retry(request: Request, caller: CallerDep, import_id: int = ImportId, idempotency_key: str | None = KeyHeader
          ) -> dict:
    """Write again only the rows that failed; rows already imported are skipped, never duplicated."""
    return _start(request, caller, import_id, idempotency_key, retry=True)


@router.post("/imports/{import_id}/cancel")
def cancel(caller: CallerDep, session: SessionDep, import_id: int = ImportId) -> dict:
    """Cancel; during a commit the worker stops after its current chunk (committed rows stay)."""
    imp = get_import(session, caller, import_id, for_update=True)
    caller.require_import(imp.domain)
    cancel_import(session, imp)
    session.flush()
    session.refresh(imp)
    return describe(session, imp)


@router.get("/imports/{import_id}/results",
            responses={200: {"content": {"text/csv": {}, results.XLSX: {}, "application/json": {}}}})
def results_file(caller: CallerDep, session: SessionDep, import_id: int = ImportId,
                 format: Literal["json", "csv", "xlsx"] = "csv") -> Response:
    """Row Number, Status, Action, Created/Updated ID, Error Messages (+ Invoice ID when invoiced)."""
    imp = get_import(session, caller, import_id)
    frame = results.results_frame(session, imp)
    return _file(frame, format, f"import_{imp.id}_results")


@router.get("/imports/{import_id}/errors", responses={200: {"content": {"text/csv": {}}}})
def errors_file(caller: CallerDep, session: SessionDep, import_id: int = ImportId,
                format: Literal["json", "csv", "xlsx"] = "csv") -> Response:
    """Every validation error and commit failure: row, record, column, value, message, suggestion."""
    imp = get_import(session, caller, import_id)
    return _file(results.errors_frame(session, imp), format, f"import_{imp.id}_errors")


def _file(frame, fmt: str, stem: str) -> Response:
    if fmt == "json":
        body = {"columns": frame.columns, "rows": [list(r) for r in frame.iter_rows()]}
        return Response(json.dumps(body, default=str), media_type="application/json")
    content = results.as_csv(frame) if fmt == "csv" else results.as_xlsx(frame)
    media = "text/csv; charset=utf-8" if fmt == "csv" else results.XLSX
    return Response(content, media_type=media, headers={"Content-Disposition": f'attachment; filename="{stem}.{fmt}"'})
