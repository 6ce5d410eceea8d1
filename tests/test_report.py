"""The report's exports: JSON, errors CSV, results layout, safe fixes, Styler; no formula can leak out."""

import csv
import io
import re
from dataclasses import replace

import hypothesis.strategies as st
import polars as pl
import pytest
from hypothesis import given, settings
from polars.testing import assert_frame_equal

from bulkassist.engine.report import ERRORS_COLUMNS, summary_sentence
from bulkassist.io.cells import FORMULA_START, csv_expr, csv_text
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


def test_the_summary_sentence_is_one_line_shared_by_every_view_of_the_report():
    mixed = check(HEADER, [["", "Maria", "Lopez", "02/03/1990"], ["100234", "", "", ""], ["", "", "", ""],
                           ["", "Ann", "", "13/25/1990"]], "client", "add")
    sentence = mixed.summary_sentence()
    assert sentence == "Total 3, Valid 2 (Insert 1, Update 1), Error 1, Skipped 1"
    assert repr(mixed) == f"<Report client/add test.csv: {sentence}>"
    assert mixed._repr_html_().endswith(f"test.csv: {sentence}")
    assert mixed.styled().caption == f"Client · add · test.csv: {sentence}"
    # What the server and the client carry is the same summary, so a remote import reads the same way.
    assert summary_sentence(mixed.to_dict()["summary"]) == sentence


def test_the_errors_csv_has_the_errors_file_layout():
    rows = list(csv.reader(io.StringIO(report().errors_csv())))
    assert rows[0] == ERRORS_COLUMNS == ["Row", "Column", "Field", "Value", "Severity", "Code", "Message",
                                         "Suggestion"]


def test_fixed_data_applies_safe_fixes_only():
    data, changes = report().fixed_data()
    assert data["Date of Birth"].to_list() == ["02/03/1990", "02/03/1990", "13/25/1990"]
    assert changes.select("row", "column", "suggestion").rows() == [(2, "Date of Birth", "02/03/1990")]


def test_styled_report_marks_bad_cells_and_carries_messages():
    html = report().styled().to_html()
    assert "#FFC7CE" in html
    assert "is not a real date" in html


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.text(max_size=20), st.from_regex(r"\A[-+=@＝＋－＠﹦﹢﹣][0-9. e+-]{0,8}\Z")))
def test_no_csv_cell_starts_a_formula_but_a_plain_number(text):
    escaped = csv_text(text)
    assert escaped == text or escaped == "'" + text
    if re.match(FORMULA_START, escaped):
        assert float(escaped) == float(text)  # Excel reads it as this number, never as a formula
    assert pl.DataFrame({"a": [text]}).select(csv_expr(pl.col("a"))).to_series()[0] == escaped


@pytest.mark.parametrize(("value", "written"), [
    ("-5", "-5"), ("-5.25", "-5.25"), ("+2", "+2"), ("-1e3", "-1e3"), ("=1+1", "'=1+1"),
    ("+1 727 555 0101", "'+1 727 555 0101"), ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
    ("@SUM(A1)", "'@SUM(A1)"), ("＝1+1", "'＝1+1"), ("-x", "'-x"), ("\t=1", "'\t=1"), ("-", "'-"),
])
def test_csv_escapes_what_excel_would_run_and_leaves_signed_numbers(value, written):
    assert csv_text(value) == written


def test_file_and_cell_issues_split_the_issues_whatever_their_order():
    base = check(HEADER + ["Nickname"], [["", "Maria", "Lopez", "1990-02-03", "x"], ["", "", "", "13/25/1990", ""]],
                 "client", "add")  # an unmapped column: a file-level issue ahead of the cell issues
    extra = pl.DataFrame({"row": [None, 3], "code": ["late_file_note", "late"], "severity": ["warning", "error"],
                          "message": ["a file note", "a cell note"]}, schema_overrides={"row": pl.Int64})
    shuffled = replace(base, issues=base.issues.reverse())  # file issues last: the split cannot slice
    for rep in (base, base.add_issues(extra), shuffled):
        issues = rep.issues
        assert issues["row"].null_count() >= 1 and issues["row"].drop_nulls().len() >= 3
        assert_frame_equal(rep.file_issues, issues.filter(pl.col("row").is_null()))
        assert_frame_equal(rep.cell_issues, issues.filter(pl.col("row").is_not_null()))


def test_issue_labels_are_categorical_and_every_export_reads_them_as_the_same_text():
    """`column`, `field`, `code` and `severity` are Categorical (4 bytes an issue); nothing a person or the
    server reads changes: the same texts in the JSON, the errors CSV (escaped), the handed-out frames and the
    stored Parquet blob, and text issues added later join them."""
    from bulkassist.engine.report import LABEL_COLUMNS, issue_texts
    from bulkassist.server.frames import from_blob, to_blob

    rep = check(HEADER + ["=Nick"], [["", "Maria", "Lopez", "1990-02-03", "x"], ["", "", "", "13/25/1990", ""]],
                "client", "add")
    issues = rep.issues
    assert LABEL_COLUMNS == ["column", "field", "code", "severity"]
    assert all(issues.schema[name] == pl.Categorical for name in LABEL_COLUMNS)
    texts = issue_texts(issues)
    assert all(texts.schema[name] == pl.String for name in LABEL_COLUMNS)
    # The same values as a frame of plain text built from the JSON export (Python strings, no Categorical).
    assert_frame_equal(texts, pl.DataFrame(rep.to_dict()["issues"], schema=texts.schema).select(texts.columns))
    assert ("=Nick", None, "unmapped_column", "error") in texts.select(LABEL_COLUMNS).rows()
    assert (3, "First Name", "First Name", "required", "error") in texts.select("row", *LABEL_COLUMNS).rows()
    # The errors CSV: every issue, its labels escaped like any text, read back as the same texts.
    written = pl.read_csv(io.StringIO(rep.errors_csv()), infer_schema=False)
    assert written["Column"].to_list() == [
        None if c is None else csv_text(c) for c in texts.sort(["row", "col_index"], nulls_last=False)["column"]]
    assert written["Code"].to_list() == texts.sort(["row", "col_index"], nulls_last=False)["code"].to_list()
    assert all(dtype == pl.String for dtype in rep.errors_frame().dtypes[1:])
    assert all(str(dtype) in ("object", "str") for name, dtype in rep.issues_frame(as_="pandas").dtypes.items()
               if name in LABEL_COLUMNS)
    # The server's stored blob keeps them; issues added as text (the server's checks) join them.
    assert_frame_equal(from_blob(to_blob(issues)), issues)
    extra = pl.DataFrame({"row": [2], "field": ["Last Name"], "code": ["late"], "severity": ["warning"],
                          "message": ["a cell note"]})
    added = issue_texts(rep.add_issues(extra).issues)
    assert added.filter(pl.col("code") == "late").select(LABEL_COLUMNS[1:]).row(0) == ("Last Name", "late", "warning")
    assert_frame_equal(added.filter(pl.col("code") != "late"), texts.sort(["row", "col_index"], nulls_last=False))
