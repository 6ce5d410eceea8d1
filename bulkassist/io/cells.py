"""What may be written into a cell of a workbook or a CSV file.

A cell that begins with `=`, `+`, `-`, `@` (or a tab / carriage return that
Excel strips first) would be run as a formula when the file is opened. Every
writer in BulkAssist passes text through here, so no cell we write can start a
formula (CSV injection). A leading apostrophe makes Excel show the text as is.
"""

from __future__ import annotations

import re
from typing import Any

import polars as pl

FORMULA_START = re.compile(r"^[=+\-@\t\r]")
_FORMULA_START_PATTERN = r"^[=+\-@\t\r]"


def safe_cell(value: Any) -> Any:
    """`value` unless it is text that would start a formula, then that text behind an apostrophe."""
    if isinstance(value, str) and FORMULA_START.match(value):
        return "'" + value
    return value


def escape_expr(expr: pl.Expr) -> pl.Expr:
    """Vectorised `safe_cell` for a text column."""
    return pl.when(expr.str.contains(_FORMULA_START_PATTERN)).then(pl.lit("'") + expr).otherwise(expr)


def escape_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """Every text column of `frame` made safe to write."""
    return frame.with_columns(
        escape_expr(pl.col(name)).alias(name)
        for name, dtype in frame.schema.items()
        if dtype == pl.String
    )
