"""Importing through the server from Excel, step by step as seed 000 describes it.

- **Submit**: validate, upload and have the server review the records, then show the
  seed's *Confirm Import* step on the `BulkAssist Confirm` sheet (File Name, Rows to
  Import, Total Rows, Errors Skipped, Import Usage today / this week / this month).
  Nothing is imported yet.
- **Confirm & Import**: commit the import on the Confirm sheet; Status, Action,
  Created/Updated ID and Error Messages are written next to each row, new IDs into the
  ID column. Refused when the records changed since Submit (the results would land on
  the wrong rows): Submit again.
- **Cancel**: cancel the import waiting on the Confirm sheet (or stop its commit).
- **Retry failed**: commit again only the rows of a CommitFailed import that failed.
- **Import History**: the `BulkAssist History` sheet, with the seed's columns.
- **Download results**: the results of the History row the selection is on, into a
  new `BulkAssist Results <ID>` sheet.

A remote engine's alert cannot wait for an answer, so the confirmation is a sheet and
a second button, the same on every engine. As everywhere in the add-in, everything
that can fail (reading, the server) happens before the first write.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

import polars as pl

from bulkassist.client import HISTORY_COLUMNS, Import
from bulkassist.errors import BulkAssistError, Conflict, SchemaError
from bulkassist.excel.commands import (
    TITLE,
    Workbook,
    _upload_frame,
    _write_created_ids,
    _write_results,
    command,
)
from bulkassist.excel.config import load_config
from bulkassist.excel.datasheet import DataSheet
from bulkassist.excel.grid import read_block, text, write_block, write_frame
from bulkassist.excel.settings import CONFIRM_SHEET, HISTORY_SHEET, RESULTS_PREFIX
from bulkassist.spec import OPERATION_LABELS
from bulkassist.status import ImportStatus

CONFIRM_TITLE = "Confirm Import"
HISTORY_PAGE = 200  # imports listed on the History sheet, newest first
_PERIODS = (("today", "Today"), ("week", "This Week"), ("month", "This Month"))


# ------------------------------------------------------------ the Confirm sheet
@dataclass
class Pending:
    """What the Confirm sheet says about the import Submit prepared."""

    import_id: int
    status: str
    data_sheet: str
    header_row: int
    fingerprint: str
    rows: list[list[Any]]  # the block as read, to rewrite it with a new status


def _pairs(sheet: Any) -> list[list[Any]]:
    last = sheet.used_range.last_cell
    return [[None if v == "" else v for v in row[:2]] for row in read_block(sheet, (1, 1), (last.row, max(2, last.column)))]


def pending(book: Any) -> Pending:
    """The import on the Confirm sheet, or a message saying to press Submit first."""
    names = [s.name for s in book.sheets]
    if CONFIRM_SHEET not in names:
        raise Conflict("there is no import to confirm in this workbook: press Submit first; it prepares the "
                       f"import and shows it on the {CONFIRM_SHEET!r} sheet.")
    rows = _pairs(book.sheets[CONFIRM_SHEET])
    values = {text(k).strip(): v for k, v in rows if k not in (None, "")}
    try:
        import_id = int(float(values["Import ID"]))
        header_row = int(float(values.get("Header row") or 1))
    except (KeyError, TypeError, ValueError):
        raise SchemaError(f"the {CONFIRM_SHEET!r} sheet has no Import ID (it was edited); press Submit again.") from None
    return Pending(import_id=import_id, status=text(values.get("Status")), data_sheet=text(values.get("Data sheet")),
                   header_row=header_row, fingerprint=text(values.get("Records")), rows=rows)


def fingerprint(data: DataSheet) -> str:
    """A digest of the records as read (headers and raw cells), to tell whether they changed since Submit."""
    width = len(data.headers)
    raw = json.dumps([data.headers, [list(r[:width]) for r in data.rows]], default=str, ensure_ascii=False)
    return "sha256:" + hashlib.sha256(raw.encode("utf-8")).hexdigest()


def _usage_text(used: int, limit: int | None) -> str:
    return f"{used} of {limit} rows" if limit is not None else f"{used} rows (no limit)"


def _write_confirm(book: Any, block: list[list[Any]]) -> None:
    """The Confirm sheet's block (created when missing), padded over what it held before."""
    names = [s.name for s in book.sheets]
    if CONFIRM_SHEET in names:
        sheet = book.sheets[CONFIRM_SHEET]
        old = sheet.used_range.last_cell.row
    else:
        sheet = book.sheets.add(CONFIRM_SHEET, after=book.sheets[-1])
        old = 0
    block = [list(r) + [None] * (2 - len(r)) for r in block]
    block += [[None, None]] * max(0, old - len(block))
    write_block(sheet, 1, 1, block)
    sheet.activate()


