"""What each BulkAssist ribbon button does, as a function of the workbook (`book: xw.Book`).

The same functions run under the classic desktop add-in (`xw.Book.caller()`),
xlwings Server and xlwings Lite (`xw.Book(json=...)`). They only use xlwings
API that exists on the desktop engines and on the remote engine, read the
workbook once up front, and do every fallible thing (validation, the server)
before the first write: when something fails, the user gets a message box
and the sheet is exactly as it was.

Validation is `bulkassist.validate`; the server is `bulkassist.Client`. Nothing
here decides whether a cell is valid.
"""

from __future__ import annotations

import datetime as dt
import functools
import gc
from collections.abc import Callable
from dataclasses import replace
from typing import Any, TypeVar

import polars as pl

import bulkassist.engine.validation as validation
from bulkassist.client import CHANGE_COLUMNS, issue_frame
from bulkassist.domains import all_domains, get_domain
from bulkassist.engine.headers import HeaderMatch, clean_header, match_headers
from bulkassist.engine.mapping import (
    DO_NOT_IMPORT,
    automatic_target,
    propose_mapping,
    resolve_mapping,
)
from bulkassist.engine.report import ISSUE_SCHEMA, Report, as_text, empty_issues, errors_table
from bulkassist.engine.selectlists import SelectLists, demo_lists
from bulkassist.errors import BulkAssistError, NotLicensed, PermissionDenied, SchemaError
from bulkassist.excel.config import load_config
from bulkassist.excel.datasheet import RESULT_HEADERS, DataSheet
from bulkassist.excel.grid import write_block, write_escaped, write_frame
from bulkassist.excel.painter import (
    DROPDOWN,
    Capabilities,
    Painter,
    cell_kinds,
    note_texts,
    rectangles,
    runs_of,
)
from bulkassist.excel.settings import (
    CHANGES_SHEET,
    LISTS_SHEET,
    MAPPING_TITLE,
    SETTINGS_SHEET,
    MappingRow,
    Settings,
    SettingsSheet,
    is_own_sheet,
)
from bulkassist.io.cells import excel_text_entries
from bulkassist.io.reading import read_table
from bulkassist.spec import OPERATION_LABELS, Domain, Kind
from bulkassist.status import RowAction, RowStatus

TITLE = "BulkAssist"
SPARE_ROWS = 200  # dropdowns reach this far below the last record, for rows still to be typed

F = TypeVar("F", bound=Callable[..., Any])


def command(func: F) -> F:
    """Show a BulkAssistError as a message box instead of a traceback; nothing has been written yet."""

    @functools.wraps(func)
    def run(book: Any, *args: Any, **kwargs: Any) -> Any:
        # A million-row sheet is millions of Python objects in, and hundreds of thousands of actions and rows
        # out, all living as long as the command: the cyclic collector would walk them again and again while
        # they are built (it tripled the cost of turning the issue list into rows). Nothing here makes
        # reference cycles worth collecting mid-command, so it waits until the command ends.
        collecting = gc.isenabled()
        gc.disable()
        try:
            return func(book, *args, **kwargs)
        except BulkAssistError as exc:
            book.app.alert(str(exc), title=f"{TITLE}: {func.__name__.replace('_', ' ')} failed",
                           buttons="ok", mode="critical")
            return None
        finally:
            if collecting:
                gc.enable()

    return run  # type: ignore[return-value]


