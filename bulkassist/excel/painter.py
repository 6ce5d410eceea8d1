"""Paint a report onto a sheet: fills, notes and dropdowns, and take them off again.

Three traps of xlwings' remote engine (Excel on the web, xlwings Server and
xlwings Lite) shape this module:

- a comma-separated multi-area address ("A1,A3") is silently turned into its
  bounding box, so every paint targets one rectangle: adjacent marked cells
  of one colour merged into vertical runs, then runs side by side into
  rectangles, computed with polars, never per cell;
- every range call is one action in the JSON answer, and going through an
  xlwings Range per rectangle costs ~30 µs (a Range object, a sheet index
  lookup, an address): a million-row sheet with scattered mistakes has half a
  million rectangles, so on the remote engine the first fill (or removal) is
  recorded through the book's `append_json_action` (the same action the Range
  would record, see `_recorder`), the others are copies of it with their own
  box (`Painter._record`), and their addresses are built with polars;
- a read after a write in the same call returns the old value, so nothing
  here reads a cell back: what was painted is remembered in a marks log;
- the VBA remote client has no notes, no data validation and no sheet
  visibility: `Capabilities` says what the client can do and the painter
  degrades to fills plus the issue list instead of failing.

Everything painted is recorded as `Mark(sheet, address, kind)` so that the
next run (or Clear marks) removes exactly that and leaves the user's own
formatting elsewhere alone. A fill mark's address lists many rectangles
("$D$3,$F$7:$F$9,..."), up to `MAX_MARK_CHARS` (an Excel cell holds 32,767
characters): a million-row sheet has half a million rectangles, and one
marks-log row each was a second of work and tens of megabytes of actions.
The address is only read back by BulkAssist, never handed to Excel whole.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, NamedTuple, cast

import polars as pl

from bulkassist.engine.report import as_text
from bulkassist.io.reading import column_letter

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
# Characters of one fill mark's address in the marks log (below Excel's 32,767 per cell, with room for the
# longest single address, "$XFD$1048576:$XFD$1048576").
MAX_MARK_CHARS = 32_000


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


class Mark(NamedTuple):
    """One rectangle BulkAssist painted: a fill, a note (single cell) or a dropdown (a tuple: cheap by the million)."""

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
    ordered = sorted_by(cells.select("row", "column", by), "column", by, "row")
    starts = (
        (pl.col("row").diff() != 1)
        | (pl.col("column") != pl.col("column").shift())
        | (pl.col(by) != pl.col(by).shift())
    ).fill_null(True)
    first, last = _ends(ordered, starts)
    return first.select("column", pl.col("row").alias("first_row"), last["row"].alias("last_row"), by)


def _ends(ordered: pl.DataFrame, starts: pl.Expr) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The first and the last row of each group of `ordered` (a group begins where `starts` holds), in order.

    Two filters of the sorted frame: no hashing, unlike a group_by (the groups are mostly single cells).
    """
    flagged = ordered.with_columns(starts.alias("_start"))
    return (flagged.filter(pl.col("_start")),
            flagged.filter(pl.col("_start").shift(-1, fill_value=True)))


def rectangles(cells: pl.DataFrame, by: str = "kind") -> pl.DataFrame:
    """Merge cells (`row`, `column`, `by`) into rectangles: `first_row`, `last_row`, `first_column`,
    `last_column`, `by`.

    `vertical_runs` first; then runs in adjacent columns covering the same rows
    with the same `by` become one rectangle. The rectangles tile exactly the
    given cells, each painted by one action.
    """
    runs = vertical_runs(cells, by)
    if runs.is_empty():
        return runs.select("first_row", "last_row", pl.col("column").alias("first_column"),
                           pl.col("column").alias("last_column"), by)
    ordered = sorted_by(runs, by, "first_row", "last_row", "column")
    starts = (
        (pl.col("column").diff() != 1)
        | (pl.col("first_row") != pl.col("first_row").shift())
        | (pl.col("last_row") != pl.col("last_row").shift())
        | (pl.col(by) != pl.col(by).shift())
    ).fill_null(True)
    first, last = _ends(ordered, starts)
    return sorted_by(first.select("first_row", "last_row", pl.col("column").alias("first_column"),
                                  last["column"].alias("last_column"), by), "first_column", "first_row")


