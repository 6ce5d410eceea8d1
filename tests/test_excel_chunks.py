"""Painting a big sheet in bounded chunks has exactly the effect of painting it cell by cell.

Fills are merged into rectangles and recorded straight through the remote
engine's action recorder; value blocks are cut so no action passes
`MAX_ACTION_BYTES`. Each test plays the chunked actions and a reference
(one action per cell, or one unbounded write) back onto the same book model
and compares the cells and their colours. Runs on xlwings' real remote engine
(when licensed) and on the recording fake.
"""

from __future__ import annotations

import json

import numpy as np
import polars as pl

import bulkassist.excel as bx
import bulkassist.excel.grid as grid
import bulkassist.excel.painter as painter_module
from bulkassist.engine.report import SHEET_ERRORS_COLUMNS
from bulkassist.excel.painter import (
    COLORS,
    Capabilities,
    Painter,
    addresses,
    joined_addresses,
    parse_addresses,
    rectangles,
    sorted_by,
)
from bulkassist.excel.settings import ISSUES_COL, MARKS_COL, SETTINGS_SHEET
from tests.test_excel_support import (
    _offline,  # noqa: F401 - autouse fixture
    apply_actions,
    cells,
    client_rows,
    engine_fixture,  # noqa: F401 - the `engine` fixture
    make_payload,
    of,
    open_book,
    sheet_values,
    template_book,
)

ROWS, COLS = 600, 14


def painted(actions: list[dict], sheet: int = 0) -> dict[tuple[int, int], str]:
    """The fill of every cell after `actions` (set by setRangeColor, removed by rangeClearFormats)."""
    colours: dict[tuple[int, int], str] = {}
    for a in actions:
        if a["sheet_position"] != sheet:
            continue
        if a["func"] == "setRangeColor":
            colours.update(dict.fromkeys(cells(a), a["args"][0]))
        elif a["func"] == "rangeClearFormats":
            for cell in cells(a):
                colours.pop(cell, None)
    return colours


def random_marks(seed: int = 3) -> pl.DataFrame:
    """Scattered cells of three kinds plus blocks and stripes of one kind: what a big report looks like."""
    rng = np.random.default_rng(seed)
    kinds = np.array(["error", "warning", "changed"])
    mask = rng.random((ROWS, COLS)) < 0.08
    mask[100:160, 2:6] = True  # a block of rows typed wrongly
    mask[300:302, :] = True  # whole rows
    rows, cols = np.nonzero(mask)
    kind = kinds[rng.integers(0, 3, rows.size)]
    kind[(rows >= 100) & (rows < 160) & (cols >= 2) & (cols < 6)] = "error"
    kind[(rows >= 300) & (rows < 302)] = "warning"
    return pl.DataFrame({"row": rows + 2, "column": cols + 1, "kind": kind}, schema={
        "row": pl.Int64, "column": pl.Int64, "kind": pl.String})


def test_rectangles_tile_exactly_the_marked_cells():
    marks = random_marks()
    rects = rectangles(marks)
    covered = {}
    for r1, r2, c1, c2, kind in rects.iter_rows():
        for r in range(r1, r2 + 1):
            for c in range(c1, c2 + 1):
                assert (r, c) not in covered
                covered[(r, c)] = kind
    assert covered == {(r, c): k for r, c, k in marks.iter_rows()}
    assert rects.height < marks.height - 250  # the block (240 cells) and the stripes (28) merge
    assert rects.filter(pl.col("last_column") > pl.col("first_column")).height > 0


def test_sorting_by_one_packed_key_orders_as_sorting_by_the_columns():
    rng = np.random.default_rng(5)
    frame = pl.DataFrame({"kind": rng.choice(["warning", "error", "changed", "update"], 5000),
                          "row": rng.integers(-3, 40, 5000), "column": rng.integers(1, 16385, 5000)})
    for keys in (("kind", "row", "column"), ("column", "kind", "row"), ("row", "column")):
        assert sorted_by(frame, *keys).select(keys).equals(frame.sort(*keys).select(keys))
    with_null = frame.with_columns(pl.when(pl.col("row") == 0).then(None).otherwise(pl.col("kind")).alias("kind"))
    assert sorted_by(with_null, "kind", "row").select("kind", "row").equals(
        with_null.sort("kind", "row").select("kind", "row"))