class Workbook:
    """One command's view of the book: settings, data sheet, painter; read once, written last."""

    def __init__(self, book: Any):
        self.book = book
        self.caps = Capabilities.of(book)
        self.store = SettingsSheet(book)
        self.settings: Settings = self.store.settings()
        self.painter = Painter(book, self.caps, self.store.marks())
        # The column mapping of the data sheet ({header: target or "-"}): what Map columns stored on the
        # BulkAssist sheet, else the server's saved mapping for exactly these headers (`saved_name`).
        self.columns: dict[str, str] = {}
        self.saved_name: str | None = None

    # ------------------------------------------------------------- reading
    def data_sheet(self) -> DataSheet:
        names = [s.name for s in self.book.sheets]
        name = self.settings.data_sheet
        if name:
            if name not in names:
                raise SchemaError(
                    f"the {SETTINGS_SHEET!r} sheet names data sheet {name!r}, which does not exist; "
                    f"write the name of the sheet with your records next to 'Data sheet'."
                )
            sheet = self.book.sheets[name]
        else:
            active = self.book.sheets.active
            others = [n for n in names if not is_own_sheet(n)]
            if not is_own_sheet(active.name):
                sheet = active
            elif others:
                sheet = self.book.sheets[others[0]]
            else:
                raise SchemaError("this workbook has no sheet of records; use New from template to start one.")
        return DataSheet.read(sheet, self.settings.header_row)

    def domain(self, data: DataSheet | None = None) -> Domain:
        if self.settings.domain:
            return get_domain(self.settings.domain)
        if data is None:
            return get_domain("client")
        best = max(all_domains(), key=lambda d: len(match_headers(d, data.headers).fields))
        if not match_headers(best, data.headers).fields:
            raise SchemaError(
                f"the headers of sheet {data.sheet.name!r} match no BulkAssist import; type the domain "
                f"(client, client_assignment, ...) next to 'Domain' in a {SETTINGS_SHEET!r} sheet, or use "
                f"New from template."
            )
        return best

    def lists(self, domain: Domain) -> tuple[SelectLists, str]:
        """The server's select lists when a server is configured, else the packaged demo lists."""
        config = load_config()
        if not config.configured:
            return demo_lists(), "packaged demo lists (no server configured)"
        return config.client().lists(domain.name), f"server {config.url}"

    def load_mapping(self, data: DataSheet, domain: Domain, client: Any = None) -> dict[str, str]:
        """The column mapping commands use: stored by Map columns for this data sheet and domain, else (with a
        server) the organisation's saved mapping for exactly these headers, in any order."""
        present = {clean_header(h) for h in data.headers if clean_header(h)}
        stored = self.store.stored_mapping(data.sheet.name, domain.name)
        self.columns = {k: v for k, v in stored.items() if k in present}
        self.saved_name = None
        if not self.columns and client is not None:
            try:
                saved = client.mappings(domain.name)
            except (PermissionDenied, NotLicensed):  # may read lists, may not import: no saved mappings
                saved = []
            for found in saved:
                if set(found["headers"]) == present:
                    self.columns, self.saved_name = dict(found["columns"]), found["name"]
                    break
        return self.columns

    def match(self, data: DataSheet, domain: Domain) -> HeaderMatch:
        """Which field each column of the data sheet fills, with the column mapping."""
        return match_headers(domain, data.headers, resolve_mapping(domain, data.headers, self.columns))

    def validate(self, data: DataSheet, domain: Domain, lists: SelectLists, table: Any = None) -> Report:
        operation = self.settings.operation_for(domain)
        table = table if table is not None else data.table(self.book.name)
        return validation.validate(table, domain, operation, lists=lists, mapping=self.columns or None,
                                   options=self.settings.options_for(domain, operation))

    def mapping_rows(self, data: DataSheet, domain: Domain, table: Any, lists: SelectLists) -> list[MappingRow]:
        """The Column mapping block with this sheet's rows rebuilt: every header no field name matches, with
        its proposal (target, confidence, method, samples), the Chosen Target typed before (else what is mapped,
        else the proposal) and what is mapped; other sheets' rows kept as they are."""
        old = self.store.mapping_rows()
        typed = {r.column: r.chosen for r in old if (r.sheet, r.domain) == (data.sheet.name, domain.name)}
        proposal = propose_mapping(table, domain, self.columns if self.saved_name else None, lists=lists)
        rows = []
        for p in proposal:
            column = p["column"]
            auto = automatic_target(domain, column) if column else None
            mapped = self.columns.get(column, "")
            if not column or (auto is not None and mapped in ("", auto[0])):
                continue
            rows.append(MappingRow(
                data.sheet.name, domain.name, column, p["target"] or "", p["confidence"], p["method"] or "",
                ", ".join(p["samples"])[:250], typed.get(column) or mapped or p["target"] or "", mapped))
        return [r for r in old if (r.sheet, r.domain) != (data.sheet.name, domain.name)] + rows

    # ------------------------------------------------------------- writing
    def paint(self, data: DataSheet, report: Report, changed: pl.DataFrame | None = None,
              updated: pl.DataFrame | None = None) -> dict[str, int]:
        """Fills (merged rectangles), notes and the issue list for `report`; returns counts."""
        # The header of a column that is not mapped is marked too, its note naming the proposed target.
        headers = report.file_issues.filter((pl.col("code") == "unmapped_column") & pl.col("col_index").is_not_null()
                                            ).with_columns(pl.lit(data.header_row).cast(ISSUE_SCHEMA["row"]).alias("row"),
                                                           as_text("field").alias("suggestion"))
        issues = data.cells(pl.concat([report.cell_issues, headers]))
        fills = self.painter.fill(data.sheet, rectangles(cell_kinds(issues, changed, updated)))
        notes = self.painter.notes(data.sheet, note_texts(issues))
        self.store.write_issues(report.errors_frame())
        return {"fills": fills, "notes": notes, "cells": issues.select("row", "column").unique().height}

    def dropdowns(self, data: DataSheet, domain: Domain, lists: SelectLists) -> int:
        """An in-cell dropdown on every select-list column, listing the values on the lists sheet."""
        if not self.caps.dropdowns:
            return 0
        match = self.match(data, domain)
        fields = {idx: domain.field(name) for idx, name in match.fields.items()
                  if domain.field(name).kind is Kind.SELECT and domain.field(name).select_list}
        if not fields:
            return 0
        names = list(dict.fromkeys(f.list_name for f in fields.values()))
        values = {n: [v for v, _ in lists.options(n)] for n in names}
        lists_sheet = self._lists_sheet(names, values)
        last = max(data.last_row, data.first_row) + SPARE_ROWS
        for idx, f in fields.items():
            position = names.index(f.list_name) + 1
            source = lists_sheet.range((2, position), (1 + max(1, len(values[f.list_name])), position))
            target = data.sheet.range((data.first_row, idx + 1), (last, idx + 1))
            self.painter.dropdown(target, source)
        return len(fields)

    def _lists_sheet(self, names: list[str], values: dict[str, list[str]]) -> Any:
        existing = [s.name for s in self.book.sheets]
        old_rows, old_cols = 0, 0
        if LISTS_SHEET in existing:
            sheet = self.book.sheets[LISTS_SHEET]
            last = sheet.used_range.last_cell
            old_rows, old_cols = last.row, last.column
        else:
            current = self.book.sheets.active
            sheet = self.book.sheets.add(LISTS_SHEET, after=self.book.sheets[-1])
            if self.caps.hide_sheets:
                sheet.visible = False
            current.activate()
        height = max([1 + len(v) for v in values.values()] + [old_rows])
        width = max(len(names), old_cols)
        block: list[list[Any]] = [[None] * width for _ in range(height)]
        for c, name in enumerate(names):
            block[0][c] = name
            for r, value in enumerate(values[name], start=1):
                block[r][c] = value
        write_block(sheet, 1, 1, block, text=True)
        return sheet

    def status(self, text: str | bool) -> None:
        if self.caps.status_bar:
            self.book.app.status_bar = text

    def finish(self, summary: list[tuple[str, Any]], message: str, mode: str = "info") -> None:
        self.store.write_summary(summary + [("When", dt.datetime.now().strftime("%Y-%m-%d %H:%M"))])
        self.store.write_marks(self.painter.marks)
        self.status(False)
        self.book.app.alert(message, title=TITLE, buttons="ok", mode=mode)