def sorted_by(frame: pl.DataFrame, *keys: str) -> pl.DataFrame:
    """`frame.sort(*keys)` through one packed Int64 key (each key's dense code times the spans of the keys
    after it): polars sorts half a million rows by one integer ten times faster than by three columns."""
    packed: pl.Expr = pl.lit(0, pl.Int64)
    span = 1
    for name in keys:
        values = frame[name]
        if values.null_count():
            return frame.sort(*keys)
        if values.dtype.is_integer() and not values.is_empty():
            low = cast(int, values.min())
            code, size = pl.col(name).cast(pl.Int64) - low, cast(int, values.max()) - low + 1
        else:  # a value's place among the few distinct ones: a binary search each, several times cheaper than a rank
            distinct = values.unique().sort()
            code, size = pl.lit(distinct.search_sorted(values).cast(pl.Int64)), max(1, distinct.len())
        span *= size
        if span >= 2**62:
            return frame.sort(*keys)
        packed = packed * size + code
    return frame.sort(packed)


def addresses(rects: pl.DataFrame) -> pl.Series:
    """The absolute A1 address of each rectangle ("$D$3:$E$5", "$D$3" for one cell), as xlwings writes it."""
    if rects.is_empty():
        return pl.Series("address", [], dtype=pl.String)
    widest = cast(int, rects["last_column"].max())
    letters = pl.Series([column_letter(i) for i in range(widest)])
    def ref(column: str, row: str) -> pl.Expr:
        return pl.concat_str([pl.lit("$"), (pl.col(column) - 1).replace_strict(pl.int_range(widest, eager=True), letters,
                                                                               return_dtype=pl.String),
                              pl.lit("$"), pl.col(row).cast(pl.String)])
    single = (pl.col("first_row") == pl.col("last_row")) & (pl.col("first_column") == pl.col("last_column"))
    return rects.select(
        pl.when(single).then(ref("first_column", "first_row"))
        .otherwise(pl.concat_str([ref("first_column", "first_row"), pl.lit(":"), ref("last_column", "last_row")]))
        .alias("address")
    ).to_series()


def joined_addresses(address: pl.Series, limit: int = MAX_MARK_CHARS) -> list[str]:
    """`address` joined with "," into as few strings of at most `limit` characters as the order allows."""
    if address.is_empty():
        return []
    length = address.str.len_chars() + 1  # with the comma
    before = length.cum_sum() - length  # characters of the addresses ahead of each one
    # every address starts within its group's first `limit - longest` characters, so it ends within `limit`
    group = before // max(1, limit - int(length.max()))
    return (pl.DataFrame({"a": address, "g": group}).group_by("g", maintain_order=True)
            .agg(pl.col("a").str.join(","))["a"].to_list())


_A1 = r"^\$?([A-Z]{1,3})\$?(\d{1,7})(?::\$?([A-Z]{1,3})\$?(\d{1,7}))?$"


def parse_addresses(address: pl.Series) -> pl.DataFrame:
    """`first_row`, `last_row`, `first_column`, `last_column` (1-based) of A1 addresses; nulls where one is
    not a single rectangle."""
    parts = pl.DataFrame({"a": address}).select(pl.col("a").str.extract_groups(_A1)).unnest("a")
    parts.columns = ["c1", "r1", "c2", "r2"]
    letters = pl.concat([parts["c1"], parts["c2"]]).drop_nulls().unique()
    numbers = [_column_number(x) for x in letters.to_list()]  # a few hundred distinct letters at most
    number = dict(zip(letters.to_list(), numbers, strict=True))
    def col(name: str) -> pl.Expr:
        return pl.col(name).replace_strict(number, default=None, return_dtype=pl.Int64)
    return parts.select(
        pl.col("r1").cast(pl.Int64).alias("first_row"),
        pl.coalesce("r2", "r1").cast(pl.Int64).alias("last_row"),
        col("c1").alias("first_column"),
        pl.coalesce(col("c2"), col("c1")).alias("last_column"),
    )


