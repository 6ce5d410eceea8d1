"""The sheet holding the records: where its header, data and results block are.

Layout: the header is on row `Header row` of the BulkAssist sheet (default 1)
and starts in column A; every row below it is a record. The `Table` handed to
the validator carries that header row, so a report's row numbers are sheet row
numbers and its 0-based `col_index` is sheet column `col_index + 1`. (The
server numbers the rows it was sent with the header as row 1: `row_offset`
maps those.)

Submit writes a results block right of the data: Status | Action |
Created/Updated ID | Error Messages. Reading stops at that block, so results
are never validated or uploaded as data.

The sheet is read once, typed (numbers, dates, booleans as Excel holds them),
into a `bulkassist.io.reading.Table`, so the validator can tell an SSN Excel
turned into a number from eight typed digits, exactly as for an XLSX file.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl

from bulkassist.engine.report import RESULT_COLUMNS
from bulkassist.errors import SchemaError
from bulkassist.excel.grid import frame, payload_values, read_block, text
from bulkassist.io.reading import Table, read_table, unique_names

RESULT_HEADERS = RESULT_COLUMNS[1:]  # Status, Action, Created/Updated ID, Error Messages


@dataclass
class DataSheet:
    """The data block of one sheet, read from the payload once."""

    sheet: Any  # xw.Sheet
    header_row: int
    headers: list[str]  # the data columns' headers, from column A up to the results block
    rows: Sequence[Sequence[Any]]  # data rows, raw as the engine holds them, trailing blank rows dropped; a row may
    # run past `headers` (the payload's rows are the whole used range): its first len(headers) cells are the data
    results_column: int  # 1-based sheet column where the results block starts (or would start)

    @classmethod
    def read(cls, sheet: Any, header_row: int = 1) -> DataSheet:
        last = sheet.used_range.last_cell
        if last.row < header_row:
            raise SchemaError(
                f"sheet {sheet.name!r} has nothing on row {header_row}, where its header should be; "
                f"put the column names there or change 'Header row' in the BulkAssist sheet."
            )
        values: Sequence[Sequence[Any]]
        grid = payload_values(sheet)
        if grid is not None and len(grid) >= last.row and len(grid[header_row - 1]) >= last.column \
                and min(map(len, grid[header_row:last.row]), default=last.column) >= last.column:
            # the payload's own rows (each at least as wide as the header): copying a million rows to
            # tuples cost a second, and `table()` only picks columns out of them
            values = grid[header_row - 1:last.row]
        else:
            values = read_block(sheet, (header_row, 1), (last.row, last.column))
        header = [text(v) for v in values[0][:last.column]]
        results = _results_start(header)
        width = results
        while width and not header[width - 1].strip():
            width -= 1
        if not width:
            raise SchemaError(
                f"row {header_row} of sheet {sheet.name!r} holds no column headers; use New from template "
                f"or type the headers of the import there."
            )
        rows = list(values[1:])
        while rows and all(v is None or v == "" for v in rows[-1][:width]):
            rows.pop()
        return cls(sheet=sheet, header_row=header_row, headers=header[:width], rows=rows,
                   results_column=(results if results < len(header) else width) + 1)

    # ----------------------------------------------------------- geometry
    @property
    def first_row(self) -> int:
        """Sheet row of the first record."""
        return self.header_row + 1

    @property
    def last_row(self) -> int:
        return self.header_row + len(self.rows)

    @property
    def row_offset(self) -> int:
        """Add to a row number counted from this block's header as row 1 to get the sheet row."""
        return self.header_row - 1

    @staticmethod
    def cells(issues: pl.DataFrame) -> pl.DataFrame:
        """The cell issues of a report of `table()`, with the 1-based sheet `column`."""
        return issues.filter(pl.col("row").is_not_null() & pl.col("col_index").is_not_null()).with_columns(
            (pl.col("col_index") + 1).alias("column")
        )

    # ---------------------------------------------------------------- data
    def table(self, name: str) -> Table:
        """The records as a `Table`, typed cells kept, headers exactly as written."""
        table = read_table(frame(unique_names(self.headers), self.rows), name=name)
        table.headers = list(self.headers)
        table.header_row = self.header_row
        return table


def _results_start(header: list[Any]) -> int:
    """0-based index where a results block (Status, Action, Created/Updated ID, ...) starts, else the width."""
    for i in range(len(header) - len(RESULT_HEADERS) + 1):
        if [str(h or "").strip() for h in header[i:i + len(RESULT_HEADERS)]] == RESULT_HEADERS:
            return i
    return len(header)
