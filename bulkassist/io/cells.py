"""The one formula guard: which text a spreadsheet would run, and how each writer keeps it text.

A text is *formula-like* when it begins with `=`, `+`, `-` or `@`, with their full-width or small
forms (＝ ＋ － ＠ ﹦ ﹢ ﹣: Excel with an East-Asian input method takes ＝ as =), or with a tab or
line break (stripped first). Typed into Excel, or read by Excel from a CSV file, such a text may
become a formula (CSV injection: `=HYPERLINK(...)`, `-2+3+cmd|' /C calc'!A0`). Each writer
neutralises it the way its format allows, without changing the value wherever the format can hold it:

* XLSX (`bulkassist.io.xlsx`): the text is written as it is in an inline-string cell, which is never
  a formula, with the quote-prefix style (Excel's "text, as typed": it stays text when edited).
  Every reader — openpyxl, `read_table`, Excel, LibreOffice — gets exactly the value.
* Excel through its API (`bulkassist.excel.grid`): `excel_entry` writes an apostrophe first, which
  Excel takes as the quote prefix and keeps out of the value.
* CSV (`bulkassist.io.csv`): a CSV cell has no style, so `csv_expr` puts an apostrophe in front, and
  it becomes part of the text (OWASP's advice). Only where Excel would run the cell: a plain signed
  number (`-5`, `+2.5`, `-1e3`) is read by Excel as that number, never as a formula, and is written
  as it is.

Validation warns about formula-like values (`would_be_formula`), so a person knows the apostrophe
will show in the CSV files made from them.
"""

from __future__ import annotations

import re
from typing import Any

import polars as pl

# What a spreadsheet reads as the start of a formula, as regex character-class text.
FORMULA_STARTERS = "=+\\-@\t\r\n\uff1d\uff0b\uff0d\uff20\ufe66\ufe62\ufe63"
FORMULA_START = f"^[{FORMULA_STARTERS}]"
# Control characters such as NUL (databases refuse them), and the invisible characters a copy from a web
# page or a PDF leaves in a cell (zero-width space U+200B, word joiner U+2060, a byte-order mark U+FEFF
# inside the text), which no name, address or code holds: "a\u200b@b.com" reads as an address to a
# person and is none to a mail server. As regex character-class text.
CONTROL_CHARACTERS = r"\x00-\x08\x0b\x0c\x0e-\x1f\x{200B}\x{2060}\x{FEFF}"
CONTROL_CHARACTER = f"[{CONTROL_CHARACTERS}]"
# Text that needs no look as typed: not blank, no surrounding space, no formula start, no control
# character. Validation checks such cells no further for these hazards (`CellKind.as_typed`).
PLAIN_TEXT = rf"^[^\s{FORMULA_STARTERS}{CONTROL_CHARACTERS}](?:[^{CONTROL_CHARACTERS}]*[^\s{CONTROL_CHARACTERS}])?$"
# What Excel's API takes as typed input to interpret: a formula start, or its own text marker.
_EXCEL_INTERPRETS = f"^['{FORMULA_STARTERS}]"
# A signed decimal number: Excel reads it as the number (no formula); "+1 727 555 0101" is not one.
_PLAIN_NUMBER = r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$"
_FORMULA_START_RE = re.compile(FORMULA_START)
_PLAIN_NUMBER_RE = re.compile(_PLAIN_NUMBER)
_EXCEL_INTERPRETS_RE = re.compile(_EXCEL_INTERPRETS)


def starts_formula(expr: pl.Expr) -> pl.Expr:
    """True where the text begins like a formula (plain signed numbers included): the XLSX writer
    gives these cells the quote-prefix style."""
    return expr.str.contains(FORMULA_START)


def would_be_formula(expr: pl.Expr) -> pl.Expr:
    """True where Excel, reading the text as typed input, would take it as a formula (a plain signed
    number is not one)."""
    return starts_formula(expr) & ~expr.str.contains(_PLAIN_NUMBER)


def csv_expr(expr: pl.Expr) -> pl.Expr:
    """A text column made safe for a CSV cell: an apostrophe before every text that would be a formula."""
    return pl.when(would_be_formula(expr)).then(pl.lit("'") + expr).otherwise(expr)


def csv_text(value: str) -> str:
    """`csv_expr` for one text (a header)."""
    if _FORMULA_START_RE.match(value) and not _PLAIN_NUMBER_RE.match(value):
        return "'" + value
    return value


def is_formula_like(value: str) -> bool:
    """`starts_formula` for one text (a header)."""
    return _FORMULA_START_RE.match(value) is not None


def excel_entry(value: Any) -> Any:
    """`value` to hand to Excel's API: text that Excel would interpret behind the apostrophe it keeps out
    of the value.

    That is formula-like text — a plain signed number such as "-5" too, so the cell keeps the text rather
    than becoming a number — and text that begins with an apostrophe, which Excel would take as its marker.
    """
    if isinstance(value, str) and _EXCEL_INTERPRETS_RE.match(value):
        return "'" + value
    return value


def excel_entries(frame: pl.DataFrame) -> pl.DataFrame:
    """`excel_entry` for every text column of `frame`, vectorised."""
    return frame.with_columns(
        pl.when(pl.col(name).str.contains(_EXCEL_INTERPRETS)).then(pl.lit("'") + pl.col(name))
        .otherwise(pl.col(name)).alias(name)
        for name, dtype in frame.schema.items()
        if dtype == pl.String
    )


def excel_text_entries(frame: pl.DataFrame) -> pl.DataFrame:
    """Every non-blank text cell of `frame` behind Excel's text apostrophe, vectorised: Excel keeps exactly
    the text (a date-like "01/02/1990" is not retyped as a date) and no cell can become a formula."""
    return frame.with_columns(
        pl.when(pl.col(name).is_null() | (pl.col(name) == "")).then(pl.col(name))
        .otherwise(pl.lit("'") + pl.col(name)).alias(name)
        for name, dtype in frame.schema.items()
        if dtype == pl.String
    )