def _summary(report: Report, lists_source: str, counts: dict[str, int]) -> list[tuple[str, Any]]:
    s = report.summary
    return [
        ("Domain", report.domain.title), ("Operation", OPERATION_LABELS[report.operation]),
        ("Total", s["total"]), ("Valid", s["valid"]), ("Error", s["errors"]), ("Skipped", s["skipped"]),
        ("Insert", s["insert"]), ("Update", s["update"]),
        ("Invalid cells", counts["cells"]), ("Notes", counts["notes"]), ("Lists", lists_source),
    ]


def _message(report: Report, counts: dict[str, int], caps: Capabilities) -> str:
    text = f"{report.domain.title} · {OPERATION_LABELS[report.operation]}: {report.summary_sentence()}."
    files = report.file_issues
    if files.height:
        text += "\n" + "\n".join(files["message"].to_list()[:5])
    if counts["cells"] > counts["notes"]:
        why = "this Excel cannot show notes" if not caps.notes else "notes are kept to the first cells"
        text += f"\n{counts['cells']} invalid cells; {why}: every issue is listed in the {SETTINGS_SHEET!r} sheet."
    return text


# ------------------------------------------------------------------ commands
def _open(book: Any) -> tuple[Workbook, DataSheet, Domain, SelectLists, str]:
    """Everything a validating command reads before it writes anything (the column mapping included)."""
    wb = Workbook(book)
    data = wb.data_sheet()
    domain = wb.domain(data)
    config = load_config()
    client = config.client() if config.configured else None
    lists, source = (client.lists(domain.name), f"server {config.url}") if client is not None else wb.lists(domain)
    wb.load_mapping(data, domain, client)
    return wb, data, domain, lists, source


