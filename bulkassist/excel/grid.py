"""Blocks of cells in and out: one 2-D read per sheet, one 2-D write per block.

Reads use `Range.raw_value`, the values as the engine holds them, and type
them a column at a time with polars: xlwings' own per-cell conversion costs
about a second per million cells, this a few dozen milliseconds. The remote
engine hands date cells over as ISO text ("1990-02-03T00:00:00.000Z") and
blanks as ""; the desktop engines give datetimes and None. Both become the
same typed columns.

Writes go through `excel_entry` (no written cell can start a formula: text
that begins like one, "=1+1", "+1 727 555 0101", "-5", goes behind Excel's
text marker, a leading apostrophe, which Excel keeps out of the value) and
write blanks as "" — a JSON null would leave the old value in place on
Excel's side. Values the system wants as text (a fixed SSN "012345678", a date
"02/03/1990", a list value "01") get the same marker: typed plainly, Excel
would turn them into numbers or dates again (and read "02/03" by the user's
locale).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import polars as pl

from bulkassist.io.cells import excel_entries, excel_entry

_ISO = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z?$"
_ISO_RE = re.compile(_ISO)


def read_block(sheet: Any, first: tuple[int, int], last: tuple[int, int]) -> list[tuple[Any, ...]]:
    """The raw values of a rectangle, always 2-D."""
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
        series = series.replace("", None)
        dates = series.str.contains(_ISO).fill_null(False)
        if dates.any():
            if (dates | series.is_null()).all():
                return series.str.slice(0, 19).str.to_datetime("%Y-%m-%dT%H:%M:%S")
            return _mixed(name, series.to_list())
    return series


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


def write_block(sheet: Any, row: int, col: int, rows: list[list[Any]], text: bool = False) -> None:
    """Write `rows` with its top-left cell at (row, col): one action, blanks as "", text made safe.

    `text`: every value is written as text (see `as_text`), not retyped by Excel.
    """
    if not rows:
        return
    width = max(len(r) for r in rows)
    entry = as_text if text else excel_entry
    body = [[("" if v is None else entry(v)) for v in r] + [""] * (width - len(r)) for r in rows]
    sheet.range((row, col), (row + len(body) - 1, col + width - 1)).raw_value = body


def write_escaped(sheet: Any, row: int, col: int, rows: list[list[Any]]) -> None:
    """Write `rows` whose text is already escaped for Excel (`bulkassist.io.cells` helpers): one action."""
    if rows:
        sheet.range((row, col), (row + len(rows) - 1, col + len(rows[0]) - 1)).raw_value = rows


def write_frame(sheet: Any, row: int, col: int, frame: pl.DataFrame, header: list[str] | None = None,
                pad_to: int = 0, text: bool = False) -> None:
    """A frame as one block (vectorised escaping), optionally under a header, padded with blank rows.

    `text`: every value is written as text (see `as_text`), not retyped by Excel.
    """
    cells = frame.select(pl.all().cast(pl.String))
    if text:
        cells = cells.select(pl.when(pl.col(c) == "").then(pl.col(c)).otherwise(pl.lit("'") + pl.col(c)).alias(c)
                             for c in cells.columns)
    else:
        cells = excel_entries(cells)
    body = cells.fill_null("").rows()
    rows: list[list[Any]] = ([list(header)] if header else []) + [list(r) for r in body]
    width = len(header) if header else frame.width
    rows += [[""] * width for _ in range(max(0, pad_to - len(rows)))]
    if rows:
        sheet.range((row, col), (row + len(rows) - 1, col + width - 1)).raw_value = rows
