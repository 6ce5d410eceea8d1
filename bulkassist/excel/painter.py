"""Paint a report onto a sheet: fills, notes and dropdowns, and take them off again.

Three traps of xlwings' remote engine (Excel on the web, xlwings Server and
xlwings Lite) shape this module:

- a comma-separated multi-area address ("A1,A3") is silently turned into its
  bounding box, so every paint targets one rectangle: a vertical run of
  adjacent marked cells in one column, computed with polars, never per cell;
- a read after a write in the same call returns the old value, so nothing
  here reads a cell back: what was painted is remembered in a marks log;
- the VBA remote client has no notes, no data validation and no sheet
  visibility: `Capabilities` says what the client can do and the painter
  degrades to fills plus the issue list instead of failing.

Everything painted is recorded as `Mark(sheet, address, kind)` so that the
next run (or Clear marks) removes exactly that and leaves the user's own
formatting elsewhere alone.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import polars as pl

# Excel's own "bad / neutral / good" palette, so the marks read as Excel's.
COLORS = {
    "error": "#FFC7CE",
    "warning": "#FFEB9C",
    "changed": "#DDEBF7",  # a cell Apply suggestions rewrote and that is now valid
    "update": "#E4DFEC",  # Validate against the server: committing would change the stored value (lavender)
}
# Which kind wins when one cell has several (an error beats a warning beats a fix beats a previewed change).
PRIORITY = {"error": 4, "warning": 3, "changed": 2, "update": 1}

FILL, NOTE, DROPDOWN = "fill", "note", "dropdown"

# Adding a note on the remote engine checks every note already on the sheet, so
# notes cost O(n²); past this many the issue list carries the rest (a person
# reads the first few hundred notes at most).
MAX_NOTES = 500


@dataclass(frozen=True)
class Capabilities:
    """What the Excel client behind a book can do."""

    notes: bool = True
    dropdowns: bool = True
    hide_sheets: bool = True
    status_bar: bool = True

    @classmethod
    def of(cls, book: Any) -> Capabilities:
        """Desktop Excel can do everything; a remote client says who it is in its payload."""
        if book.app.engine.name != "remote":
            return cls()
        client = book.api.get("client")
        officejs = client == "Office.js"
        sheets = book.api.get("sheets", [])
        notes = officejs and all("notes" in s and s.get("notes_supported") is not False for s in sheets)
        return cls(notes=notes, dropdowns=officejs, hide_sheets=officejs, status_bar=False)


@dataclass(frozen=True)
class Mark:
    """One rectangle BulkAssist painted: a fill, a note (single cell) or a dropdown."""

    sheet: str
    address: str
    kind: str


@dataclass(frozen=True)
class Run:
    """A vertical run of cells of one kind in one column (1-based sheet coordinates)."""

    column: int
    first_row: int
    last_row: int
    kind: str

    @property
    def height(self) -> int:
        return self.last_row - self.first_row + 1


def vertical_runs(cells: pl.DataFrame, by: str = "kind") -> pl.DataFrame:
    """Merge cells (`row`, `column`, `by`) into runs: `column`, `first_row`, `last_row`, `by`.

    Adjacent rows of one column with the same `by` value become one rectangle,
    so the number of paint actions is the number of vertical runs, not cells.
    """
    if cells.is_empty():
        return pl.DataFrame(schema={"column": pl.Int64, "first_row": pl.Int64, "last_row": pl.Int64,
                                    by: cells.schema.get(by, pl.String)})
    ordered = cells.select("row", "column", by).sort("column", by, "row")
    breaks = (
        (pl.col("row").diff() != 1)
        | (pl.col("column") != pl.col("column").shift())
        | (pl.col(by) != pl.col(by).shift())
    ).fill_null(True)
    return (
        ordered.with_columns(breaks.cum_sum().alias("_run"))
        .group_by("_run", maintain_order=True)
        .agg(pl.col("column").first(), pl.col("row").min().alias("first_row"),
             pl.col("row").max().alias("last_row"), pl.col(by).first())
        .drop("_run")
    )


def runs_of(cells: pl.DataFrame) -> list[Run]:
    """`vertical_runs` of cells with a `kind`, as `Run` objects."""
    return [Run(*r) for r in vertical_runs(cells).select("column", "first_row", "last_row", "kind").iter_rows()]


def cell_kinds(issues: pl.DataFrame, changed: pl.DataFrame | None = None, updated: pl.DataFrame | None = None
               ) -> pl.DataFrame:
    """One row per marked cell (`row`, `column`, `kind`): the strongest of its issues, "changed" or "update".

    `issues` carries sheet coordinates (`row`, `column`, `severity`); `changed`
    (`row`, `column`) lists cells a fix rewrote; `updated` (`row`, `column`) cells whose value would
    replace a different stored value (the server's preview of changes).
    """
    frames = [issues.select("row", "column", pl.col("severity").alias("kind"))]
    if changed is not None and not changed.is_empty():
        frames.append(changed.select("row", "column", pl.lit("changed").alias("kind")))
    if updated is not None and not updated.is_empty():
        frames.append(updated.select(pl.col("row").cast(pl.Int64), pl.col("column").cast(pl.Int64),
                                     pl.lit("update").alias("kind")))
    rank = pl.col("kind").replace_strict(PRIORITY, default=0, return_dtype=pl.Int8)
    return (
        pl.concat(frames)
        .with_columns(rank.alias("_rank"))
        .sort("_rank", descending=True)
        .unique(["row", "column"], keep="first")
        .drop("_rank")
    )


def note_texts(issues: pl.DataFrame, limit: int = MAX_NOTES) -> pl.DataFrame:
    """`row`, `column`, `text` for the first `limit` cells: every message and "Suggested: X"."""
    line = pl.when(pl.col("suggestion").is_not_null() & (pl.col("suggestion") != "")).then(
        pl.col("message") + pl.lit("\nSuggested: ") + pl.col("suggestion")
    ).otherwise(pl.col("message"))
    return (
        issues.with_columns(line.alias("text"))
        .group_by("row", "column")
        .agg(pl.col("text").str.join("\n"))
        .sort("row", "column")
        .head(limit)
    )


class Painter:
    """Applies and removes marks on one book, keeping the log of what it did."""

    def __init__(self, book: Any, capabilities: Capabilities, marks: Iterable[Mark] = ()):
        self.book = book
        self.caps = capabilities
        self.marks: list[Mark] = list(marks)
        self.notes_skipped = 0  # cells that already had a note of the user's

    # ------------------------------------------------------------- remove
    def clear(self, kinds: Iterable[str] = (FILL, NOTE, DROPDOWN)) -> int:
        """Remove the logged marks of `kinds`; marks on sheets that no longer exist are dropped."""
        kinds = set(kinds)
        names = {s.name for s in self.book.sheets}
        kept, removed = [], 0
        for mark in self.marks:
            if mark.kind not in kinds:
                kept.append(mark)
                continue
            removed += 1
            if mark.sheet not in names:
                continue
            rng = self.book.sheets[mark.sheet].range(mark.address)
            if mark.kind == FILL:
                # clear_formats is the one "unfill" every client supports (the VBA
                # client cannot set a colour of None); it only touches cells we painted.
                rng.clear_formats()
            elif mark.kind == NOTE and self.caps.notes:
                note = rng.note
                if note is not None:
                    note.delete()
            elif mark.kind == DROPDOWN and self.caps.dropdowns:
                rng.data_validation.delete()
        self.marks = kept
        return removed

    # -------------------------------------------------------------- paint
    def fill(self, sheet: Any, runs: Iterable[Run]) -> int:
        """One colour action per run; returns how many."""
        count = 0
        for run in runs:
            rng = sheet.range((run.first_row, run.column), (run.last_row, run.column))
            rng.color = COLORS[run.kind]
            self.marks.append(Mark(sheet.name, rng.address, FILL))
            count += 1
        return count

    def notes(self, sheet: Any, texts: pl.DataFrame) -> int:
        """A note on each cell of `texts` (`row`, `column`, `text`), unless the user has one there."""
        if not self.caps.notes:
            return 0
        count = 0
        for row, column, text in texts.iter_rows():
            cell = sheet.range((row, column))
            try:
                cell.add_note(text)
            except ValueError:  # "This cell already has a note": the user's, which we keep
                self.notes_skipped += 1
                continue
            self.marks.append(Mark(sheet.name, cell.address, NOTE))
            count += 1
        return count

    def dropdown(self, rng: Any, source: Any) -> bool:
        """An in-cell dropdown on `rng` listing `source` (a one-column range)."""
        if not self.caps.dropdowns:
            return False
        rng.data_validation.set_list(source, in_cell_dropdown=True)
        self.marks.append(Mark(rng.sheet.name, rng.address, DROPDOWN))
        return True

    def __iter__(self) -> Iterator[Mark]:
        return iter(self.marks)
