"""Blocks of cells in and out: one 2-D read per sheet, one 2-D write per block.

Reads use `Range.raw_value`, the values as the engine holds them, and type
them a column at a time with polars: xlwings' own per-cell conversion costs
about a second per million cells, this a few dozen milliseconds. The remote
engine hands date cells over as ISO text ("1990-02-03T00:00:00.000Z") and
blanks as ""; the desktop engines give datetimes and None. Both become the
same typed columns. A block of text cells only (what Office.js sends for a
sheet of typed text) goes into polars in one call (`frame`).

Writes go through `excel_entry` (no written cell can start a formula: text
that begins like one, "=1+1", "+1 727 555 0101", "-5", goes behind Excel's
text marker, a leading apostrophe, which Excel keeps out of the value) and
write blanks as "" — a JSON null would leave the old value in place on
Excel's side. Values the system wants as text (a fixed SSN "012345678", a date
"02/03/1990", a list value "01") get the same marker: typed plainly, Excel
would turn them into numbers or dates again (and read "02/03" by the user's
locale).

Every write is bounded: a block whose action would pass `MAX_ACTION_BYTES`
of JSON goes out as several row blocks, one action each (Excel on the web
refuses a request over 5 MB, and a million-row issue list is 100+ MB).
On the remote engine the values come straight from the payload Excel sent
(`sheet.api["values"]`, anchored at A1): its `raw_value` copies the whole
sheet into tuples and keeps them in a cache on every read.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Iterator, Sequence
from itertools import chain
from operator import itemgetter
from typing import Any

import numpy as np
import polars as pl

from bulkassist.io.cells import excel_entries, excel_entry

_ISO = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z?$"
_ISO_RE = re.compile(_ISO)
# Estimated JSON bytes of one action's values: blocks are cut below this (the remote engine's clients
# apply one action per request to Excel; Excel on the web refuses a request over 5 MB).
MAX_ACTION_BYTES = 4_000_000
# A character JSON may escape (control, quote, backslash, anything beyond ASCII: "\ud83d\ude00" is 12 bytes
# for a 4-byte emoji): counted at 8 extra bytes so the estimate is never below the real size.
_ESCAPED = r"[^ !#-\[\]-~]"


def payload_values(sheet: Any) -> list[list[Any]] | None:
    """The remote engine's A1-anchored cell values of `sheet` as Excel sent them, else None (desktop engines)."""
    api = sheet.api
    if isinstance(api, dict) and isinstance(api.get("values"), list):
        return api["values"]
    return None


def read_block(sheet: Any, first: tuple[int, int], last: tuple[int, int]) -> list[tuple[Any, ...]]:
    """The raw values of a rectangle, always 2-D (None outside what the sheet holds)."""
    grid = payload_values(sheet)
    if grid is not None:
        (r1, c1), (r2, c2) = first, last
        width = c2 - c1 + 1
        rows = [tuple(row[c1 - 1:c2]) for row in grid[r1 - 1:r2]]
        rows = [r if len(r) == width else r + (None,) * (width - len(r)) for r in rows]
        return rows + [(None,) * width] * (r2 - r1 + 1 - len(rows))
    values = sheet.range(first, last).raw_value
    if not isinstance(values, (list, tuple)):
        return [(values,)]
    if values and not isinstance(values[0], (list, tuple)):
        # one row or one column comes back flat on some engines
        return [tuple(values)] if first[0] == last[0] else [(v,) for v in values]
    return [tuple(r) for r in values]