def test_addresses_round_trip_beyond_column_z():
    rects = pl.DataFrame({"first_row": [1, 7, 1048576], "last_row": [1, 9, 1048576],
                          "first_column": [1, 26, 16384], "last_column": [1, 28, 16384]})
    written = addresses(rects)
    assert written.to_list() == ["$A$1", "$Z$7:$AB$9", "$XFD$1048576"]
    assert parse_addresses(written).to_dicts() == rects.to_dicts()
    assert parse_addresses(pl.Series(["A1,B2", "nonsense"])).null_count().sum_horizontal().item() == 8


def test_chunked_fills_paint_what_cell_by_cell_fills_paint(engine):
    payload = make_payload({"Data": [["x"] * COLS for _ in range(ROWS + 1)], "Other": [["y"]]})
    marks = random_marks()

    reference = open_book(payload, engine)
    sheet = reference.sheets["Data"]
    for row, column, kind in marks.iter_rows():
        sheet.range((row, column)).color = COLORS[kind]
    expected = painted(reference.json()["actions"])

    book = open_book(payload, engine)
    painter = Painter(book, Capabilities.of(book))
    count = painter.fill(book.sheets["Data"], rectangles(marks))
    actions = book.json()["actions"]
    assert painted(actions) == expected and len(expected) == marks.height
    assert count == len(actions) < marks.height - 250

    # each action is the one xlwings' own Range records for that rectangle
    public = open_book(payload, engine)
    for r1, r2, c1, c2, kind in rectangles(marks).iter_rows():
        public.sheets["Data"].range((r1, c1), (r2, c2)).color = COLORS[kind]
    assert actions == public.json()["actions"]

    # and the logged marks clear exactly those cells, each once, nothing else
    again = open_book(payload, engine)
    Painter(again, Capabilities.of(again), painter.marks).clear()
    cleared = of(again.json()["actions"], "rangeClearFormats", 0)
    assert sum(a["row_count"] * a["column_count"] for a in cleared) == len(expected)
    assert painted(actions + again.json()["actions"]) == {}


def test_a_value_block_over_the_cap_is_written_in_bounded_blocks_with_the_same_result(engine, monkeypatch):
    rng = np.random.default_rng(11)
    words = ["plain", "=1+1", "-5", "'quoted", "Zoë", "名前", "😀 smile", 'say "hi"', "back\\slash", "line\nbreak", ""]
    frame = pl.DataFrame({f"c{i}": [words[j] for j in rng.integers(0, len(words), 3000)] for i in range(4)})
    payload = make_payload({"Sheet1": [["x"]]})

    whole = open_book(payload, engine)
    grid.write_frame(whole.sheets[0], 2, 3, frame, header=["a", "b", "c", "d"], pad_to=3200)
    assert len(whole.json()["actions"]) == 1

    monkeypatch.setattr(grid, "MAX_ACTION_BYTES", 20_000)
    book = open_book(payload, engine)
    grid.write_frame(book.sheets[0], 2, 3, frame, header=["a", "b", "c", "d"], pad_to=3200)
    grid.write_block(book.sheets[0], 2, 9, [[v] for v in frame["c0"].to_list()])
    actions = book.json()["actions"]
    assert len(actions) > 10
    for a in actions:
        assert len(json.dumps(a["values"])) <= 20_000  # what the estimate promised, escaping included
    chunked = sheet_values(apply_actions(payload, actions), "Sheet1")
    reference = sheet_values(apply_actions(payload, whole.json()["actions"]), "Sheet1")
    assert [row[:6] for row in chunked] == reference  # columns C:F, header on row 2, blanks to row 3201
    assert len(reference) == 3201 and reference[1][2:] == ["a", "b", "c", "d"]
    assert [row[8] for row in chunked[1:3001]] == [row[2] for row in reference[2:3002]]


