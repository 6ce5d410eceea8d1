"""Import jobs: create, upload batches, validate, review, edit a row, confirm, commit, cancel, retry,
results and errors files, history."""

from __future__ import annotations

import json
from typing import Literal

from fastapi import APIRouter, Header, Path, Query, Request, Response
from fastapi.concurrency import run_in_threadpool

from bulkassist.domains import get_domain
from bulkassist.errors import InvalidRequest
from bulkassist.io import batches
from bulkassist.io.xlsx import MEDIA_TYPE
from bulkassist.server import jobs, lifecycle, preview, results, undo
from bulkassist.server.bodies import read_body
from bulkassist.server.committer import cancel as cancel_import
from bulkassist.server.committer import start_commit
from bulkassist.server.history import import_history
from bulkassist.server.lifecycle import describe, get_import
from bulkassist.server.routes.deps import CallerDep, SessionDep
from bulkassist.server.schemas import (
    NO_NUL,
    Batch,
    BatchDropped,
    BatchStored,
    Changes,
    Confirmation,
    ErrorAnswer,
    History,
    ImportInfo,
    ImportOptions,
    NewImport,
    Review,
    RowEdit,
    RowEdited,
    UndoPlan,
    UndoRequest,
    error_responses,
    file_responses,
)
from bulkassist.status import ImportStatus

router = APIRouter(tags=["imports"], responses=error_responses(400, 401, 403, 404, 409, 413, 422, 423, 429))
ImportId = Path(..., ge=1, le=2**31 - 1, description="the Import ID")
KeyHeader = Header(None, alias="Idempotency-Key", max_length=100,
                   description="the same key again returns the first answer instead of acting twice")


@router.post("/imports", status_code=201, response_model=ImportInfo)
def create(body: NewImport, caller: CallerDep, session: SessionDep, idempotency_key: str | None = KeyHeader
           ) -> dict:
    """Start an import (seed step 1): domain, operation, options, file name."""
    imp = lifecycle.create_import(session, caller, domain=body.domain, operation=body.operation,
                                  options=body.options, file_name=body.file_name, sheet=body.sheet,
                                  create_key=idempotency_key, file_size=body.file_size)
    return describe(session, imp)


@router.get("/imports", response_model=History)
def history(caller: CallerDep, session: SessionDep,
            domain: str | None = Query(None, max_length=64, pattern=NO_NUL),
            status: str | None = Query(None, max_length=32, pattern=NO_NUL),
            user: str | None = Query(None, max_length=200, pattern=NO_NUL), page: int = Query(1, ge=1, le=100_000),
            page_size: int = Query(50, ge=1, le=500)) -> dict:
    """Import History: Import ID, Domain, Status, Operation, File Name, Total, Valid, Errors, User, Date."""
    return import_history(session, caller, domain=domain, status=status, user=user, page=page,
                          page_size=page_size)


@router.get("/imports/{import_id}", response_model=ImportInfo)
def status(caller: CallerDep, session: SessionDep, import_id: int = ImportId) -> dict:
    """Status, counts, commit progress, and the undo's progress once one started."""
    return undo.described(session, get_import(session, caller, import_id))


@router.patch("/imports/{import_id}", response_model=ImportInfo)
def set_options(body: ImportOptions, caller: CallerDep, session: SessionDep, import_id: int = ImportId) -> dict:
    """Change the options before the commit (Start Import window: Run Workflow on Import, Duplicate Case
    Action); a validated import is revalidated once."""
    imp = get_import(session, caller, import_id, for_update=True)
    lifecycle.set_options(session, caller, imp, body.options)
    session.flush()
    return undo.described(session, imp)


@router.post("/imports/{import_id}/batches", response_model=BatchStored,
             openapi_extra={"requestBody": {"required": True, "content": {
                 "application/json": {"schema": Batch.model_json_schema(ref_template="#/components/schemas/{model}")},
                 batches.MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}}}}},
             responses={413: {"model": ErrorAnswer, "description": "the batch is over its domain's batch_bytes (10 MB)"}})
