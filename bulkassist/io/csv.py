"""The one CSV writer of BulkAssist: errors files, results, exports, fixed data, templates.

Files are for Excel: UTF-8 with a BOM (so accents read right), CRLF line ends, every cell text and
none starting a formula. polars writes the rows, so a million rows cost no Python call per row.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import polars as pl

from bulkassist.io.cells import escape_expr, safe_cell

_UTF8_BOM = b"\xef\xbb\xbf"


def write_csv(body: pl.DataFrame, path: Path, separator: str, headers: list[str] | None = None) -> Path:
    """Write `body` to `path` with `csv_bytes` (creating the folder); the path written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(csv_bytes(body, headers=headers, separator=separator))
    return path


def csv_bytes(frame: pl.DataFrame, *, headers: list[str] | None = None, separator: str = ",") -> bytes:
    """`frame` as a CSV file for Excel: UTF-8 with BOM, CRLF, every cell text, none starting a formula."""
    body = frame.select(escape_expr(pl.col(c).cast(pl.String)).alias(c) for c in frame.columns)
    buf = io.BytesIO()
    buf.write(_UTF8_BOM + _csv_line(headers if headers is not None else body.columns, separator).encode("utf-8"))
    body.write_csv(buf, separator=separator, include_header=False, line_terminator="\r\n", quote_style="necessary")
    return buf.getvalue()


def _csv_line(values: list[str], separator: str) -> str:
    """One CSV record (quoted where needed, formula starts escaped), ending in CRLF."""
    buf = io.StringIO()
    csv.writer(buf, delimiter=separator, lineterminator="\r\n").writerow([safe_cell(v) for v in values])
    return buf.getvalue()