def _column_number(letters: str) -> int:
    number = 0
    for ch in letters:
        number = number * 26 + ord(ch) - 64
    return number


# The 0-based box of rectangles (`first_row`, `last_row`, `first_column`, `last_column`) as the remote engine's
# actions give it: top row, left column, height, width.
_box = ((pl.col("first_row") - 1).alias("r"), (pl.col("first_column") - 1).alias("c"),
        (pl.col("last_row") - pl.col("first_row") + 1).alias("h"),
        (pl.col("last_column") - pl.col("first_column") + 1).alias("w"))


def _recorder(book: Any) -> Callable[..., None] | None:
    """The remote engine's action recorder of `book` (`xw.Book(json=...)`), else None.

    `Range.color = c` and `Range.clear_formats()` on that engine do nothing but
    call this with the range's sheet position and 0-based box; calling it
    directly records the identical action without building a Range.
    """
    if book.app.engine.name != "remote":
        return None
    return getattr(getattr(book, "impl", None), "append_json_action", None)


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
    frames = [issues.select("row", "column", as_text("severity").alias("kind"))]
    if changed is not None and not changed.is_empty():
        frames.append(changed.select("row", "column", pl.lit("changed").alias("kind")))
    if updated is not None and not updated.is_empty():
        frames.append(updated.select(pl.col("row").cast(pl.Int64), pl.col("column").cast(pl.Int64),
                                     pl.lit("update").alias("kind")))
    weakness = -pl.col("kind").replace_strict(PRIORITY, default=0, return_dtype=pl.Int8)
    ordered = sorted_by(pl.concat(frames).with_columns(weakness.alias("_weakness")), "row", "column", "_weakness")
    first = ((pl.col("row") != pl.col("row").shift()) | (pl.col("column") != pl.col("column").shift())).fill_null(True)
    return ordered.filter(first).drop("_weakness")  # the strongest kind of each cell comes first