async def upload(request: Request, caller: CallerDep, import_id: int = ImportId) -> dict:
    """Upload a batch of rows (at most the domain's `batch_bytes`, 10 MB); a batch id sent twice is stored
    once. The body is an Arrow IPC stream (Content-Type `application/vnd.apache.arrow.stream`: one text
    column per header, named as `unique_names(headers)`, and the batch's batch_id, first_row and headers in
    the schema metadata `bulkassist.batch`; the Python client sends this), or a JSON `Batch`."""
    sessions = request.app.state.sessions

    def batch_bytes() -> int:
        with sessions() as session:
            return get_domain(get_import(session, caller, import_id).domain).batch_bytes

    raw = await read_body(request, await run_in_threadpool(batch_bytes))
    arrow = request.headers.get("content-type", "").split(";")[0].strip().lower() == batches.MEDIA_TYPE

    def store() -> dict:
        # Reading 10 MB of rows is CPU work: here, in a worker thread, never on the event loop.
        try:
            batch = batches.decode(raw) if arrow else Batch.from_json(raw).row_batch()
        except ValueError as exc:
            raise InvalidRequest(str(exc)) from None
        with sessions.begin() as session:
            return lifecycle.add_batch(session, get_import(session, caller, import_id, for_update=True), batch)

    return await run_in_threadpool(store)


@router.delete("/imports/{import_id}/batches/{batch_id}", response_model=BatchDropped)
def drop_batch(caller: CallerDep, session: SessionDep, import_id: int = ImportId,
               batch_id: str = Path(..., min_length=1, max_length=200)) -> dict:
    """Drop an uploaded batch before validation, e.g. one sent with the wrong `first_row`."""
    imp = get_import(session, caller, import_id, for_update=True)
    caller.require_import(imp.domain)
    return lifecycle.drop_batch(session, imp, batch_id)


@router.post("/imports/{import_id}/validate", status_code=202, response_model=ImportInfo,
             responses={200: {"model": ImportInfo, "description": "validated already: the import as it is"}})
def validate(request: Request, response: Response, caller: CallerDep, import_id: int = ImportId) -> dict:
    """Validate every uploaded row on the server (authoritative), as a job: the import is Validating until
    it ends Validated or ValidationFailed (poll it; then review). Rows that cannot be validated send it back
    to Uploading with the reason as its message. Asked again, it does nothing (200 once validated)."""
    with request.app.state.sessions.begin() as session:
        imp = get_import(session, caller, import_id, for_update=True)
        if lifecycle.start_validation(session, imp):
            request.app.state.jobs.defer(session, jobs.validate_job(imp))
    with request.app.state.sessions() as session:
        imp = get_import(session, caller, import_id)
        if imp.status != ImportStatus.VALIDATING:
            response.status_code = 200
        return describe(session, imp)


@router.get("/imports/{import_id}/review", response_model=Review)
def review(caller: CallerDep, session: SessionDep, import_id: int = ImportId,
           issues_limit: int | None = Query(None, ge=0, le=10_000_000)) -> dict:
    """Total / Valid / Error / Skipped, Insert or Update per row, and every issue."""
    return lifecycle.review(session, get_import(session, caller, import_id), issues_limit)


@router.get("/imports/{import_id}/changes", response_model=Changes)
def changes(caller: CallerDep, session: SessionDep, import_id: int = ImportId,
            field: str | None = Query(None, max_length=400, pattern=NO_NUL, description="only this field"),
            change: Literal["changed", "kept"] | None = Query(None, description="only changed or only kept"),
            page: int = Query(1, ge=1, le=10**7), page_size: int = Query(100, ge=1, le=5000)) -> dict:
    """Preview of changes: per Update row and field, the stored value (old) and the file's value (new);
    blank cells keep the stored value (change: kept). Rows whose values all equal the stored record are
    No change rows of the review."""
    imp = get_import(session, caller, import_id)
    return preview.page(session, imp, page=page, page_size=page_size, field=field, change=change)


@router.patch("/imports/{import_id}/rows/{row}", response_model=RowEdited)
def edit_row(body: RowEdit, caller: CallerDep, session: SessionDep, import_id: int = ImportId,
             row: int = Path(..., ge=2, le=10**9)) -> dict:
    """Change cells of a spreadsheet row; the row is revalidated at once."""
    imp = get_import(session, caller, import_id, for_update=True)
    return lifecycle.edit_row(session, caller, imp, row, body.values)


@router.get("/imports/{import_id}/confirmation", response_model=Confirmation)
def confirmation(caller: CallerDep, session: SessionDep, import_id: int = ImportId) -> dict:
    """File Name, Rows to Import, Total Rows, Errors Skipped, Import Usage (today / week / month + limits)."""
    return lifecycle.confirmation(session, get_import(session, caller, import_id))