def text(value: Any) -> str:
    """A header or setting cell as text ("" for a blank)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def column(name: str, values: list[Any] | tuple[Any, ...]) -> pl.Series:
    """One column of raw cell values as a typed polars Series (String, Float64, Datetime, Boolean...)."""
    try:
        series = pl.Series(name, values, strict=True)
    except (TypeError, pl.exceptions.PolarsError, OverflowError):
        return _mixed(name, values)
    if series.dtype == pl.String:
        return _text_column(series.replace("", None))
    return series


def _text_column(series: pl.Series) -> pl.Series:
    """A column of text cells (blanks null): ISO date text, as the remote engine sends date cells, typed."""
    dates = series.str.contains(_ISO).fill_null(False)
    if dates.any():
        if (dates | series.is_null()).all():
            return series.str.slice(0, 19).str.to_datetime("%Y-%m-%dT%H:%M:%S")
        return _mixed(series.name, series.to_list())
    return series


def frame(names: list[str], rows: Sequence[Sequence[Any]]) -> pl.DataFrame:
    """The first `len(names)` cells of every row (each row at least that long) as typed columns (`column`)."""
    fast = _text_frame(names, rows)
    if fast is not None:
        return fast
    return pl.DataFrame([column(n, list(map(itemgetter(i), rows))) for i, n in enumerate(names)])


def _text_frame(names: list[str], rows: Sequence[Sequence[Any]]) -> pl.DataFrame | None:
    """`frame` of a block whose cells are all text, else None.

    Turning 13 million Python strings into polars columns one by one costs
    seconds (a Python list per column first). Here every cell goes, row after
    row, into one polars String series in a single call (no separator, so no
    cell text can be mangled), and column i is every `width`-th cell from i.
    The block goes the per-cell way when a cell is not a string (TypeError),
    is None (a column of blanks only is typed Null there) or cannot be
    encoded (a lone surrogate).
    """
    width = len(names)
    if not rows or not width:
        return None
    exact = all(n == width for n in map(len, rows))
    try:
        cells = pl.Series(list(chain.from_iterable(rows if exact else (r[:width] for r in rows))),
                          dtype=pl.String, strict=True)
    except (TypeError, UnicodeEncodeError, pl.exceptions.PolarsError):
        return None
    if cells.null_count() or cells.len() != len(rows) * width:  # a None; a row narrower than the header
        return None
    blanked = pl.select(pl.when(cells != "").then(cells)).to_series()  # a blank cell ("") is null, as in `column`
    return pl.DataFrame([_text_column(blanked.gather_every(width, i).alias(n)) for i, n in enumerate(names)])


def _mixed(name: str, values: Any) -> pl.Series:
    """A column mixing kinds of cells: blanks to None, ISO date text to datetimes, then typed if possible."""
    cleaned = [
        None if v == "" else dt.datetime.fromisoformat(v[:19]) if isinstance(v, str) and _ISO_RE.match(v) else v
        for v in values
    ]
    try:
        return pl.Series(name, cleaned, strict=True)
    except (TypeError, pl.exceptions.PolarsError, OverflowError):
        return pl.Series(name, cleaned, dtype=pl.Object)


def as_text(value: Any) -> Any:
    """`value` written so Excel stores exactly this text (blanks stay blank)."""
    if value is None or value == "":
        return value
    return "'" + str(value)


def blocks(sizes: Sequence[int] | np.ndarray, cap: int | None = None) -> Iterator[tuple[int, int]]:
    """(start, stop) row slices whose summed `sizes` stay within `cap` (default `MAX_ACTION_BYTES`; a bigger
    row goes alone). Each block takes rows while its total fits, found by a binary search of the running
    totals: a step per block, not per row (a million-row issue list is two dozen blocks)."""
    cap = MAX_ACTION_BYTES if cap is None else cap
    totals = np.cumsum(np.asarray(sizes, dtype=np.int64))  # totals[i]: rows 0..i
    start = 0
    while start < len(totals):
        before = int(totals[start - 1]) if start else 0
        stop = max(start + 1, int(np.searchsorted(totals, before + cap, side="right")))
        yield start, stop
        start = stop


def _write_rows(sheet: Any, row: int, col: int, width: int, sizes: Sequence[int] | np.ndarray,
                take: Callable[[int, int], list[list[Any]]]) -> None:
    """Rows `take(start, stop)` at (row, col) in as few bounded actions as `blocks(sizes)` allows."""
    for start, stop in blocks(sizes):
        sheet.range((row + start, col), (row + stop - 1, col + width - 1)).raw_value = take(start, stop)


def write_block(sheet: Any, row: int, col: int, rows: list[list[Any]], text: bool = False) -> None:
    """Write `rows` with its top-left cell at (row, col): blanks as "", text made safe, one action per bounded block.

    `text`: every value is written as text (see `as_text`), not retyped by Excel.
    """
    if not rows:
        return
    width = max(len(r) for r in rows)
    entry = as_text if text else excel_entry
    body = [[("" if v is None else entry(v)) for v in r] + [""] * (width - len(r)) for r in rows]
    # each row's JSON plus the ", " before the next one
    _write_rows(sheet, row, col, width, [len(json.dumps(r, default=str)) + 2 for r in body],
                lambda start, stop: body[start:stop])


def write_escaped(sheet: Any, row: int, col: int, rows: list[list[Any]]) -> None:
    """Write `rows` whose text is already escaped for Excel (`bulkassist.io.cells` helpers): one action."""
    if rows:
        sheet.range((row, col), (row + len(rows) - 1, col + len(rows[0]) - 1)).raw_value = rows


def write_frame(sheet: Any, row: int, col: int, frame: pl.DataFrame, header: list[str] | None = None,
                pad_to: int = 0, text: bool = False) -> None:
    """A frame in bounded blocks (vectorised escaping), optionally under a header, padded with blank rows.

    `text`: every value is written as text (see `as_text`), not retyped by Excel.
    """
    cells = frame.select(pl.all().cast(pl.String))
    if text:
        cells = cells.select(pl.when(pl.col(c) == "").then(pl.col(c)).otherwise(pl.lit("'") + pl.col(c)).alias(c)
                             for c in cells.columns)
    else:
        cells = excel_entries(cells)
    cells = cells.fill_null("")
    width = len(header) if header else frame.width
    # JSON bytes of each row, never under the real size: quotes and ", " per value, brackets per row
    body = cells.select(
        pl.sum_horizontal(pl.col(c).str.len_bytes() + 8 * pl.col(c).str.count_matches(_ESCAPED) + 4
                          for c in cells.columns) + 4
    ).to_series().to_numpy() if cells.width else np.full(cells.height, 4)
    top = 1 if header else 0
    blank = max(0, pad_to - top - cells.height)
    sizes = np.concatenate([np.array([len(json.dumps(list(header))) + 2] if header else [], dtype=np.int64),
                            body.astype(np.int64), np.full(blank, 4 * width + 4, dtype=np.int64)])

    def take(start: int, stop: int) -> list[list[Any]]:
        """Rows start..stop of header + cells + blank rows, made Python lists a block at a time (a column at a
        time: polars hands out whole columns faster than row tuples)."""
        out: list[list[Any]] = [list(header)] if header and start == 0 else []
        first, last = max(start - top, 0), min(stop - top, cells.height)
        if last > first:
            out += map(list, zip(*(c.to_list() for c in cells.slice(first, last - first).get_columns()), strict=True))
        out += [[""] * width for _ in range(stop - max(start, top + cells.height))]
        return out

    if len(sizes):
        _write_rows(sheet, row, col, width, sizes, take)
