"""A sheet's cells become the same typed frame whichever way they are read.

`grid.frame` reads a block of text cells (what Office.js sends for typed
text) into one polars series in a single call and cuts it into columns; any
other block goes cell by cell through `grid.column`. The two must agree on
every cell, above all on text a reader could mangle: separators, a carriage
return, a byte-order mark, quotes, line breaks, blanks.
"""

from __future__ import annotations

from operator import itemgetter

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import bulkassist.excel as bx
from bulkassist.excel.grid import column, frame
from tests.test_excel_support import (
    _offline,  # noqa: F401 - autouse fixture
    cells,
    client_rows,
    engine_fixture,  # noqa: F401 - the `engine` fixture
    make_payload,
    of,
    open_book,
    template_book,
)

# Characters a text reader may treat specially, and some it must pass through untouched.
TRICKY = ["\x1f", "\x1e", "\r", "\n", "\r\n", "\ufeff", '"', "'", ",", ";", "\t", " ", "\x00", "é", "😀", "=1+1",
          "2020-01-02T00:00:00.000Z", "NA", "null", "#"]


def cell_by_cell(names: list[str], rows: list[list]) -> pl.DataFrame:
    """The frame the per-cell path builds: one `column` per header."""
    return pl.DataFrame([column(n, list(map(itemgetter(i), rows))) for i, n in enumerate(names)])


def assert_same(read: pl.DataFrame, expected: pl.DataFrame) -> None:
    """Same names, dtypes and cells (polars' own comparison refuses Object columns: mixed cells)."""
    assert read.schema == expected.schema
    assert read.to_dict(as_series=False) == expected.to_dict(as_series=False)


cell_text = st.lists(st.sampled_from(TRICKY) | st.text(max_size=4), max_size=4).map("".join)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(1, 4).flatmap(lambda width: st.lists(st.lists(cell_text, min_size=width, max_size=width),
                                                         min_size=1, max_size=6)))
def test_text_cells_read_as_one_block_equal_the_cells_read_one_by_one(rows):
    names = [f"h{i}" for i in range(len(rows[0]))]
    assert_same(frame(names, rows), cell_by_cell(names, rows))


def test_separators_carriage_returns_and_byte_order_marks_are_read_exactly():
    names = ["a", "b", "c"]
    for bad in ["x\x1f", "\x1f", "x\x1e", "\x1e", "end\r", "\r", "\ufeffbom", "a\x1fb\x1ec"]:
        for position in range(3):
            rows = [["p", "q", "r"], ["s", "t", "u"]]
            rows[1][position] = bad
            rows[0][position] = bad if bad.startswith("\ufeff") else rows[0][position]
            read = frame(names, rows)
            assert read.row(1)[position] == bad and read.row(0)[position] == rows[0][position]


def test_a_mixed_block_and_rows_wider_than_the_header_read_as_cell_by_cell():
    names = ["id", "name", "born"]
    rows = [[1.0, "Ann", "1990-02-03T00:00:00.000Z", "extra"], ["", "Bo", "", 5.0], ["x", "", "1991-01-01T00:00:00Z", ""]]
    narrow = [r[:3] for r in rows]
    assert_same(frame(names, rows), cell_by_cell(names, narrow))
    text = [[str(v) for v in r] for r in rows]
    read = frame(names, text)
    assert_same(read, cell_by_cell(names, [r[:3] for r in text]))
    assert read["born"].dtype == pl.Datetime  # ISO text, as the remote engine sends date cells: dates


def test_text_with_empty_cells_and_a_column_of_nones_reads_as_cell_by_cell():
    names = ["a", "b", "c"]
    for rows in ([["x", None, ""], ["", None, "y"]], [["x", "p", None], ["", "q", "z"]]):
        assert_same(frame(names, rows), cell_by_cell(names, rows))
    assert frame(names, [["x", None, ""], ["", None, "y"]])["b"].dtype == pl.Null


def test_a_sheet_of_text_is_validated_and_marked_cell_for_cell(engine):
    rows = client_rows()
    header, base = rows[0], ["" if v is None else v for v in rows[1]]
    assert all(isinstance(v, str) for v in base)  # a text-only sheet: the one-call read
    email = header.index("Email Address")
    typed = ['a"b,c', "line\nbreak", "tab\tx", "😀 at example", "=1+1"]
    records = []
    for value in typed:
        record = list(base)
        record[email] = value
        records += [record, [""] * len(header)]  # a blank row after each: row numbers must still match
    payload = make_payload(template_book("client", [header, *records]))
    book = open_book(payload, engine)
    report = bx.validate(book)
    bad = report.cell_issues.filter(pl.col("col_index") == email).unique("row", maintain_order=True)
    assert bad["row"].to_list() == [2 + 2 * i for i in range(len(typed))]
    assert bad["value"].to_list() == typed
    marked = set().union(*(cells(a) for a in of(book.json()["actions"], "setRangeColor", 0)))
    assert {(r, email + 1) for r in bad["row"].to_list()} <= marked
    assert frame(["only"], [["a"], [""], ["b"]])["only"].to_list() == ["a", None, "b"]