def _mapping_text(wb: Workbook, rows: list[MappingRow], data: DataSheet, report: Report) -> str:
    """What the message box says about the column mapping ("" when every header names a field)."""
    mine = [r for r in rows if (r.sheet, r.domain) == (data.sheet.name, report.domain.name)]
    unmapped = [clean_header(c) for c in report.file_issues.filter(pl.col("code") == "unmapped_column")["column"]]
    parts = []
    if wb.saved_name:
        parts.append(f"Column mapping: the server's saved mapping {wb.saved_name!r} maps these headers "
                     f"({len(mine)} columns not named by their header); stored under {MAPPING_TITLE!r} on the "
                     f"{SETTINGS_SHEET!r} sheet.")
    elif wb.columns:
        skipped = sum(1 for t in wb.columns.values() if t == DO_NOT_IMPORT)
        parts.append(f"Column mapping: {len(wb.columns) - skipped} columns mapped, {skipped} not imported, as "
                     f"stored by Map columns.")
    if unmapped:
        parts.append(f"{len(unmapped)} columns are not mapped ({', '.join(repr(c) for c in unmapped[:5])}): they "
                     f"are listed with proposed targets under {MAPPING_TITLE!r} on the {SETTINGS_SHEET!r} sheet. "
                     f"Edit Chosen Target ('{DO_NOT_IMPORT}' = do not import) and press Map columns.")
    return "\n".join(parts)


def _write_mapping(wb: Workbook, data: DataSheet, domain: Domain, table: Any, lists: SelectLists,
                   report: Report) -> str:
    """The Column mapping block of the BulkAssist sheet (settings sheet already ensured); the message text."""
    rows = wb.mapping_rows(data, domain, table, lists)
    if rows or wb.store.mapping_rows():
        wb.store.write_mapping(rows)
    return _mapping_text(wb, rows, data, report)


def _show(wb: Workbook, data: DataSheet, report: Report, lists: SelectLists, source: str,
          changed: pl.DataFrame | None = None, mapping: str = "") -> Report:
    """Paint `report` (previous marks already cleared), dropdowns, summary, marks log, message box."""
    counts = wb.paint(data, report, None if changed is None else changed.select("row", "column"))
    wb.dropdowns(data, report.domain, lists)
    summary = _summary(report, source, counts)
    message = _message(report, counts, wb.caps)
    if changed is not None:
        summary.append(("Fixed cells", changed.height))
        message = f"Applied {changed.height} safe fixes (marked blue).\n{message}"
    if wb.saved_name:
        summary.append(("Column mapping", f"server's saved mapping {wb.saved_name!r}"))
    elif wb.columns:
        summary.append(("Column mapping", f"{len(wb.columns)} columns, by Map columns"))
    if mapping:
        message += "\n" + mapping
    wb.finish(summary, message)
    return report


@command
def validate(book: Any) -> Report:
    """Validate: clear the previous marks, then fill, annotate and list every issue; dropdowns; summary."""
    wb, data, domain, lists, source = _open(book)
    table = data.table(book.name)
    report = wb.validate(data, domain, lists, table)
    wb.store.ensure(domain, wb.settings, data.sheet.name)
    mapping = _write_mapping(wb, data, domain, table, lists, report)
    wb.painter.clear()
    return _show(wb, data, report, lists, source, mapping=mapping)


