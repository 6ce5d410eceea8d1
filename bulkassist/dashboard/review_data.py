"""What the Review step shows, as columnar data: cells, per-row actions, issues, pages.

The server's review says, per spreadsheet row, Insert / Update / Error /
Skip and lists the issues; the cells themselves are the ones the dashboard
read and uploaded. This module joins the two and cuts them into pages, so
the browser only ever receives one page of rows (a 100k-row file stays
responsive). Nothing here re-validates: an edit is sent to the server and its
answer replaces that row's action and issues.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import polars as pl

# The client's reading of the server's issue JSON, so both read it one way.
from bulkassist.client import issue_frame
from bulkassist.engine.report import (
    ERROR_SEVERITY,
    as_text,
    problem_counts,
    problem_kind,
    summarize,
)
from bulkassist.status import VALID_ACTIONS, RowAction

ROW = "Row"
STATUS = "Status"
# Names the frame columns of invalid cells of the row, joined by "|"; the grid's
# renderer colours a cell when its column is listed (see `grids.py`).
INVALID = "Invalid cells"
ACCEPT_LABEL = "✔ Accept"
RESERVED = frozenset({ROW, STATUS, INVALID, "Action"})  # the columns the review's grids add to the file's


def action_series(rows: list[dict[str, Any]], first_row: int, height: int) -> pl.Series:
    """Per-row actions from the server's `[{row, action}]`, in data order (unknown rows are Skip)."""
    frame = pl.DataFrame(rows, schema={"row": pl.Int64, "action": pl.String}) if rows else pl.DataFrame(
        schema={"row": pl.Int64, "action": pl.String})
    positions = pl.DataFrame({"row": pl.int_range(first_row, first_row + height, eager=True)})
    return positions.join(frame, on="row", how="left")["action"].fill_null(RowAction.SKIP)