def _with_status(rows: list[list[Any]], status: str, note: str) -> list[list[Any]]:
    out = []
    for key, value in rows:
        k = text(key).strip()
        if k == "Status":
            value = status
        elif k == "Next":
            value = note
        out.append([key, value])
    return out


# -------------------------------------------------------------------- helpers
def _data_sheet(book: Any, name: str, header_row: int) -> DataSheet:
    if name not in [s.name for s in book.sheets]:
        raise SchemaError(f"sheet {name!r}, whose records were submitted, is gone; press Submit again.")
    return DataSheet.read(book.sheets[name], header_row)


def _progress(wb: Workbook) -> Any:
    def progress(done: int, total: int) -> None:
        wb.status(f"BulkAssist: {done} of {total} rows")

    return progress


def _finish_import(wb: Workbook, data: DataSheet, imp: Import, info: dict[str, Any], verb: str) -> pl.DataFrame:
    """Everything from the server is in hand: results next to the rows, new IDs, the summary, a message."""
    results = imp.results()
    domain = wb.domain(data)
    wb.load_mapping(data, domain)
    try:
        match = wb.match(data, domain)
    except BulkAssistError:  # the stored mapping was edited since Submit: the ID column by its header
        match = None
    _write_results(data, results)
    ids = _write_created_ids(data, domain, results, match)
    committed, total = info["committed"], info["summary"]["total"]
    failed = committed["failed"] + info["summary"]["errors"]
    wb.store.ensure(domain, wb.settings, data.sheet.name)
    summary = [("Import ID", imp.id), ("Import status", info["status"]), ("Total", total),
               ("Inserted", committed["inserted"]), ("Updated", committed["updated"]), ("Failed", failed),
               ("New IDs written", ids)]
    retry = " Press Retry failed once the cause is fixed." if info["status"] == ImportStatus.COMMIT_FAILED else ""
    wb.finish(summary, f"Import {imp.id} {verb}: {info['status']}. Records Inserted {committed['inserted']}, "
                       f"Updated {committed['updated']}, Failed {failed}. Results are next to each row.{retry}",
              mode="info" if failed == 0 else "critical")
    return results