def note_texts(issues: pl.DataFrame, limit: int = MAX_NOTES) -> pl.DataFrame:
    """`row`, `column`, `text` for the first `limit` cells: every message and "Suggested: X"."""
    line = pl.when(pl.col("suggestion").is_not_null() & (pl.col("suggestion") != "")).then(
        pl.col("message") + pl.lit("\nSuggested: ") + pl.col("suggestion")
    ).otherwise(pl.col("message"))
    # the first cells picked before any text is built: a million-row report has half a million of them, and
    # one Int64 per cell (Excel has 16,384 columns) is deduplicated and ranked several times faster than the pair
    cell = pl.col("row").cast(pl.Int64) * 16_384 + pl.col("column") - 1
    first = issues.select(cell).to_series().unique().bottom_k(limit)
    return (
        issues.filter(cell.is_in(first.implode()))
        .with_columns(line.alias("text"))
        .group_by("row", "column")
        .agg(pl.col("text").str.join("\n"))
        .sort("row", "column")
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
        """Remove the logged marks of `kinds`; marks on sheets that no longer exist are dropped. Returns how
        many were removed (each rectangle of a fill mark counts)."""
        kinds = set(kinds)
        names = {s.name for s in self.book.sheets}
        kept, removed, fills = [], 0, []
        for mark in self.marks:
            if mark.kind not in kinds:
                kept.append(mark)
                continue
            removed += mark.address.count(",") + 1 if mark.kind == FILL else 1
            if mark.sheet not in names:
                continue
            if mark.kind == FILL:
                fills.append(mark)
                continue
            rng = self.book.sheets[mark.sheet].range(mark.address)
            if mark.kind == NOTE and self.caps.notes:
                note = rng.note
                if note is not None:
                    note.delete()
            elif mark.kind == DROPDOWN and self.caps.dropdowns:
                rng.data_validation.delete()
        self._unfill(fills)
        self.marks = kept
        return removed

    def _unfill(self, fills: list[Mark]) -> None:
        """clear_formats on every logged fill: the one "unfill" every client supports (the VBA client
        cannot set a colour of None); it only touches cells we painted."""
        append = _recorder(self.book)
        if not fills:
            return
        if append is None:
            for mark in fills:
                for area in mark.address.split(","):
                    self.book.sheets[mark.sheet].range(area).clear_formats()
            return
        frame = pl.DataFrame(fills, schema=["sheet", "address", "kind"], orient="row").select(
            "sheet", pl.col("address").str.split(",")).explode("address")
        boxes = pl.concat([frame, parse_addresses(frame["address"])], how="horizontal")
        positions = {s.name: s.index - 1 for s in self.book.sheets}
        ours = (pl.col("first_row").is_not_null() & pl.col("first_column").is_not_null()
                & (pl.col("last_row") >= pl.col("first_row")) & (pl.col("last_column") >= pl.col("first_column")))
        for sheet, address in boxes.filter(~ours.fill_null(False)).select("sheet", "address").iter_rows():
            self.book.sheets[sheet].range(address).clear_formats()  # not as we log them (edited?): xlwings reads it
        self._record("rangeClearFormats", boxes.filter(ours).select(
            pl.col("sheet").replace_strict(positions, return_dtype=pl.Int64).alias("position"),
            *_box, pl.lit(None, pl.String).alias("arg")))

    def _record(self, func: str, boxes: pl.DataFrame) -> None:
        """One remote-engine `func` action per row of `boxes` (`position`, `_box`, `arg`): the first recorded
        by xlwings, the others copies of it with their own box and argument (xlwings' recorder takes keyword
        arguments and looks each up again: over half a million rectangles that cost twice as much)."""
        if boxes.is_empty():
            return
        rows = zip(*(boxes[c].to_list() for c in ("position", "r", "c", "h", "w", "arg")), strict=True)
        p, r, c, h, w, arg = next(rows)
        append = cast(Callable[..., None], _recorder(self.book))
        append(func=func, args=arg, sheet_position=p, start_row=r, start_column=c, row_count=h, column_count=w)
        actions = self.book.json()["actions"]
        first = actions[-1]
        # one `args` list per distinct argument (a colour), shared: the actions are only ever serialised, and
        # a copy of `first` with its fields set costs half of a dict display merging `first` into new keys
        shared = {a: [a] for a in boxes["arg"].unique().to_list()}
        for p, r, c, h, w, arg in rows:
            action = first.copy()
            action["args"], action["sheet_position"], action["start_row"] = shared[arg], p, r
            action["start_column"], action["row_count"], action["column_count"] = c, h, w
            actions.append(action)

    # -------------------------------------------------------------- paint
    def fill(self, sheet: Any, rects: pl.DataFrame) -> int:
        """One colour action per rectangle of `rectangles()` (`kind` names the colour); returns how many."""
        if rects.is_empty():
            return 0
        boxes = rects.select(pl.lit(sheet.index - 1, pl.Int64).alias("position"), *_box,
                             pl.col("kind").replace_strict(COLORS, return_dtype=pl.String).alias("arg"))
        if _recorder(self.book) is None:
            for _, r, c, h, w, color in boxes.rows():
                sheet.range((r + 1, c + 1), (r + h, c + w)).color = color
        else:
            self._record("setRangeColor", boxes)
        name = sheet.name
        self.marks.extend(Mark(name, a, FILL) for a in joined_addresses(addresses(rects), MAX_MARK_CHARS))
        return rects.height

    def notes(self, sheet: Any, texts: pl.DataFrame) -> int:
        """A note on each cell of `texts` (`row`, `column`, `text`), unless the user has one there."""
        if not self.caps.notes:
            return 0
        # The remote engine's `add_note` first looks for a note on the cell by scanning every note of the
        # sheet (O(n²) over 500 notes: seconds); the payload lists the sheet's notes, so look once.
        listed = sheet.api.get("notes") if _recorder(self.book) is not None else None
        taken = None if listed is None else {str(n.get("address", "")).replace("$", "").upper() for n in listed}
        count = 0
        for row, column, text in texts.iter_rows():
            cell = sheet.range((row, column))
            if taken is not None:
                if cell.address.replace("$", "") in taken:  # the user's note, which we keep
                    self.notes_skipped += 1
                    continue
                cell.impl.add_note(text)  # what Range.add_note calls once the cell is known to be free
            else:
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
