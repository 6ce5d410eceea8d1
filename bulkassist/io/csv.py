"""The one CSV writer of BulkAssist: errors files, results, exports, fixed data, templates.

Files are for Excel: UTF-8 with a BOM (so accents read right), CRLF line ends, every cell text and
none that Excel would run as a formula (`bulkassist.io.cells.csv_expr`: an apostrophe in front, which
stays part of the text; a plain signed number such as -5 is left as it is). polars writes the rows,
so a million rows cost no Python call per row.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import polars as pl

from bulkassist.io.cells import csv_expr, csv_text

_UTF8_BOM = b"\xef\xbb\xbf"


def write_csv(body: pl.DataFrame, path: Path, separator: str, headers: list[str] | None = None) -> Path:
    """Write `body` to `path` with `csv_bytes` (creating the folder); the path written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(csv_bytes(body, headers=headers, separator=separator))
    return path


def csv_bytes(frame: pl.DataFrame, *, headers: list[str] | None = None, separator: str = ",") -> bytes:
    """`frame` as a CSV file for Excel: UTF-8 with BOM, CRLF, every cell text, none that Excel would run."""
    body = frame.select(csv_expr(pl.col(c).cast(pl.String)).alias(c) for c in frame.columns)
    buf = io.BytesIO()
    buf.write(_UTF8_BOM + _csv_line(headers if headers is not None else body.columns, separator).encode("utf-8"))
    body.write_csv(buf, separator=separator, include_header=False, line_terminator="\r\n", quote_style="necessary")
    return buf.getvalue()


def csv_size(headers: list[str], frame: pl.DataFrame) -> int:
    """The bytes `headers` and `frame` take as a plain UTF-8 CSV (separator and line end one byte each, no
    quoting): how large a file of these rows is, whichever way they arrived (a file, a sheet, batches)."""
    head = sum(len(h.encode("utf-8")) for h in headers) + len(headers)
    if not frame.width or not frame.height:
        return head if headers else 0
    cells = frame.select(pl.sum_horizontal(pl.all().cast(pl.String).str.len_bytes().fill_null(0)).sum()).item()
    return head + int(cells or 0) + frame.height * frame.width


def _csv_line(values: list[str], separator: str) -> str:
    """One CSV record (quoted where needed, formulas escaped), ending in CRLF."""
    buf = io.StringIO()
    csv.writer(buf, delimiter=separator, lineterminator="\r\n").writerow([csv_text(v) for v in values])
    return buf.getvalue()