# ------------------------------------------------------------------- commands
@command
def submit(book: Any) -> dict[str, Any] | None:
    """Validate, upload and review on the server, then show the Confirm Import step (nothing is imported yet)."""
    wb = Workbook(book)
    data = wb.data_sheet()
    domain = wb.domain(data)
    operation = wb.settings.operation_for(domain)
    options = wb.settings.options_for(domain, operation)
    client = load_config().client()
    table = data.table(book.name)
    wb.load_mapping(data, domain, client)
    report = wb.validate(data, domain, client.lists(domain.name), table)
    upload = _upload_frame(report, table.date_cells)
    earlier = None
    if CONFIRM_SHEET in [s.name for s in book.sheets]:
        try:
            earlier = pending(book)
        except BulkAssistError:
            earlier = None
    imp = client.start_import(upload, domain.name, operation, options=options, name=book.name,
                              progress=_progress(wb), mapping=wb.columns or None)
    replaced = ""
    if earlier is not None and earlier.status == ImportStatus.VALIDATED and earlier.import_id != imp.id:
        # The import waiting for confirmation is replaced by this one: it must not stay open on the server.
        try:
            client.get_import(earlier.import_id).cancel()
            replaced = f" Import {earlier.import_id}, which was waiting for confirmation, is cancelled."
        except Conflict:
            pass  # confirmed or cancelled meanwhile (another workbook, the dashboard)
        except BulkAssistError as exc:  # another server or user's import: say so, never hide it
            replaced = f" Import {earlier.import_id}, which was waiting for confirmation, could not be cancelled: {exc}"
    s = imp.summary
    if s["valid"] == 0 and s.get("no_change"):
        wb.status(False)
        imp.cancel()  # nothing to write: it must not wait for a confirmation that would import nothing
        book.app.alert(f"Import {imp.id}: nothing to import — {s['no_change']} of {s['total']} rows change no stored "
                       f"value (No change)" + (f" and {s['errors']} have errors" if s["errors"] else "")
                       + f". The import is cancelled.{replaced}", title=TITLE, buttons="ok", mode="info")
        return imp.info
    if s["valid"] == 0:
        wb.status(False)
        book.app.alert(f"Import {imp.id}: nothing can be imported — {s['errors']} of {s['total']} rows have "
                       f"errors. Press Validate to see them in the sheet, fix them and Submit again.{replaced}",
                       title=TITLE, buttons="ok", mode="critical")
        return imp.info
    confirm = imp.confirm()
    usage, limits = confirm["Import Usage"], confirm["Import Usage"]["limits"]
    note = (f"Press Confirm & Import to import {s['valid']} rows"
            + (f" (the {s['errors']} with errors are skipped)" if s["errors"] else "") + ", or Cancel.")
    block: list[list[Any]] = [
        [CONFIRM_TITLE, None],
        ["File Name", confirm["File Name"]],
        ["Rows to Import", confirm["Rows to Import"]],
        ["Total Rows", confirm["Total Rows"]],
        ["Errors Skipped", confirm["Errors Skipped"]],
        ["Import Usage", None],
        *[[f"  {label}", _usage_text(usage[key], limits[key])] for key, label in _PERIODS],
        [None, None],
        ["Import ID", imp.id],
        ["Domain", domain.title],
        ["Operation", OPERATION_LABELS[operation]],
        ["Column mapping", f"server's saved mapping {wb.saved_name!r}" if wb.saved_name else
         f"{len(wb.columns)} columns, by Map columns" if wb.columns else "by the headers"],
        ["Insert", confirm["insert"]],
        ["Update", confirm["update"]],
        ["Status", imp.info["status"]],
        ["Next", note],
        [None, None],
        ["Data sheet", data.sheet.name],
        ["Header row", data.header_row],
        ["Records", fingerprint(data)],
    ]
    _write_confirm(book, block)
    wb.status(False)
    book.app.alert(f"Import {imp.id} is ready: {s['valid']} of {s['total']} rows to import, "
                   f"{s['errors']} errors skipped. Review the {CONFIRM_SHEET!r} sheet, then press "
                   f"Confirm & Import (or Cancel).{replaced}", title=TITLE, buttons="ok", mode="info")
    return confirm


@command
def confirm_import(book: Any) -> pl.DataFrame | None:
    """Confirm & Import: commit the import on the Confirm sheet and write the results next to each row."""
    wb = Workbook(book)
    wait = pending(book)
    if wait.status != ImportStatus.VALIDATED:
        raise Conflict(f"import {wait.import_id} is {wait.status or 'not waiting'}; only an import Submit prepared "
                       f"can be confirmed. Press Submit to prepare a new one.")
    data = _data_sheet(book, wait.data_sheet, wait.header_row)
    if fingerprint(data) != wait.fingerprint:
        raise Conflict(f"the records on sheet {wait.data_sheet!r} changed since Submit, so the results would not "
                       f"match the rows; press Submit again to review them (import {wait.import_id} is not "
                       f"imported).")
    imp = load_config().client().get_import(wait.import_id)
    info = imp.commit(progress=_progress(wb))
    rows = _with_status(wait.rows, info["status"], "Press Retry failed once the cause is fixed."
                        if info["status"] == ImportStatus.COMMIT_FAILED else "Done: the results are next to each row.")
    _write_confirm(book, rows)
    data.sheet.activate()  # the results are next to the rows
    return _finish_import(wb, data, imp, info, "imported")


