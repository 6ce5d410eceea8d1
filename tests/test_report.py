"""The report's exports: JSON, errors CSV, results layout, safe fixes, Styler; no formula can leak out."""

import csv
import io

import hypothesis.strategies as st
import polars as pl
from hypothesis import given, settings

from bulkassist.io.cells import escape_frame, safe_cell
from tests.sheets import check

HEADER = ["Client ID", "First Name", "Last Name", "Date of Birth"]


def report():
    return check(HEADER, [["", "Maria", "Lopez", "1990-02-03"], ["", "=cmd|' /C calc'!A0", "Ray", "02/03/1990"],
                          ["100234", "", "", "13/25/1990"]], "client", "add")


def test_results_frame_has_the_seed_columns():
    results = report().results_frame()
    assert results.columns == ["Row Number", "Status", "Action", "Created/Updated ID", "Error Messages"]
    assert results.row(0) == (2, "Failed", None, None, "'1990-02-03' is not a date in MM/DD/YYYY; use '02/03/1990'")


def test_errors_csv_escapes_formulas():
    text = report().errors_csv()
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:4] == ["Row", "Column", "Field", "Value"]
    values = [r[3] for r in rows[1:]]
    assert "'=cmd|' /C calc'!A0" in values
    assert not any(cell.startswith(("=", "+", "-", "@")) for r in rows for cell in r)


def test_fixed_data_applies_safe_fixes_only():
    data, changes = report().fixed_data()
    assert data["Date of Birth"].to_list() == ["02/03/1990", "02/03/1990", "13/25/1990"]
    assert changes.select("row", "column", "suggestion").rows() == [(2, "Date of Birth", "02/03/1990")]


def test_styled_report_marks_bad_cells_and_carries_messages():
    html = report().styled().to_html()
    assert "#FFC7CE" in html
    assert "is not a real date" in html


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=20))
def test_no_escaped_cell_starts_a_formula(text):
    escaped = safe_cell(text)
    assert escaped[:1] not in ("=", "+", "-", "@", "\t", "\r")
    frame = escape_frame(pl.DataFrame({"a": [text]}))
    assert frame["a"][0] == escaped