@command
def apply_suggestions(book: Any) -> Report:
    """Write every safe fix (one 2-D write per run of fixed cells), mark them, revalidate in memory."""
    wb, data, domain, lists, source = _open(book)
    table = data.table(book.name)
    report = wb.validate(data, domain, lists, table)
    fixed, _ = report.fixed_data()
    changed = _changed_cells(report.data, fixed, report.first_row)
    # The remote engine would return the old values if we read them back, so the
    # revalidation runs on the fixed frame in memory, not on the sheet.
    table.frame = fixed
    for masks in (table.date_cells, table.number_cells):
        for name, mask in list(masks.items()):
            hit = changed.filter(pl.col("name") == name)["row"] - report.first_row
            masks[name] = mask.scatter(hit, False) if hit.len() else mask
    after = wb.validate(data, domain, lists, table)
    wb.store.ensure(domain, wb.settings, data.sheet.name)
    mapping = _write_mapping(wb, data, domain, table, lists, after)
    wb.painter.clear()
    _write_fixes(data, fixed, changed, report.first_row)
    return _show(wb, data, after, lists, source, changed, mapping)


def _changed_cells(before: pl.DataFrame, after: pl.DataFrame, first_row: int) -> pl.DataFrame:
    """`row`, `column` (1-based sheet column), `name` (frame column) of every cell a fix changed."""
    parts = []
    for index, name in enumerate(before.columns):
        diff = before[name].ne_missing(after[name])
        if diff.any():
            rows = diff.arg_true() + first_row
            parts.append(pl.DataFrame({"row": rows.cast(pl.Int64), "column": index + 1, "name": name}))
    if not parts:
        return pl.DataFrame(schema={"row": pl.Int64, "column": pl.Int64, "name": pl.String})
    return pl.concat(parts).with_columns(pl.col("column").cast(pl.Int64))


def _write_fixes(data: DataSheet, fixed: pl.DataFrame, changed: pl.DataFrame, first_row: int) -> None:
    """One 2-D write per vertical run of fixed cells."""
    for run in runs_of(changed.with_columns(pl.lit("changed").alias("kind"))):
        name = fixed.columns[run.column - 1]
        block = fixed.select(name).slice(run.first_row - first_row, run.height)
        write_frame(data.sheet, run.first_row, run.column, block, text=True)


@command
def refresh_lists(book: Any) -> int:
    """Fetch the select lists from the server again and rebuild every dropdown; returns how many columns."""
    wb = Workbook(book)
    data = wb.data_sheet()
    domain = wb.domain(data)
    config = load_config()
    lists = config.client().lists(domain.name)
    wb.load_mapping(data, domain)  # a column mapped to a select-list field gets its dropdown too
    wb.store.ensure(domain, wb.settings, data.sheet.name)
    wb.painter.clear([DROPDOWN])
    count = wb.dropdowns(data, domain, lists)
    names = domain.select_lists
    wb.finish([("Lists", f"server {config.url}"), ("Select lists", len(names))],
              f"Fetched {len(names)} select lists from {config.url}; dropdowns on {count} columns"
              + ("" if wb.caps.dropdowns else " (this Excel client cannot show dropdowns)") + ".")
    return count


CHANGES_HEADERS = ["Row", "Field", "Old value", "New value", "Change"]


@command
def validate_on_server(book: Any) -> pl.DataFrame:
    """Validate against the server: its verdict painted on the sheet, and what committing would change
    listed on a Changes sheet (row, field, old, new) with the changed cells marked. Nothing is committed:
    the server's import is cancelled once its review and preview are in hand."""
    wb = Workbook(book)
    data = wb.data_sheet()
    if data.sheet.name == CHANGES_SHEET:
        raise SchemaError(f"the records are on a sheet named {CHANGES_SHEET!r}, which Validate against the server "
                          f"writes; rename that sheet and try again.")
    domain = wb.domain(data)
    operation = wb.settings.operation_for(domain)
    options = wb.settings.options_for(domain, operation)
    config = load_config()
    client = config.client()
    table = data.table(book.name)
    lists = client.lists(domain.name)
    wb.load_mapping(data, domain, client)
    report = wb.validate(data, domain, lists, table)
    upload = _upload_frame(report, table.date_cells)

    def progress(done: int, total: int) -> None:
        wb.status(f"BulkAssist: {done} of {total} rows")

    imp = client.start_import(upload, domain.name, operation, options=options, name=book.name, progress=progress,
                              mapping=wb.columns or None)
    try:
        review = imp.review()
        changes = _all_changes(imp)
    finally:
        imp.cancel()  # a preview, not an import: Submit sends the sheet again
    # Everything from the server is in hand: only now is the book written.
    verdict = _server_report(report, data, review)
    changes = changes.with_columns(pl.col("row") + data.row_offset)
    columns = {f: i + 1 for i, f in wb.match(data, domain).fields.items()}
    updated = changes.filter((pl.col("change") == "changed") & pl.col("field").is_in(list(columns))).select(
        "row", pl.col("field").replace_strict(columns, return_dtype=pl.Int64).alias("column"))
    wb.store.ensure(domain, wb.settings, data.sheet.name)
    mapping = _write_mapping(wb, data, domain, table, lists, verdict)
    wb.painter.clear()
    counts = wb.paint(data, verdict, updated=updated)
    wb.dropdowns(data, domain, lists)
    _changes_sheet(wb, changes)
    kept = changes.filter(pl.col("change") == "kept").height
    summary = _summary(verdict, f"server {config.url}", counts)
    summary += [("Import ID", f"{imp.id} (preview, cancelled)"), ("No change", verdict.summary["no_change"]),
                ("Changed cells", updated.height), ("Kept (blank) cells", kept)]
    wb.finish(summary, f"Validated on the server (import {imp.id}, nothing committed): {verdict.summary_sentence()}.\n"
                       f"{updated.height} cells would change a stored value (marked lavender, listed on the "
                       f"{CHANGES_SHEET!r} sheet); {kept} blank cells keep the stored value. Submit to import."
                       + (f"\n{mapping}" if mapping else ""))
    return changes