@command
def cancel_import(book: Any) -> dict[str, Any]:
    """Cancel the import on the Confirm sheet (during a commit: stop after the current chunk)."""
    wait = pending(book)
    info = load_config().client().get_import(wait.import_id).cancel()
    stopping = info["status"] == ImportStatus.COMMITTING
    note = ("Cancel requested: the commit stops after the chunk it is writing." if stopping else
            "Cancelled: nothing more is imported.")
    _write_confirm(book, _with_status(wait.rows, info["status"], note))
    book.app.alert(f"Import {wait.import_id}: {info['status']}. {note} Rows imported before the cancel stay "
                   f"imported.", title=TITLE, buttons="ok", mode="info")
    return info


@command
def retry_failed(book: Any) -> pl.DataFrame | None:
    """Commit again only the rows of the last import that failed (it ended CommitFailed)."""
    wb = Workbook(book)
    wait = pending(book)
    data = _data_sheet(book, wait.data_sheet, wait.header_row)
    imp = load_config().client().get_import(wait.import_id)
    if len(data.rows) != imp.info["summary"]["total"]:
        raise Conflict(f"sheet {wait.data_sheet!r} now has {len(data.rows)} records, import {imp.id} had "
                       f"{imp.info['summary']['total']}: the results would not match the rows. Submit the sheet "
                       f"as a new import instead.")
    info = imp.retry(progress=_progress(wb))
    _write_confirm(book, _with_status(wait.rows, info["status"], "Press Retry failed once the cause is fixed."
                                      if info["status"] == ImportStatus.COMMIT_FAILED else
                                      "Done: the results are next to each row."))
    data.sheet.activate()
    return _finish_import(wb, data, imp, info, "retried")


@command
def import_history(book: Any) -> pl.DataFrame:
    """The `BulkAssist History` sheet: Import ID, Domain, Status, Operation, File Name, Total Records, ..."""
    client = load_config().client()
    frame = client.history(page_size=HISTORY_PAGE)
    names = [s.name for s in book.sheets]
    if HISTORY_SHEET in names:
        sheet = book.sheets[HISTORY_SHEET]
        old = sheet.used_range.last_cell.row
    else:
        sheet = book.sheets.add(HISTORY_SHEET, after=book.sheets[-1])
        old = 0
    write_frame(sheet, 1, 1, frame, list(HISTORY_COLUMNS.values()), pad_to=old)
    sheet.activate()
    book.app.alert(f"Import History: the {frame.height} newest imports. To download an import's results, select "
                   f"a cell of its row and press Download results.", title=TITLE, buttons="ok", mode="info")
    return frame


@command
def download_results(book: Any) -> str:
    """The results of the Import History row the selection is on, into a new `BulkAssist Results <ID>` sheet."""
    import_id = _selected_import(book)
    imp = load_config().client().get_import(import_id)
    results = imp.results()
    names = [s.name for s in book.sheets]
    name, n = f"{RESULTS_PREFIX}{import_id}", 1
    while name in names:
        n += 1
        name = f"{RESULTS_PREFIX}{import_id} ({n})"
    sheet = book.sheets.add(name, after=book.sheets[-1])
    write_frame(sheet, 1, 1, results, list(results.columns))
    sheet.activate()
    info = imp.info
    book.app.alert(f"Results of import {import_id} ({info['status']}, {info['file_name']}): {results.height} rows "
                   f"on sheet {name!r}.", title=TITLE, buttons="ok", mode="info")
    return name


def _selected_import(book: Any) -> int:
    """The Import ID in column A of the History row the selection is on."""
    selection = book.selection
    if selection is None or selection.sheet.name != HISTORY_SHEET:
        raise SchemaError(f"select a row of the {HISTORY_SHEET!r} sheet (press Import History to list the imports), "
                          f"then press Download results.")
    row = selection.row
    value = read_block(selection.sheet, (row, 1), (row, 1))[0][0] if row > 1 else None
    try:
        import_id = int(float(str(value)))  # 42, 42.0 or '42'; None or text: not an ID
    except (TypeError, ValueError):
        raise SchemaError(f"row {row} of the {HISTORY_SHEET!r} sheet holds no Import ID; select a row of an "
                          f"import, then press Download results.") from None
    return import_id

