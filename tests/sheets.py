"""Builders for the messy files tests feed the validator: CSV text as Excel writes it, and typed XLSX."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import polars as pl

import bulkassist


def csv_text(header: list[str], rows: list[list[Any]], sep: str = ",") -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=sep, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows([["" if v is None else v for v in row] for row in rows])
    return buf.getvalue()


def write_csv(path: Path, header: list[str], rows: list[list[Any]], *, sep: str = ",", encoding: str = "utf-8",
              bom: bool = False) -> Path:
    data = csv_text(header, rows, sep).encode(encoding)
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data)
    return path


def write_xlsx(path: Path, header: list[str], rows: list[list[Any]], *, sheet: str = "Sheet1") -> Path:
    """An XLSX whose cells keep their Python types: datetime -> date cell, int/float -> number cell."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = sheet
    ws.append(header)
    for row in rows:
        ws.append(row)
    wb.save(path)
    return path


def check(header: list[str], rows: list[list[Any]], domain: str, operation: str | None = None,
          **kwargs: Any) -> bulkassist.Report:
    """Validate rows given as a CSV file would hold them."""
    return bulkassist.validate(csv_text(header, rows).encode(), domain, operation, name="test.csv", **kwargs)


def issue_at(report: bulkassist.Report, row: int, column: str) -> dict[str, Any]:
    """The single issue on one cell (fails the test when there is none or several)."""
    found = report.issues.filter((pl.col("row") == row) & (pl.col("column") == column))
    assert found.height == 1, f"expected one issue at row {row} {column!r}, got {found.to_dicts()}"
    return found.to_dicts()[0]


def action(report: bulkassist.Report, row: int) -> str:
    return report.rows.filter(pl.col("row") == row)["action"][0]
