"""The annotated copy of a validated file: `write_annotated(report, path)`.

The person's data with every invalid cell filled (errors red, warnings amber)
and carrying a note that says what is wrong and what to type instead,
dropdowns on select-list columns, an Errors sheet listing every issue (its
Column cell links to the invalid cell) and a Summary sheet.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from bulkassist.engine.report import SHEET_ERRORS_COLUMNS, SUMMARY_KEYS, errors_table
from bulkassist.errors import TooManyRowsForExcel
from bulkassist.io.reading import column_letter
from bulkassist.io.xlsx import (
    ERROR_STYLE,
    ERRORS_SHEET,
    GENERAL_STYLE,
    MAX_ROW,
    SUMMARY_SHEET,
    WARNING_STYLE,
    ListsSheet,
    Sheet,
    column_refs,
    column_widths,
    data_rows,
    data_sheet_name,
    lists_or_default,
    write_package,
)
from bulkassist.spec import OPERATION_LABELS, Kind

if TYPE_CHECKING:  # pragma: no cover
    from bulkassist.engine.report import Report
    from bulkassist.engine.selectlists import SelectLists
    from bulkassist.io.reading import Table


def write_annotated(
    report: Report,
    path: str | os.PathLike,
    *,
    source: Table | None = None,
    lists: SelectLists | None = None,
) -> Path:
    """Write the report's data as a workbook a person can fix: filled cells with notes, dropdowns, Errors, Summary.

    Row numbers match the file that was validated (the header stays on its
    row), so "row 7" in the Errors sheet, the CLI and the notes is row 7 here.
    `source` is the Table the report was made from (its sheet name names the
    data sheet); `lists` gives the dropdown values (default: the lists the
    report was validated against when it carries them, else the demo lists).
    """
    if report.first_row + report.data.height - 1 > MAX_ROW:
        raise TooManyRowsForExcel(
            f"{report.source} has {report.data.height:,} data rows; an Excel sheet holds {MAX_ROW:,} rows, "
            f"header included, so no annotated workbook can show them. Write CSV instead (validate --errors "
            f"FILE.csv, fix -o FILE.csv, Report.errors_csv), or split the file into parts of at most "
            f"{MAX_ROW - report.header_row:,} rows."
        )
    lists = lists_or_default(lists if lists is not None else getattr(report, "lists", None))
    first = report.first_row
    data = report.data
    marks = _cell_marks(report)
    fields = {f.name: f for f in report.domain.fields}  # custom-field columns map to no Field
    select_lists = {
        index: spec.list_name
        for index, column in enumerate(report.frame_columns)
        if (spec := fields.get(report.column_fields.get(column) or "")) is not None and spec.kind is Kind.SELECT
    }
    list_sheet = ListsSheet.build(lists, select_lists.values())
    last_row = first + data.height - 1
    validations = [
        (f"{column_letter(i)}{first}:{column_letter(i)}{max(last_row, first)}", list_sheet.ref(name))
        for i, name in select_lists.items()
        if list_sheet.has(name)
    ]
    data_sheet = Sheet(
        name=data_sheet_name(source.sheet if source is not None and source.sheet else "Data"),
        rows=data_rows(data, report.columns, report.header_row, marks.select("row", "col", "style")),
        cols=column_widths(data, report.columns),
        freeze_row=report.header_row,
        validations=validations,
        text_data=True,
        notes=marks.filter(pl.col("note").is_not_null()).select("row", "col", "note"),
    )
    sheets = [data_sheet, _errors_sheet(report, data_sheet.name), _summary_sheet(report)]
    if validations:
        sheets.append(list_sheet.sheet())
    return write_package(path, sheets)


# ------------------------------------------------------------------ report -> cells
def _cell_marks(report: Report) -> pl.DataFrame:
    """One row per cell to paint: spreadsheet `row`, 0-based `col`, `style` and the `note` text.

    Several issues on one cell become one note; the cell takes the fill of the
    worst of them. File-level issues about a column mark its header cell.
    """
    issues = report.issues.filter(pl.col("col_index").is_not_null())
    if issues.height == 0:
        return pl.DataFrame(schema={"row": pl.Int64, "col": pl.Int64, "style": pl.Int64, "note": pl.String})
    text = pl.concat_str(
        [
            pl.col("message"),
            pl.when(pl.col("suggestion").is_not_null())
            .then(pl.lit("\nSuggested: ") + pl.col("suggestion"))
            .otherwise(pl.lit("")),
        ]
    )
    return (
        issues.with_columns(
            pl.col("row").fill_null(report.header_row),
            pl.col("col_index").alias("col"),
            (pl.col("severity") == "error").alias("is_error"),
            text.fill_null("").alias("text"),
        )
        .group_by("row", "col", maintain_order=True)
        .agg(
            pl.when(pl.col("is_error").any()).then(pl.lit(ERROR_STYLE)).otherwise(pl.lit(WARNING_STYLE))
            .first().cast(pl.Int64).alias("style"),
            pl.col("text").str.join("\n\n").alias("note"),
        )
    )


def _errors_sheet(report: Report, data_sheet: str) -> Sheet:
    """Every issue, file-level ones first; a cell issue's Column links to its cell on the data sheet."""
    issues = report.issues.sort(["row", "col_index"], nulls_last=False, maintain_order=True)
    frame = errors_table(issues, SHEET_ERRORS_COLUMNS).with_columns(pl.col("Severity").str.to_titlecase())
    target = "'" + data_sheet.replace("'", "''") + "'!"
    links = (
        issues.with_row_index("i")
        .filter(pl.col("row").is_not_null() & pl.col("col_index").is_not_null())
        .select(
            (pl.lit("B") + (pl.col("i") + 2).cast(pl.String)).alias("ref"),
            (pl.lit(target) + column_refs(issues, "col_index") + pl.col("row").cast(pl.String)).alias("location"),
        )
    )
    return Sheet(
        name=ERRORS_SHEET,
        rows=data_rows(frame, SHEET_ERRORS_COLUMNS, 1, None, numeric=("Row",), style=GENERAL_STYLE),
        cols=column_widths(frame, SHEET_ERRORS_COLUMNS, widest=80),
        freeze_row=1,
        links=links,
    )


def _summary_sheet(report: Report) -> Sheet:
    s = report.summary
    labels = ["Source", "Domain", "Operation", "Total Rows", "Valid Rows", "Error Rows", "Skipped Rows",
              "Insert", "Update", "No change"]
    values = [report.source, report.domain.title, OPERATION_LABELS.get(report.operation, report.operation),
              *(str(s[k]) for k in SUMMARY_KEYS)]
    frame = pl.DataFrame({"Summary": labels, "Value": values})
    return Sheet(
        name=SUMMARY_SHEET,
        rows=data_rows(frame, ["Summary", ""], 1, None, numeric=("Value",), style=GENERAL_STYLE),
        cols=column_widths(frame, ["Summary", "Value"]),
    )