def _clients_with_two_mistakes_each(count: int, seed: int) -> tuple[list, list[list]]:
    """The client header and `count` rows, each with two of e-mail, phone, SSN, date and sponsor wrong."""
    header, good = client_rows()[0], client_rows()[1]
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(count):
        row = list(good)
        row[header.index("First Name")] = f"Ann{i}"
        for c in rng.choice([3, 4, 5, 6, 8], size=2, replace=False):  # e-mail, phone, SSN, date, sponsor
            row[c] = f"wrong {i}"
        rows.append(row)
    return header, rows


def test_no_action_of_a_big_sheets_validate_passes_the_cap(engine, monkeypatch):
    """A few thousand rows, every one with mistakes; the cap lowered so the issue list and marks log split."""
    monkeypatch.setattr(grid, "MAX_ACTION_BYTES", 100_000)
    header, rows = _clients_with_two_mistakes_each(3000, seed=2)
    payload = make_payload(template_book("client", [header, *rows]))
    book = open_book(payload, engine)
    report = bx.validate(book)
    actions = book.json()["actions"]
    sizes = [len(json.dumps(a)) for a in actions]
    assert max(sizes) <= 100_000 + 1_000  # the values within the cap, plus the action's own fields
    # the issue list still holds every issue, in order, across its blocks
    settings_pos = [s.name for s in book.sheets].index(SETTINGS_SHEET)
    assert len([a for a in of(actions, "setValues", settings_pos) if a["start_column"] + 1 == ISSUES_COL]) > 1
    listed = sheet_values(apply_actions(payload, actions), SETTINGS_SHEET)
    block = [row[ISSUES_COL - 1:ISSUES_COL + 5] for row in listed[1:report.issues.height + 1]]
    expected = report.errors_frame().select(pl.col(SHEET_ERRORS_COLUMNS).cast(pl.String).fill_null("")).rows()
    assert block == [list(r) for r in expected] and len(block) > 3000


def test_joined_addresses_keep_every_address_in_order_within_the_cap():
    rng = np.random.default_rng(5)
    rects = pl.DataFrame({"first_row": rng.integers(1, 1_048_576, 3000), "first_column": rng.integers(1, 16384, 3000)}
                         ).with_columns(pl.col("first_row").alias("last_row"),
                                        (pl.col("first_column") + rng.integers(0, 2, 3000)).alias("last_column"))
    written = addresses(rects)
    for cap in (40, 500, 32_000):
        joined = joined_addresses(written, cap)
        assert all(len(j) <= cap for j in joined)
        assert ",".join(joined).split(",") == written.to_list()
        assert len(joined) <= 1 + len(",".join(written.to_list())) // (cap - 30) * 2
    assert joined_addresses(pl.Series([], dtype=pl.String)) == []


def test_the_marks_log_lists_many_rectangles_per_row_and_the_next_run_clears_exactly_them(engine, monkeypatch):
    """The marks log holds the rectangles of a fill joined (cap lowered here so it takes several rows); the next
    Validate removes exactly the cells the first one painted."""
    monkeypatch.setattr(painter_module, "MAX_MARK_CHARS", 300)
    header, rows = _clients_with_two_mistakes_each(400, seed=4)
    payload = make_payload(template_book("client", [header, *rows]))
    book = open_book(payload, engine)
    bx.validate(book)
    first = book.json()["actions"]
    fills = of(first, "setRangeColor", 0)
    log = [row[MARKS_COL - 1:MARKS_COL + 2] for row in sheet_values(apply_actions(payload, first), SETTINGS_SHEET)]
    fill_rows = [r for r in log[1:] if r[2] == "fill"]
    assert 1 < len(fill_rows) < len(fills) // 10
    assert all(len(r[1]) <= 300 for r in fill_rows)
    assert sum(r[1].count(",") + 1 for r in fill_rows) == len(fills)

    again = open_book(apply_actions(payload, first), engine)
    bx.validate(again)
    second = again.json()["actions"]
    cleared = painted(first + of(second, "rangeClearFormats", 0))
    assert cleared == {}
    assert sum(a["row_count"] * a["column_count"] for a in of(second, "rangeClearFormats", 0)) == len(painted(first))