def _all_changes(imp: Any) -> pl.DataFrame:
    """The whole preview of `imp` (server row numbers) as a polars frame of CHANGE_COLUMNS."""
    items: list[dict[str, Any]] = []
    page = 1
    while True:
        body = imp.changes_page(page, 5000)
        items.extend(body["items"])
        if not body["items"] or len(items) >= body["total"]:
            break
        page += 1
    schema = {"row": pl.Int64, "field": pl.String, "old": pl.String, "new": pl.String, "change": pl.String}
    return pl.DataFrame(items, schema=schema).select(list(CHANGE_COLUMNS))


def _server_report(report: Report, data: DataSheet, review: dict[str, Any]) -> Report:
    """The local report with the server's issues and actions (its rows counted from the header as row 1)."""
    issues = issue_frame(review["issues"]).with_columns(pl.col("row") + data.row_offset).cast(ISSUE_SCHEMA)
    answered = pl.DataFrame(review["rows"], schema={"row": pl.Int64, "action": pl.String}) if review["rows"] \
        else pl.DataFrame(schema={"row": pl.Int64, "action": pl.String})
    actions = (report.rows.select("row").join(answered.with_columns(pl.col("row") + data.row_offset), on="row",
                                              how="left")["action"].fill_null(RowAction.SKIP))
    return replace(report, issues=issues, actions=actions)


def _changes_sheet(wb: Workbook, changes: pl.DataFrame) -> None:
    """The Changes sheet: Row | Field | Old value | New value | Change, replacing the previous list."""
    book = wb.book
    old_rows = 0
    if CHANGES_SHEET in [s.name for s in book.sheets]:
        sheet = book.sheets[CHANGES_SHEET]
        old_rows = sheet.used_range.last_cell.row
    else:
        current = book.sheets.active
        sheet = book.sheets.add(CHANGES_SHEET, after=book.sheets[-1])
        current.activate()
    texts = excel_text_entries(changes.select("field", "old", "new", "change")).fill_null("")
    rows: list[list[Any]] = [list(CHANGES_HEADERS)]
    rows += [[r, *t] for r, t in zip(changes["row"].to_list(), texts.rows(), strict=True)]
    rows += [[""] * len(CHANGES_HEADERS) for _ in range(max(0, old_rows - len(rows)))]
    write_escaped(sheet, 1, 1, rows)


def _upload_frame(report: Report, date_cells: dict[str, pl.Series]) -> pl.DataFrame:
    """The records as text; date cells (typed dates in Excel) in the field's format, as the system stores them."""
    frame = report.data
    for col, mask in date_cells.items():
        name = report.column_fields.get(col)
        if name in report.normalized.columns:
            frame = frame.with_columns(
                pl.when(mask).then(pl.coalesce(report.normalized[name], pl.col(col))).otherwise(pl.col(col))
                .alias(col))
    if len(set(report.columns)) == len(report.columns):
        frame = frame.rename(dict(zip(frame.columns, report.columns, strict=True)))
    return frame