def _start(request: Request, caller, import_id: int, key: str | None, retry: bool) -> dict:
    """Move the import to Committing and queue its commit job, in one transaction."""
    with request.app.state.sessions.begin() as session:
        imp = get_import(session, caller, import_id, for_update=True)
        if start_commit(session, imp, key, retry=retry):
            request.app.state.jobs.defer(session, jobs.commit_job(imp))
    with request.app.state.sessions() as session:
        return describe(session, get_import(session, caller, import_id))


@router.post("/imports/{import_id}/commit", status_code=202, response_model=ImportInfo,
             responses={429: {"model": ErrorAnswer,
                               "description": "the commit would exceed a usage limit; nothing is written"}})
def commit(request: Request, caller: CallerDep, import_id: int = ImportId, idempotency_key: str | None = KeyHeader
           ) -> dict:
    """Confirm & Import: write the valid rows in the background; poll the import for progress."""
    return _start(request, caller, import_id, idempotency_key, retry=False)


@router.post("/imports/{import_id}/retry", status_code=202, response_model=ImportInfo)
def retry(request: Request, caller: CallerDep, import_id: int = ImportId, idempotency_key: str | None = KeyHeader
          ) -> dict:
    """Write again only the rows that failed; rows already imported are skipped, never duplicated."""
    return _start(request, caller, import_id, idempotency_key, retry=True)


@router.post("/imports/{import_id}/cancel", response_model=ImportInfo)
def cancel(caller: CallerDep, session: SessionDep, import_id: int = ImportId) -> dict:
    """Cancel; during a commit the worker stops after its current chunk (committed rows stay)."""
    imp = get_import(session, caller, import_id, for_update=True)
    cancel_import(session, imp)
    session.flush()
    session.refresh(imp)
    return describe(session, imp)


@router.get("/imports/{import_id}/undo", response_model=UndoPlan)
def undo_plan(caller: CallerDep, session: SessionDep, import_id: int = ImportId) -> dict:
    """What undoing the import would do now: records to remove and to restore, conflicts, invoices."""
    return undo.plan(session, get_import(session, caller, import_id))


@router.post("/imports/{import_id}/undo", status_code=202, response_model=ImportInfo)
def undo_import(request: Request, caller: CallerDep, body: UndoRequest | None = None, import_id: int = ImportId
                ) -> dict:
    """Undo the import in the background (within the organisation's retention period): inserted records
    removed, updated fields restored; records changed since are conflicts left as they are unless
    `force`. Poll the import for progress; the same request again while it runs changes nothing."""
    force = body.force if body else False
    with request.app.state.sessions.begin() as session:
        imp = get_import(session, caller, import_id, for_update=True)
        if not (imp.status == ImportStatus.REVERTING and imp.undo_force == force):
            undo.start_undo(session, imp, force=force)
            request.app.state.jobs.defer(session, jobs.undo_job(imp))
    with request.app.state.sessions() as session:
        return undo.described(session, get_import(session, caller, import_id))


@router.get("/imports/{import_id}/undo/results",
            responses=file_responses(rows_as_json=True))
def undo_results_file(caller: CallerDep, session: SessionDep, import_id: int = ImportId,
                      format: Literal["json", "csv", "xlsx"] = "csv") -> Response:
    """The undo's results: Record ID, Row Number, Action, Outcome (Removed / Restored / Conflict / Gone),
    Invoice ID, Message."""
    imp = get_import(session, caller, import_id)
    return _file(undo.undo_results(session, imp), format, f"import_{imp.id}_undo")


@router.get("/imports/{import_id}/results",
            responses=file_responses(rows_as_json=True))
def results_file(caller: CallerDep, session: SessionDep, import_id: int = ImportId,
                 format: Literal["json", "csv", "xlsx"] = "csv") -> Response:
    """Row Number, Status, Action, Created/Updated ID, Error Messages (+ Invoice ID when invoiced)."""
    imp = get_import(session, caller, import_id)
    frame = results.results_frame(session, imp)
    return _file(frame, format, f"import_{imp.id}_results")


@router.get("/imports/{import_id}/errors",
            responses=file_responses(rows_as_json=True))
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
    media = "text/csv; charset=utf-8" if fmt == "csv" else MEDIA_TYPE
    return Response(content, media_type=media, headers={"Content-Disposition": f'attachment; filename="{stem}.{fmt}"'})