@dataclass
class ReviewData:
    """The uploaded cells with the server's verdict on them."""

    headers: list[str]  # as written in the file, in file order
    data: pl.DataFrame  # text cells; column i holds headers[i] (names made unique)
    actions: pl.Series  # Insert / Update / Error / Skip per data row
    issues: pl.DataFrame  # ISSUE_SCHEMA
    first_row: int = 2  # spreadsheet row of the first data row (the header is row 1)
    listed_errors: pl.Series = field(init=False)  # rows in the Errors section, fixed at review time
    shown_errors: pl.Series = field(init=False)  # those of them the chart's filter lets through

    def __post_init__(self) -> None:
        self.data = self.data.cast(pl.String)
        # A file column named like a column the grids add (a case file's "Status") is shown as "Status (file)".
        taken = set(self.data.columns)
        renamed = {}
        for name in self.data.columns:
            if name in RESERVED:
                new = f"{name} (file)"
                while new in taken:
                    new += "'"
                renamed[name] = new
                taken.add(new)
        if renamed:
            self.data = self.data.rename(renamed)
        self.listed_errors = self.rows_with(RowAction.ERROR)
        self.shown_errors = self.listed_errors

    @classmethod
    def from_review(cls, headers: list[str], data: pl.DataFrame, review: dict[str, Any],
                    first_row: int = 2) -> ReviewData:
        """Join the uploaded cells with `Import.review()`'s answer."""
        return cls(
            headers=list(headers),
            data=data,
            actions=action_series(review.get("rows", []), first_row, data.height),
            issues=issue_frame(review.get("issues", [])),
            first_row=first_row,
        )

    # -------------------------------------------------------------- rows
    @property
    def columns(self) -> list[str]:
        return self.data.columns

    def row_numbers(self) -> pl.Series:
        return pl.int_range(self.first_row, self.first_row + self.data.height, eager=True).alias("row")

    def rows_with(self, *actions: str) -> pl.Series:
        return self.row_numbers().filter(self.actions.is_in(list(actions)))

    @property
    def summary(self) -> dict[str, int]:
        """The report's summary of the actions as they stand after the edits so far."""
        return summarize(self.actions)

    @property
    def file_issues(self) -> pl.DataFrame:
        return self.issues.filter(pl.col("row").is_null())

    def header_of(self, frame_column: str) -> str:
        return self.headers[self.columns.index(frame_column)]

    def problem_counts(self) -> pl.DataFrame:
        """Cell errors per column and kind of problem, as they stand after the edits so far (the chart)."""
        return problem_counts(self.issues)

    def filter_errors(self, column: str | None = None, kind: str | None = None) -> None:
        """List only the error rows with an error in `column` (a header) of `kind` (a `problem_kind`); None
        for either means any. Rows fixed since stay listed (green), as without a filter."""
        if column is None and kind is None:
            self.shown_errors = self.listed_errors
            return
        errors = self.issues.filter((pl.col("severity") == ERROR_SEVERITY) & pl.col("row").is_not_null())
        if column is not None:
            errors = errors.filter(as_text("column").fill_null(as_text("field")).fill_null("(no column)") == column)
        if kind is not None:
            errors = errors.filter(problem_kind(as_text("code").fill_null("error")) == kind)
        self.shown_errors = self.listed_errors.filter(self.listed_errors.is_in(errors["row"].implode()))

    # ------------------------------------------------------------- pages
    def error_page_rows(self, page: int, page_size: int) -> list[int]:
        return self.shown_errors.slice(page * page_size, page_size).to_list()

    def valid_page_rows(self, page: int, page_size: int) -> list[int]:
        return self.rows_with(*VALID_ACTIONS).slice(page * page_size, page_size).to_list()

    def _cells(self, rows: list[int]) -> pl.DataFrame:
        positions = pl.Series([r - self.first_row for r in rows], dtype=pl.Int64)
        return self.data[positions].with_columns(
            pl.Series(ROW, rows, dtype=pl.Int64),
            self.actions[positions].alias(STATUS),
        )

    def invalid_cells(self, rows: list[int]) -> pl.DataFrame:
        """`row`, INVALID: the frame columns holding an error, per row (rows without any are absent)."""
        return (
            self.issues_on(rows)
            .filter((pl.col("severity") == ERROR_SEVERITY) & pl.col("frame_column").is_not_null())
            .select("row", "frame_column")
            .unique(maintain_order=True)
            .group_by("row", maintain_order=True)
            .agg(pl.col("frame_column").str.join("|").alias(INVALID))
        )

    def error_page(self, page: int, page_size: int) -> pd.DataFrame:
        """The grid's frame for one page of the Errors section: Row (index), Status, the cells, Invalid cells."""
        rows = self.error_page_rows(page, page_size)
        frame = (
            self._cells(rows)
            .join(self.invalid_cells(rows), left_on=ROW, right_on="row", how="left")
            .with_columns(pl.col(INVALID).fill_null(""))
            .select(ROW, STATUS, *self.columns, INVALID)
        )
        return _to_grid_frame(frame)

    def valid_page(self, page: int, page_size: int) -> pd.DataFrame:
        """One page of the valid rows with the action each will get (Insert / Update)."""
        rows = self.valid_page_rows(page, page_size)
        frame = self._cells(rows).select(ROW, pl.col(STATUS).alias("Action"), *self.columns)
        return _to_grid_frame(frame)

    def issues_on(self, rows: list[int]) -> pl.DataFrame:
        """The issues of `rows`, in row and column order, with the frame column each belongs to."""
        return (
            self.issues.filter(pl.col("row").is_in(rows))
            .sort(["row", "col_index"], nulls_last=True)
            .with_columns(pl.col("col_index").replace_strict(
                list(range(len(self.columns))), self.columns, default=None, return_dtype=pl.String
            ).alias("frame_column"))
        )

    @staticmethod
    def issues_table(issues: pl.DataFrame) -> pd.DataFrame:
        """What the issues grid shows: where, what is wrong, the suggested value, the one-click accept."""
        return issues.select(
            pl.col("row").alias(ROW),
            as_text("column").fill_null(as_text("field")).fill_null("").alias("Column"),
            pl.col("value").fill_null("").alias("Value"),
            as_text("severity").str.to_titlecase().alias("Severity"),
            pl.col("message").fill_null("").alias("Problem"),
            pl.col("suggestion").fill_null("").alias("Suggested value"),
            pl.when(pl.col("suggestion").is_not_null() & pl.col("frame_column").is_not_null())
            .then(pl.lit(ACCEPT_LABEL)).otherwise(pl.lit("")).alias("Accept"),
        ).to_pandas()

    # ------------------------------------------------------------- edits
    def set_cells(self, row: int, values: dict[str, Any]) -> None:
        """Put the user's values ({frame column: value}) in `row`, whatever the server has said yet."""
        position = row - self.first_row
        self.data = self.data.with_columns(
            self.data[name].scatter([position], [None if v in (None, "") else str(v)]).alias(name)
            for name, v in values.items()
        )

    def apply_edit(self, row: int, values: dict[str, Any], answer: dict[str, Any]) -> None:
        """Record an edit of `row` ({frame column: value}) and the server's verdict on the row."""
        position = row - self.first_row
        self.set_cells(row, values)
        self.actions = self.actions.scatter([position], [answer["action"]])
        others = self.issues.filter(pl.col("row").is_null() | (pl.col("row") != row))
        self.issues = pl.concat([others, issue_frame(answer.get("issues", []))])


def _to_grid_frame(frame: pl.DataFrame) -> pd.DataFrame:
    """Text cells with blanks as "", indexed by spreadsheet row (what ipydatagrid shows as row header)."""
    text = frame.with_columns(pl.all().exclude(ROW).cast(pl.String).fill_null(""))
    return text.to_pandas().set_index(ROW)