def _results_by_row(data: DataSheet, results: pl.DataFrame) -> pl.DataFrame:
    rows = pl.DataFrame({"row": pl.int_range(data.first_row, data.last_row + 1, eager=True, dtype=pl.Int64)})
    got = results.select(
        (pl.col("Row Number").cast(pl.Int64) + data.row_offset).alias("row"),
        *[pl.col(c).cast(pl.String) for c in RESULT_HEADERS],
    )
    return rows.join(got, on="row", how="left")


def _write_results(data: DataSheet, results: pl.DataFrame) -> None:
    """The results block right of the data: one 2-D write, header included."""
    write_frame(data.sheet, data.header_row, data.results_column, _results_by_row(data, results).drop("row"),
                RESULT_HEADERS)


def _write_created_ids(data: DataSheet, domain: Domain, results: pl.DataFrame, match: HeaderMatch | None = None
                       ) -> int:
    """The created record's ID into the ID column of each inserted row, so the next submit updates it."""
    if not domain.id_field:
        return 0
    index = (match or match_headers(domain, data.headers)).column_of(domain.id_field)
    if index is None:
        return 0
    inserted = _results_by_row(data, results).filter(
        (pl.col("Action") == RowAction.INSERT) & pl.col("Created/Updated ID").is_not_null()
        & (pl.col("Status") != RowStatus.FAILED)
    )
    if inserted.is_empty():
        return 0
    ids = dict(zip(inserted["row"], inserted["Created/Updated ID"], strict=True))
    cells = inserted.select("row", pl.lit(index + 1).cast(pl.Int64).alias("column"), pl.lit("id").alias("kind"))
    for run in runs_of(cells):
        write_block(data.sheet, run.first_row, run.column,
                    [[_id_value(ids[r])] for r in range(run.first_row, run.last_row + 1)])
    return inserted.height


def _id_value(value: str) -> Any:
    """A whole-number ID as a number (as Excel would hold it), anything else as safe text."""
    return int(value) if value.isdigit() and not value.startswith("0") else value


@command
def clear_marks(book: Any) -> int:
    """Remove every fill, note and dropdown BulkAssist made, and the issue list; returns how many marks."""
    wb = Workbook(book)
    if wb.store.sheet is None:
        book.app.alert("Nothing to clear: this workbook has no BulkAssist marks.", title=TITLE, buttons="ok",
                       mode="info")
        return 0
    removed = wb.painter.clear()
    wb.store.write_issues(errors_table(empty_issues()))
    wb.finish([("Cleared marks", removed)], f"Removed {removed} BulkAssist marks; your own formatting is untouched.")
    return removed


@command
def new_from_template(book: Any) -> str:
    """A new sheet with the domain's headers and dropdowns, pre-filled from a course when a Course Code is set."""
    wb = Workbook(book)
    domain = wb.domain()
    config = load_config()
    headers = list(domain.field_names)
    rows: list[tuple[Any, ...]] = []
    if wb.settings.course_code:
        content = config.client().template(domain.name, course_code=wb.settings.course_code)
        table = read_table(content, name=f"{domain.name}-{wb.settings.course_code}.xlsx")
        headers, rows = list(table.headers), table.frame.rows()
    lists, source = wb.lists(domain)
    names = [s.name for s in book.sheets]
    name, n = domain.title, 1
    while name in names:
        n += 1
        name = f"{domain.title} ({n})"
    sheet = book.sheets.add(name, after=book.sheets[-1])
    write_block(sheet, 1, 1, [headers, *map(list, rows)])
    wb.settings.header_row = 1
    wb.store.ensure(domain, wb.settings, name)
    wb.store.set("Data sheet", name)
    wb.store.set("Header row", 1)
    data = DataSheet(sheet=sheet, header_row=1, headers=headers, rows=rows, results_column=len(headers) + 1)
    wb.settings.data_sheet = name
    report = wb.validate(data, domain, lists, data.table(book.name))
    wb.painter.clear([DROPDOWN])
    wb.dropdowns(data, report.domain, lists)
    sheet.activate()
    what = f"pre-filled from course {wb.settings.course_code} ({len(rows)} rows)" if wb.settings.course_code \
        else "blank"
    wb.finish([("Template", f"{domain.title}, {what}"), ("Lists", source)],
              f"New {domain.title} sheet {name!r}, {what}. Fill it in, then press Validate.")
    return name
