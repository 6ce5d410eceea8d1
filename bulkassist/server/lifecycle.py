"""The life cycle of an import (seed 000), up to the commit: create, upload, validate, review, edit, confirm.

Statuses (`bulkassist.status.ImportStatus`; the seed's four are final, the others are internal):

    Created -> Uploading -> Validating -> Validated | ValidationFailed -> Committing -> Committed | CommitFailed | Cancelled

- Validating: the validation job (`run_validation`, see `jobs.py`) is reading and checking the uploaded
  rows; the client polls. Rows it cannot validate send the import back to Uploading, the reason as message.
- Validated: at least one row can be imported (rows with errors are skipped: partial import).
- ValidationFailed: nothing can be imported (no valid row, a 0-row file, a missing required column).
  Editing a row revalidates and can bring it back to Validated.
- Committing: the commit job is writing rows (see `committer.py`).
- Committed: every valid row was written. CommitFailed: rows failed while writing, or the process failed
  half way; `retry` writes only what is not yet written. Cancelled: stopped by the user; rows committed
  before the cancel stay committed and are listed in the results.

`bulkassist.status.TRANSITIONS` lists every allowed move; `transition` here is the one place an
import's status changes, and refuses any other move.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

import polars as pl
import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

import bulkassist.engine.validation as validation
from bulkassist.domains import get_domain
from bulkassist.engine.headers import header_key, match_headers
from bulkassist.engine.mapping import DO_NOT_IMPORT, resolve_mapping
from bulkassist.engine.report import SUMMARY_KEYS, Report, as_text
from bulkassist.errors import BulkAssistError, Conflict, FileTooLarge, InvalidRequest, NotFound
from bulkassist.io import batches
from bulkassist.io.batches import MASKS, RowBatch
from bulkassist.io.csv import csv_size
from bulkassist.io.reading import Table, unique_names
from bulkassist.io.xlsx import MAX_CELL_CHARS
from bulkassist.server import outcomes, preview
from bulkassist.server.auth import Caller
from bulkassist.server.db import rows_changed
from bulkassist.server.domains import Context, behaviour_for
from bulkassist.server.frames import from_blob, store_blobs, to_blob
from bulkassist.server.memory import apply_saved, remembered_for, saved_mapping
from bulkassist.server.models import Import, ImportBatch, ImportReport, User
from bulkassist.server.orgdata import domain_for, lists_for
from bulkassist.server.usage import usage_for
from bulkassist.spec import OPERATION_LABELS, Domain
from bulkassist.status import EDITABLE, TRANSITIONS, UPLOADABLE, ImportStatus, RowAction, RowStatus

log = logging.getLogger("bulkassist.server")


# ------------------------------------------------------------------ access
def get_import(session: Session, caller: Caller, import_id: int, *, for_update: bool = False) -> Import:
    """The caller's organisation's import, or 404 (another organisation's import does not exist for them).

    Reading an import (status, review, rows, results, errors) needs the same permission as importing its
    domain: the review holds every value of the file, SSNs included, and only importers of the domain
    may see them.
    """
    query = sa.select(Import).where(Import.id == import_id, Import.org_id == caller.org_id)
    if for_update and session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    imp = session.scalars(query).first()
    if imp is None:
        raise NotFound(f"import {import_id} not found in your organisation")
    caller.require_import(imp.domain)
    return imp


def transition(session: Session, imp: Import, to: ImportStatus, **values: Any) -> None:
    """Move `imp` to status `to`, setting `values` with it: every status change goes through here.

    A move the life cycle (`TRANSITIONS`) does not allow is refused, and so is one that another
    request or worker made first: the change is one conditional UPDATE (the status must still be
    the one this session read), so two of them racing on an import cannot both move it.
    """
    if to not in TRANSITIONS[imp.status]:
        raise Conflict(f"import {imp.id} is {imp.status}; it cannot become {to}")
    moved = rows_changed(session, sa.update(Import).where(Import.id == imp.id, Import.status == imp.status)
                            .values(status=to, **values))
    if not moved:
        raise Conflict(f"import {imp.id} was changed by another request meanwhile; look at its status")


def locked(import_id: int, dialect: str) -> sa.Select:
    """The query of an import that a worker changes: locked for the transaction on PostgreSQL (SQLite's
    writers are serialised already)."""
    query = sa.select(Import).where(Import.id == import_id)
    return query.with_for_update() if dialect == "postgresql" else query


# The Import columns that keep the report's summary, by summary key (insert / update: rows *to* insert / update).
_SUMMARY_COLUMNS = {key: {"insert": "to_insert", "update": "to_update"}.get(key, key) for key in SUMMARY_KEYS}


def describe(session: Session, imp: Import) -> dict[str, Any]:
    """The JSON form of an import (history row, status, counts, progress)."""
    user = session.get(User, imp.user_id)
    return {
        "id": imp.id,
        "domain": imp.domain,
        "operation": imp.operation,
        "operation_label": OPERATION_LABELS.get(imp.operation, imp.operation),
        "options": imp.options or {},
        "file_name": imp.file_name,
        "status": imp.status,
        "message": imp.message,
        "user": user.name if user else None,
        "created_at": imp.created_at.isoformat(timespec="seconds") + "Z",
        "updated_at": imp.updated_at.isoformat(timespec="seconds") + "Z" if imp.updated_at else None,
        "total": imp.total,
        "valid": imp.valid,
        "errors": imp.errors,
        "skipped": imp.skipped,
        "summary": {key: getattr(imp, column) for key, column in _SUMMARY_COLUMNS.items()},
        "committed": {"inserted": imp.inserted, "updated": imp.updated, "failed": imp.failed},
        "progress": {"done": imp.progress_done, "total": imp.progress_total},
        **outcome(imp),
        "saved_mapping": saved.name if (saved := saved_mapping(session, imp)) is not None else None,
        "unmapped": list(imp.unmapped or []),
    }


def outcome(imp: Import) -> dict[str, Any]:
    """Seed 001's Info tab: `successful_percent`, the share of the rows the import wrote or refused that it
    wrote (inserted + updated over those + errors; skipped rows count in neither; null before the
    commit starts), and `error_count`, rows with a validation error plus rows the commit failed."""
    errors = imp.errors + imp.failed
    written = imp.inserted + imp.updated
    started = imp.committed_at is not None or imp.status in (ImportStatus.COMMITTING, ImportStatus.COMMITTED,
                                                             ImportStatus.COMMIT_FAILED)
    percent = round(100 * written / (written + errors), 1) if started and written + errors else None
    return {"successful_percent": percent, "error_count": errors}


# ------------------------------------------------------------------ create
def create_import(session: Session, caller: Caller, *, domain: str, operation: str, options: dict[str, Any],
                  file_name: str, sheet: str | None, create_key: str | None, file_size: int | None = None
                  ) -> Import:
    """A new import; `file_size`, the size of the file the client read, is held to the domain's file limit
    before a row is uploaded (the rows are counted again as they arrive: `add_batch`)."""
    dom = domain_for(session, caller.org_id, domain)
    caller.require_import(dom.name)
    too_large = None if file_size is None else dom.file_too_large(file_name or "upload", file_size)
    if too_large:
        raise FileTooLarge(too_large, size=file_size, limit=dom.max_file_bytes)
    if create_key:
        again = session.scalars(sa.select(Import).where(Import.org_id == caller.org_id,
                                                        Import.create_key == create_key)).first()
        if again is not None:
            return again
    op, opts = _parse_choices(dom, operation, options)
    behaviour = behaviour_for(dom)
    behaviour.check_can_start(session, caller.org_id)
    imp = Import(org_id=caller.org_id, user_id=caller.user_id, domain=dom.name, operation=op, options=opts,
                 file_name=(file_name or "upload")[:400], sheet=sheet, create_key=create_key)
    session.add(imp)
    session.flush()
    return imp


def set_options(session: Session, caller: Caller, imp: Import, options: dict[str, Any]) -> None:
    """Change the options of an import not yet committed (seed 001's Start Import window: Run Workflow on
    Import, Duplicate Case Action); given options replace the stored ones, the rest stay. A validated
    import is revalidated once, since an option may change what a row does."""
    if imp.status not in UPLOADABLE | {ImportStatus.VALIDATED, ImportStatus.VALIDATION_FAILED}:
        raise Conflict(f"import {imp.id} is {imp.status}; its options can be changed before the commit only")
    dom = domain_for(session, caller.org_id, imp.domain)
    _, opts = _parse_choices(dom, imp.operation, {**(imp.options or {}), **options})
    imp.options = opts
    if imp.status in EDITABLE and has_report(session, imp):
        table, uploaded = stored_cells(session, imp)
        _store(session, imp, table, uploaded=uploaded)


def _parse_choices(dom: Domain, operation: str, options: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The operation and options as the spec reads them (any spelling a front end sends)."""
    try:
        op = dom.parse_operation(operation or "")
        return op, dom.parse_options(op, options)
    except BulkAssistError as exc:
        raise InvalidRequest(str(exc)) from None


# ------------------------------------------------------------------ upload
def add_batch(session: Session, imp: Import, batch: RowBatch) -> dict[str, Any]:
    """Store one batch (checked already: `bulkassist.io.batches`); the same batch id again is stored once."""
    existing = session.scalars(sa.select(ImportBatch).where(
        ImportBatch.import_id == imp.id, ImportBatch.batch_id == batch.batch_id)).first()
    if existing is not None:
        return {"batch_id": batch.batch_id, "rows": existing.row_count, "duplicate": True}
    if imp.status not in UPLOADABLE:
        raise Conflict(f"import {imp.id} is {imp.status}; rows can only be uploaded before validation")
    if imp.headers is not None and imp.headers != batch.headers:
        raise InvalidRequest("every batch of an import must carry the same headers")
    if batch.rows:
        _refuse_overlap(session, imp, batch)
    size = _within_file_limit(session, imp, batch)
    imp.headers = batch.headers
    transition(session, imp, ImportStatus.UPLOADING)
    session.add(ImportBatch(import_id=imp.id, batch_id=batch.batch_id, first_row=batch.first_row,
                            row_count=batch.rows, payload=batches.store(batch), data_bytes=size))
    return {"batch_id": batch.batch_id, "rows": batch.rows, "duplicate": False}


def _within_file_limit(session: Session, imp: Import, batch: RowBatch) -> int:
    """The batch's rows as CSV bytes (the header counted with the first batch), refused (413) when they
    take the import past its domain's file limit: every client is held to it, whatever it declared."""
    dom = get_domain(imp.domain)
    if not dom.max_file_bytes:
        return 0
    first = imp.headers is None
    size = csv_size(batch.headers if first else [], batch.cells)
    before = session.scalar(sa.select(sa.func.coalesce(sa.func.sum(ImportBatch.data_bytes), 0))
                            .where(ImportBatch.import_id == imp.id)) or 0
    too_large = dom.file_too_large(f"{imp.file_name} (as uploaded to import {imp.id})", int(before) + size)
    if too_large:
        raise FileTooLarge(too_large, size=int(before) + size, limit=dom.max_file_bytes)
    return size


def _refuse_overlap(session: Session, imp: Import, batch: RowBatch) -> None:
    """A batch may not hold rows another batch of the import holds: validation would find a hole behind
    them and the import would be stuck."""
    last = batch.first_row + batch.rows - 1
    other = session.scalars(sa.select(ImportBatch).where(
        ImportBatch.import_id == imp.id, ImportBatch.row_count > 0, ImportBatch.first_row <= last,
        ImportBatch.first_row + ImportBatch.row_count > batch.first_row).order_by(ImportBatch.first_row)).first()
    if other is not None:
        raise Conflict(f"rows {batch.first_row}..{last} of batch {batch.batch_id!r} overlap rows "
                       f"{other.first_row}..{other.first_row + other.row_count - 1} of batch {other.batch_id!r}, "
                       f"already uploaded to import {imp.id}; send each row once (first_row is the position of "
                       f"the batch's first row in the file), or drop batch {other.batch_id!r} first")


def drop_batch(session: Session, imp: Import, batch_id: str) -> dict[str, Any]:
    """Remove an uploaded batch before validation (to send its rows again, differently cut)."""
    if imp.status not in UPLOADABLE:
        raise Conflict(f"import {imp.id} is {imp.status}; batches can only be dropped before validation")
    batch = session.scalars(sa.select(ImportBatch).where(ImportBatch.import_id == imp.id,
                                                         ImportBatch.batch_id == batch_id)).first()
    if batch is None:
        raise NotFound(f"batch {batch_id!r} of import {imp.id} not found in your organisation")
    session.delete(batch)
    session.flush()
    if not session.scalars(sa.select(ImportBatch.id).where(ImportBatch.import_id == imp.id)).first():
        imp.headers = None  # nothing uploaded any more: the next batch may carry other headers
    return {"batch_id": batch_id, "first_row": batch.first_row, "rows": batch.row_count}


def _check_uploaded(session: Session, imp: Import) -> None:
    """Rows were uploaded, without a hole between batches (their payloads left unread)."""
    if imp.headers is None:
        raise Conflict(f"import {imp.id} has no uploaded rows; upload the file's rows first")
    expected = 0
    for first_row, row_count in session.execute(
            sa.select(ImportBatch.first_row, ImportBatch.row_count)
            .where(ImportBatch.import_id == imp.id, ImportBatch.row_count > 0).order_by(ImportBatch.first_row)):
        if first_row != expected:
            raise Conflict(f"rows {expected}..{first_row - 1} of import {imp.id} were never uploaded; "
                           f"upload the missing batch, then validate")
        expected += row_count


def _uploaded_table(session: Session, imp: Import) -> Table:
    """Every uploaded batch, in file order, as a `Table` of text: the stored frames, concatenated."""
    _check_uploaded(session, imp)
    # One stored batch in memory at a time (read as the rows are fetched); then each column made contiguous
    # on its own, its chunks freed before the next: the import is held once, plus a column at most.
    stored = session.scalars(sa.select(ImportBatch.payload)
                             .where(ImportBatch.import_id == imp.id, ImportBatch.row_count > 0)
                             .order_by(ImportBatch.first_row).execution_options(yield_per=1))
    names = unique_names(list(imp.headers or []))
    frames = [pl.DataFrame(schema=dict.fromkeys(names, pl.String)), *(batches.load(p) for p in stored)]
    # A mask column one batch lacks is False on its rows.
    columns = pl.concat(frames, how="diagonal_relaxed", rechunk=False).get_columns()
    del frames
    for i in range(len(columns)):
        columns[i] = columns[i].fill_null(False) if columns[i].name.startswith("\x1f") else columns[i].rechunk()
    frame = pl.DataFrame(columns)
    return _unpack(frame, imp)


# ---------------------------------------------------------------- validate
def start_validation(session: Session, imp: Import) -> bool:
    """Check what is quick to check (the status; rows uploaded, without a hole) and move the import to
    Validating; whether this call moved it (and so the caller defers the validation job in this transaction).
    Validating again an import validated already, or being validated, does nothing."""
    if imp.status == ImportStatus.VALIDATING or (
            imp.status in EDITABLE and has_report(session, imp)):
        return False  # the client may resend
    if imp.status not in UPLOADABLE:
        raise Conflict(f"import {imp.id} is {imp.status}; it can no longer be validated")
    _check_uploaded(session, imp)
    transition(session, imp, ImportStatus.VALIDATING, message="validating the uploaded rows")
    return True


def run_validation(sessions: sessionmaker[Session], import_id: int) -> None:
    """The validation job: validate every uploaded row with the organisation's lists, then the domain's
    database checks, and store the report. Rows that cannot be validated (a mapping naming no field ...)
    put the import back to Uploading with the reason as its message. Safe to run again."""
    try:
        with sessions.begin() as session:
            imp = session.scalars(locked(import_id, session.get_bind().dialect.name)).one()
            if imp.status != ImportStatus.VALIDATING:
                return  # validated already (the job ran before), or cancelled
            _store(session, imp, _uploaded_table(session, imp), uploaded=True)
    except Exception as exc:  # the job must leave a status behind, whatever happened
        if not isinstance(exc, BulkAssistError):
            log.exception("validation of import %s failed", import_id)
        with sessions.begin() as session:
            imp = session.scalars(locked(import_id, session.get_bind().dialect.name)).one()
            if imp.status == ImportStatus.VALIDATING:
                reason = str(exc) if isinstance(exc, BulkAssistError) else f"the validation failed: {exc}"
                transition(session, imp, ImportStatus.UPLOADING, message=f"{reason}; then validate again")


def _validated(session: Session, imp: Import, table: Table
               ) -> tuple[Report, pl.Series, pl.DataFrame]:
    """The report with the database's checks and actions, what each row would do (Insert / Update), valid or
    not, and the preview of its updates (`preview.py`)."""
    dom = domain_for(session, imp.org_id, imp.domain)
    lists = lists_for(session, imp.org_id, dom.select_lists)
    apply_saved(session, imp)
    try:
        report = validation.validate(table, dom, imp.operation, lists=lists, options=imp.options,
                                     mapping=imp.mapping, remembered=remembered_for(session, imp.org_id, dom.name))
    except BulkAssistError as exc:
        raise InvalidRequest(str(exc)) from None
    imp.unmapped = report.unmapped
    rows = _reviewed_rows(report)
    ctx = Context(session, imp.org_id, imp.id, dom, imp.operation, imp.options or {}, user_id=imp.user_id)
    behaviour = behaviour_for(dom)
    extra, actions, intents = behaviour.review(ctx, rows)
    # The server's checks name a field; place them on the file column that holds it.
    placed = {field: i for i, name in enumerate(report.frame_columns)
              if (field := report.column_fields.get(name))}
    named = as_text("field")  # ISSUE_SCHEMA's field is a Categorical
    extra = extra.with_columns(
        named.replace_strict(placed, default=None, return_dtype=pl.Int64).alias("col_index"),
        named.replace_strict({f: report.columns[i] for f, i in placed.items()},
                             default=named, return_dtype=pl.String).alias("column"),
    )
    report = report.add_issues(extra, actions)
    # Validation is done: what each Update row would change (Update rows that change nothing: No change).
    changes, actions = preview.preview(ctx, behaviour, _reviewed_rows(report))
    return replace(report, actions=actions), intents, changes


# The stored report's column saying what each row would do (Insert / Update), a row with errors too.
INTENT = "\x1fintent"


def _reviewed_rows(report: Report) -> pl.DataFrame:
    """The normalized values of every row, then its `row` number and `action`. Concatenated, not added
    as columns: with no column matching a field the normalized frame has no columns, and so no height."""
    return pl.concat([report.normalized, report.rows], how="horizontal")


def _store(session: Session, imp: Import, table: Table, *, uploaded: bool) -> tuple[pl.DataFrame, pl.Series]:
    """Validate `table`, store the report (cells, normalized values + actions, issues) and the counts; the
    report's issues and row actions. `uploaded`: the table holds the uploaded rows unchanged, which the
    batches keep already: the report stores no copy of them (`stored_cells` reads them from the batches).

    Each blob is made as soon as what it stores is complete, and the frames go before the blobs are written:
    `table` is let go here once validated (the validation job hands it over and keeps no reference), and the
    report once its rows are put together, so a million-row import's cells are not held beside its blobs."""
    data = b"" if uploaded else to_blob(_pack(table), small=True)
    report, intents, changes = _validated(session, imp, table)
    del table
    reviewed = _reviewed_rows(report).with_columns(intents.alias(INTENT))
    issues, actions, s = report.issues, report.actions, report.summary
    del report, intents
    normalized = to_blob(reviewed, small=True)
    preview.store(session, imp, changes)
    for key, column in _SUMMARY_COLUMNS.items():
        setattr(imp, column, s[key])
    # Rows a domain rule skipped (a duplicate case under "Skip") carry a note; blank rows carry none.
    noted = issues.filter(pl.col("row").is_not_null())["row"].unique()
    rule_skipped = (actions == RowAction.SKIP) & reviewed["row"].is_in(noted.implode())
    del reviewed
    # Before the commit the verdict decides the status; after a failed commit an edit only prepares the retry.
    # Rows that change nothing, like rows a rule skipped, leave the import committable (it writes nothing).
    if ImportStatus.VALIDATED in TRANSITIONS[imp.status]:
        if s["valid"] == 0 and (s["errors"] or not (rule_skipped.any() or s["no_change"])):
            transition(session, imp, ImportStatus.VALIDATION_FAILED, message=(
                "nothing to import: the file has no data rows" if s["total"] == 0 else
                "no row can be imported; fix the errors (edit the rows or the file) and validate again"))
        else:
            transition(session, imp, ImportStatus.VALIDATED, message="")
    store_blobs(session, ImportReport, imp.id, {"data": data, "normalized": normalized, "issues": to_blob(issues)})
    return issues, actions


def _pack(table: Table) -> pl.DataFrame:
    """The table's cells plus its typed-cell masks, as one frame to store."""
    masks = [mask.alias(prefix + name) for kind, prefix in MASKS.items()
             for name, mask in getattr(table, kind).items()]
    return table.frame.with_columns(masks) if masks else table.frame


def _unpack(data: pl.DataFrame, imp: Import) -> Table:
    """The `Table` `_pack` stored."""
    cells = [c for c in data.columns if not c.startswith("\x1f")]
    masks = {kind: {c[len(prefix):]: data[c].alias(c[len(prefix):]) for c in data.columns if c.startswith(prefix)}
             for kind, prefix in MASKS.items()}
    return Table(frame=data.select(cells), headers=list(imp.headers or []), source=imp.file_name, sheet=imp.sheet,
                 date_cells=masks["date_cells"], number_cells=masks["number_cells"])


def has_report(session: Session, imp: Import) -> bool:
    """Whether the import has a validation report (its blobs left unread)."""
    return session.scalar(sa.select(ImportReport.import_id).where(ImportReport.import_id == imp.id)) is not None


def _not_validated(imp: Import) -> Conflict:
    return Conflict(f"import {imp.id} is {imp.status} and has not been validated yet; validate it first")


def stored_report(session: Session, imp: Import) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(normalized + row + action, issues) of a validated import (its cells left unread)."""
    found = session.execute(sa.select(ImportReport.normalized, ImportReport.issues)
                            .where(ImportReport.import_id == imp.id)).first()
    if found is None:
        raise _not_validated(imp)
    return from_blob(found.normalized), from_blob(found.issues)


def stored_cells(session: Session, imp: Import) -> tuple[Table, bool]:
    """The cells of a validated import, edits included, and whether they are the uploaded rows unchanged
    (the report then holds no copy of them, an empty blob: they are read from the batches)."""
    data = session.scalar(sa.select(ImportReport.data).where(ImportReport.import_id == imp.id))
    if data is None:
        raise _not_validated(imp)
    if not data:
        return _uploaded_table(session, imp), True
    return _unpack(from_blob(data), imp), False


# ------------------------------------------------------------------ review
def review(session: Session, imp: Import, issues_limit: int | None = None) -> dict[str, Any]:
    normalized, issues = stored_report(session, imp)
    shown = issues if issues_limit is None else issues.head(issues_limit)
    return {
        "id": imp.id,
        "status": imp.status,
        "summary": describe(session, imp)["summary"],
        "rows": normalized.select("row", "action").to_dicts(),
        "issues": shown.to_dicts(),
        "issues_total": issues.height,
    }


def edit_row(session: Session, caller: Caller, imp: Import, row: int, values: dict[str, Any]) -> dict[str, Any]:
    """Change cells of one spreadsheet row and revalidate at once (the whole file: cross-row rules hold)."""
    if imp.status not in EDITABLE:
        raise Conflict(f"import {imp.id} is {imp.status}; rows can be edited after validation and before "
                       f"the commit")
    if not isinstance(values, dict) or not values:
        raise InvalidRequest("values must map column headers to their new cell values")
    table, _ = stored_cells(session, imp)
    index = row - 2
    if not 0 <= index < table.height:
        raise NotFound(f"row {row} of import {imp.id} (rows are 2..{table.height + 1}) not found in your "
                       f"organisation")
    if _committed_rows(session, imp, [row]):
        raise Conflict(f"row {row} of import {imp.id} is already imported; it cannot be changed here")
    dom = domain_for(session, caller.org_id, imp.domain)
    columns = table.frame.columns
    by_key = {header_key(h): name for h, name in zip(table.headers, columns, strict=True)}
    chosen = resolve_mapping(dom, table.headers, imp.mapping)
    for idx, field_name in match_headers(dom, table.headers, chosen).fields.items():
        for alias in (field_name, *dom.field(field_name).aliases):
            by_key.setdefault(header_key(alias), columns[idx])
    for header, value in values.items():
        name = by_key.get(header_key(str(header)))
        if not name:
            raise InvalidRequest(f"import {imp.id} has no column {header!r}; columns are: "
                                 f"{', '.join(table.headers)}")
        if value is not None and not isinstance(value, (str, int, float)):
            raise InvalidRequest(f"the new value of {header!r} must be text, a number or null")
        if isinstance(value, str) and len(value) > MAX_CELL_CHARS:
            raise InvalidRequest(f"row {row}, column {header!r}: the new value is {len(value):,} characters long; "
                                 f"a cell holds at most {MAX_CELL_CHARS:,} characters (Excel's own limit)")
        cells = table.frame[name].clone().scatter([index], None if value is None else str(value))
        table.frame = table.frame.with_columns(cells)
        for masks in (table.date_cells, table.number_cells):
            if name in masks:  # what the person types now is text, whatever the workbook cell was
                masks[name] = masks[name].clone().scatter([index], False)
    issues, actions = _store(session, imp, table, uploaded=False)
    mine = issues.filter(pl.col("row") == row)
    return {"row": row, "action": actions[index], "issues": mine.to_dicts(),
            "summary": describe(session, imp)["summary"], "status": imp.status}


def _committed_rows(session: Session, imp: Import, rows: list[int]) -> bool:
    found = outcomes.read(session, imp.id, min(rows), max(rows))
    return found.filter((pl.col("status") == RowStatus.SUCCESS) & pl.col("row").is_in(rows)).height > 0


# ----------------------------------------------------------------- confirm
def require_mapped(imp: Import) -> None:
    """An import whose file has columns neither named by their header nor mapped cannot be confirmed: their
    values would be lost without anyone choosing so."""
    if imp.unmapped:
        raise Conflict(f"import {imp.id} has columns that are not mapped: "
                       f"{', '.join(repr(c) for c in imp.unmapped)}; map each to a field or choose Do not import "
                       f"('{DO_NOT_IMPORT}') (PUT /api/v1/imports/{imp.id}/mapping), then confirm")


def confirmation(session: Session, imp: Import) -> dict[str, Any]:
    """Step 5 of the seed: File Name, Rows to Import, Total Rows, Errors Skipped, Import Usage."""
    if not has_report(session, imp):
        raise _not_validated(imp)
    require_mapped(imp)
    usage = usage_for(session, imp.org_id)
    return {
        "File Name": imp.file_name,
        "Rows to Import": imp.valid,
        "Total Rows": imp.total,
        "Errors Skipped": imp.errors,
        "Import Usage": usage,
        "domain": imp.domain,
        "operation": imp.operation,
        "options": imp.options or {},
        "insert": imp.to_insert,
        "update": imp.to_update,
        "no_change": imp.no_change,
    }

